"""Bias summaries (issue #5): attach scored data to a model version, request a summary,
compute it in a worker, open findings for the policy's breaches, and submit a summary
as evidence for the "bias and harm testing" obligation.

Restart-safe by construction: a summary's result is written once, at the end, in the
transaction that also opens its findings and records the audit event, under a lock on
the summary row; a re-delivered task (``acks_late``) finds the summary done and writes
nothing. Large Parquet files are split into runs of row groups computed by separate
tasks (``BiasPartial``); the last share to finish, counted under the same lock, merges
the partial counts (exactly: they are integer counts) and finishes the summary. No
Celery result backend is needed.

One module per operation; import from here (``from fairness import services``):

- ``common``: the obligation's code, default thresholds, settings, who may run;
- ``datasets``: receive a scored file, check its first bytes, store it in quarantine
  (``scored_file_spool`` and ``scored_file_quarantine`` are also used by monitoring);
- ``validation``: the worker's check of every row, then publish or reject (the
  machinery, ``dataset_validate`` with a ``Validation``, is shared with monitoring);
- ``summary_request``: options, the policy's thresholds, asking for a summary;
- ``running``: the worker's computation, the fan-out over row groups and the merge,
  failures, the stale-summary safety net;
- ``results``: the stored result from counts, and the findings of its breaches;
- ``evidence``: a finished summary filed as obligation evidence;
- ``warehouse``: registered warehouse connections, query sources on them, and the
  counts pushed down to their engine (issue 17).

To replace a collaborator in a test, patch it where it is used (e.g.
``fairness.services.datasets.audit_record``), not on this package.
"""

from fairness.services.common import (
    BIAS_CONSIDERATION,
    DEFAULT_THRESHOLDS,
    can_run,
    max_upload_bytes,
)
from fairness.services.datasets import (
    Upload,
    parse_mapping,
    scored_dataset_upload,
    scored_file_quarantine,
    scored_file_spool,
)
from fairness.services.evidence import bias_summary_submit_evidence
from fairness.services.results import _flip_predictions, summarise_counts
from fairness.services.running import (
    bias_counts_read,
    bias_part_run,
    bias_summaries_stale,
    bias_summary_fail,
    bias_summary_run,
)
from fairness.services.summary_request import (
    bias_options,
    bias_summary_request,
    policy_thresholds,
)
from fairness.services.validation import scored_dataset_given_up, scored_dataset_validate
from fairness.services.warehouse import (
    scored_query_create,
    warehouse_connection_register,
    warehouse_connection_update,
)

__all__ = [
    "BIAS_CONSIDERATION",
    "DEFAULT_THRESHOLDS",
    "Upload",
    "_flip_predictions",
    "bias_counts_read",
    "bias_options",
    "bias_part_run",
    "bias_summaries_stale",
    "bias_summary_fail",
    "bias_summary_request",
    "bias_summary_run",
    "bias_summary_submit_evidence",
    "can_run",
    "max_upload_bytes",
    "parse_mapping",
    "policy_thresholds",
    "scored_dataset_given_up",
    "scored_dataset_upload",
    "scored_dataset_validate",
    "scored_file_quarantine",
    "scored_file_spool",
    "scored_query_create",
    "summarise_counts",
    "warehouse_connection_register",
    "warehouse_connection_update",
]
