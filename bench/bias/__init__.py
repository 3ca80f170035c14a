"""The parts of `bench/bias_bench.py` (bias summaries, issue #5), one module per part.

- `data`: the seeded synthetic data, the files written from it, timing, the machine;
- `compute`: 1. in memory, ours against Aequitas and fairlearn;
- `files`: 2. end to end from a stored file, 3. peak memory of a child process and two
  processes over halves of a file;
- `report`: the results flattened into one table, the targets judged, and printed.

The command line stays `python bench/bias_bench.py` (see bench/README.md).
"""
