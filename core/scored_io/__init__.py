"""Reading scored datasets (CSV or Parquet) into validated numpy batches (issue #5).

Pure: pyarrow and numpy, no Django, no pandas. `inspect_file` checks a stored file before
anything parses it (size, format by content, encoding, delimiter, header); `iter_batches`
streams only the mapped columns in batches, so memory stays flat in the number of rows,
and validates every value with the column and the 1-based data row (row 1 is the first
row after a CSV header, or the first row of a Parquet file) in its message.
`summarise_file` and `partial_for_row_groups` fold the batches into
`core.fairness.GroupCounts`; partials over a `row_group_plan` merge to the whole.

The code is split by sub-domain: ``schema`` (limits, error, mapping, file info,
batch), ``inspection`` (``inspect_file``), ``validation`` (record batch to ``Batch``),
``reading`` (``iter_batches``, ``iter_columns``) and ``counts`` (``summarise_file``,
``partial_for_row_groups``, ``row_group_plan``) and ``validating`` (``validate_file``: every
row of an upload in one pass, the worker's check). Everything is re-exported here.
"""

from __future__ import annotations

from core.scored_io.counts import partial_for_row_groups, row_group_plan, summarise_file
from core.scored_io.inspection import inspect_file
from core.scored_io.reading import iter_batches
from core.scored_io.reading import iter_columns as iter_columns
from core.scored_io.schema import DEFAULT_BATCH_ROWS as DEFAULT_BATCH_ROWS
from core.scored_io.schema import DEFAULT_MAX_GROUPS as DEFAULT_MAX_GROUPS
from core.scored_io.schema import DELIMITERS as DELIMITERS
from core.scored_io.schema import UNCOMPRESSED_FACTOR as UNCOMPRESSED_FACTOR
from core.scored_io.schema import Batch, ColumnMapping, FileInfo, ScoredDataError
from core.scored_io.validating import validate_file

# As before the split: ``iter_columns`` and the reading limits are importable from here
# but not listed in ``__all__``.
__all__ = [
    "Batch",
    "ColumnMapping",
    "FileInfo",
    "ScoredDataError",
    "inspect_file",
    "iter_batches",
    "partial_for_row_groups",
    "row_group_plan",
    "summarise_file",
    "validate_file",
]
