"""The workers' computations: sizes, batches and time limits, read from the environment
(``governance.settings`` has loaded ``.env`` into it before importing this module).
Split from the settings module to keep each under the size limit; every variable is in
``.env.example``."""

import os

import environ

env = environ.Env()

# --- Bias summaries (issue #5) ----------------------------------------------------
# Largest scored dataset accepted (checked before parsing); 2 GiB by default.
SCORED_DATA_MAX_BYTES = env.int("SCORED_DATA_MAX_BYTES", default=2 * 1024**3)
# Rows read per batch (memory stays flat in the file's rows; progress is saved per batch).
BIAS_BATCH_ROWS = env.int("BIAS_BATCH_ROWS", default=1_000_000)
# Distinct values a sensitive attribute may have (more: it is an identifier, refused).
BIAS_MAX_GROUPS = env.int("BIAS_MAX_GROUPS", default=1_000)
# Parquet files with at least this many rows are split into BIAS_SPLIT_PARTS shares of
# row groups, one task each, merged by the last one to finish.
BIAS_SPLIT_MIN_ROWS = env.int("BIAS_SPLIT_MIN_ROWS", default=5_000_000)
BIAS_SPLIT_PARTS = env.int("BIAS_SPLIT_PARTS", default=4)
# The heavy queue's real parallelism (shares that can run at once, over every host): a
# file is split into no more shares than this, and not at all below 2, where it cannot
# pay (on 2 cores a 4-way split was slower than one task: docs/benchmarks.md). Default:
# the heavy worker's processes (CELERY_HEAVY_CONCURRENCY, 2) capped by this host's cores
# less one for the web and light processes, so 1 (no split) on 2 cores.
BIAS_SPLIT_WORKERS = env.int(
    "BIAS_SPLIT_WORKERS",
    default=min(env.int("CELERY_HEAVY_CONCURRENCY", default=2), max((os.cpu_count() or 1) - 1, 1)),
)
BIAS_TASK_SOFT_TIME_LIMIT = env.int("BIAS_TASK_SOFT_TIME_LIMIT", default=3600)
BIAS_TASK_TIME_LIMIT = env.int("BIAS_TASK_TIME_LIMIT", default=3660)
# A queued or running summary silent for this long lost its task: queued again (a
# running one beats at every batch; a second task finding it alive leaves it alone).
BIAS_STALE_MINUTES = env.int("BIAS_STALE_MINUTES", default=5)

# --- Monitoring (issue #6) --------------------------------------------------------
# Rows read per batch of production data, and of a reference when its profile is built
# (the worker's memory stays near one batch: bench/monitoring_profile_bench.py).
MONITORING_BATCH_ROWS = env.int("MONITORING_BATCH_ROWS", default=1_000_000)
MONITORING_PROFILE_BATCH_ROWS = env.int("MONITORING_PROFILE_BATCH_ROWS", default=250_000)
MONITORING_TASK_SOFT_TIME_LIMIT = env.int("MONITORING_TASK_SOFT_TIME_LIMIT", default=1800)
MONITORING_TASK_TIME_LIMIT = env.int("MONITORING_TASK_TIME_LIMIT", default=1860)
