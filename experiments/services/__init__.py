"""Writes of pre-registered experiments (issue #7): drafts and their protocol, the
signature that starts an experiment and locks its protocol, outcomes, the end, the
analysis, the signed result and its submission as preproduction evidence.

The statistics are ``core.experiment_stats`` and the parsing and checking of outcomes
``core.experiment_outcomes`` (both pure). Every write checks the permission and the
status first, validates all of its input before writing anything, happens in one
transaction and records an audit event. Signing needs the password typed again
(``reviews.services.promotion._check_password``); an API token never signs.

Split by operation, each module holding its own helpers:

- ``base``: the limits, the audit record, the row lock, the permission to run.
- ``drafts``: the protocol checked and sized, drafts created, edited and deleted, and
  the start that signs and locks the protocol.
- ``assignment``: the arm of a unit while an A/B experiment runs.
- ``outcomes``: outcomes recorded by API or uploaded as CSV.
- ``lifecycle``: abandoning, the scheduled check and the end.
- ``analysis``: interim looks and the final analysis.
- ``results``: the signed result and its submission as evidence (only a valid result,
  and only one saying the challenger is better or non-inferior: issue 14).
- ``override``: a governance lead's signed override of a failed data-quality step.
- ``findings``: the finding a worse or inconclusive result opens on the challenger.
- ``emails``: the owner's e-mails, rendered for the shared outbox.

Every public name is re-exported here, so ``from experiments import services as svc;
svc.experiment_create(...)`` and ``from experiments.services import
render_notification`` (registered with the outbox) keep working. Each module imports
what it calls from the module that defines it, so a test that replaces a function
patches it where it is used: ``experiments.services.lifecycle.notify_owner`` for the
e-mail at the end, not ``experiments.services.notify_owner``.
"""

from __future__ import annotations

from core.experiment_stats.planning import Plan
from experiments.services.analysis import VERDICTS, experiment_analyse
from experiments.services.assignment import (
    MAX_BULK_KEYS,
    assignment_recipe,
    experiment_assign,
    experiment_assign_many,
)
from experiments.services.base import (
    CLAIM_TIMEOUT,
    EVIDENCE_CONSIDERATION,
    MAX_BATCH_ROWS,
    MAX_CSV_BYTES,
    MAX_PLANNED_DAYS,
    MAX_PLANNED_UNITS,
    MAX_ROW_ERRORS,
    PROTOCOL_INPUT_FIELDS,
)
from experiments.services.drafts import (
    experiment_create,
    experiment_delete,
    experiment_start,
    experiment_start_unchecked,
    experiment_update,
    protocol_plan,
)
from experiments.services.emails import (
    SUBJECTS,
    experiment_url,
    notify_owner,
    render_notification,
)
from experiments.services.findings import experiment_outcome_finding
from experiments.services.lifecycle import (
    END_REASON,
    accrual_srm_warn,
    analysis_request_refusal,
    end_if_due,
    experiment_abandon,
    experiment_analysis_request,
    experiment_end,
    experiment_end_check,
    experiments_check,
    schedule_end_check,
)
from experiments.services.outcomes import (
    outcome_layout,
    outcomes_csv_columns,
    outcomes_parse_csv,
    outcomes_record,
    outcomes_upload_csv,
    outcomes_upload_file,
)
from experiments.services.override import (
    experiment_result_override,
    override_document,
    override_refusal,
)
from experiments.services.results import (
    SignedResult,
    evidence_document,
    experiment_result_sign,
    experiment_result_sign_unchecked,
    experiment_submit_evidence,
    result_document,
)

__all__ = [
    "CLAIM_TIMEOUT",
    "END_REASON",
    "EVIDENCE_CONSIDERATION",
    "MAX_BATCH_ROWS",
    "MAX_CSV_BYTES",
    "MAX_PLANNED_DAYS",
    "MAX_PLANNED_UNITS",
    "MAX_ROW_ERRORS",
    "PROTOCOL_INPUT_FIELDS",
    "Plan",
    "SUBJECTS",
    "SignedResult",
    "VERDICTS",
    "evidence_document",
    "accrual_srm_warn",
    "analysis_request_refusal",
    "end_if_due",
    "experiment_abandon",
    "experiment_analysis_request",
    "experiment_analyse",
    "experiment_assign",
    "experiment_assign_many",
    "assignment_recipe",
    "MAX_BULK_KEYS",
    "experiment_create",
    "experiment_delete",
    "experiment_end",
    "experiment_end_check",
    "experiment_outcome_finding",
    "experiment_result_override",
    "experiment_result_sign",
    "experiment_result_sign_unchecked",
    "experiment_start",
    "experiment_start_unchecked",
    "experiment_submit_evidence",
    "experiment_update",
    "experiment_url",
    "experiments_check",
    "schedule_end_check",
    "notify_owner",
    "outcome_layout",
    "override_document",
    "override_refusal",
    "outcomes_csv_columns",
    "outcomes_parse_csv",
    "outcomes_record",
    "outcomes_upload_csv",
    "outcomes_upload_file",
    "protocol_plan",
    "render_notification",
    "result_document",
]
