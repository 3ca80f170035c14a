"""Asking for a bias summary: the options (reference groups, minimum group size,
favourable prediction) validated, the policy's thresholds filled in, and the summary
found or created by a fingerprint of them, its task queued after commit."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core import fairness, policy_rules
from fairness.models import BiasSummary, ScoredDataset
from fairness.services.common import BIAS_CONSIDERATION, DEFAULT_THRESHOLDS, can_run
from governance.selectors.obligations import obligations_for_rules
from inventory.models import ModelVersion
from notifications.jobs import enqueue

policy_rules.register_consumer(
    "fairness.services.summary_request.policy_thresholds",
    BIAS_CONSIDERATION,
    "disparate_impact_min",
    "equalized_odds_max_diff",
)


def policy_thresholds(version: ModelVersion) -> tuple[dict[str, float], str]:
    """The bias thresholds the policy sets for the version's use case, and where they
    come from (the use case's bias-and-harm-testing obligation, or the defaults)."""
    use_case = version.model.use_case
    rules = obligations_for_rules(use_case=use_case, version=version).get(BIAS_CONSIDERATION)
    if rules is None:
        return dict(DEFAULT_THRESHOLDS), (
            "product defaults (disparate impact below 0.8, equalized-odds difference above "
            f"0.1): {use_case.name!r} has no active bias-and-harm-testing obligation"
        )
    used = {
        k: float(v)
        for k, v in rules.items()
        if k in fairness.THRESHOLDS and isinstance(v, int | float) and not isinstance(v, bool)
    }
    level = rules.get("level", "")
    if not used:
        return {}, (
            f"the policy sets no bias threshold for {use_case.name!r} "
            f"(bias-and-harm-testing obligation, {level} level)"
        )
    return used, f"the bias-and-harm-testing obligation of {use_case.name!r} ({level} level)"


def _reference(reference: Any, sensitive: tuple[str, ...]) -> str | dict[str, str]:
    if reference in (None, "", "best"):
        return "best"
    if isinstance(reference, str):
        return reference
    if not isinstance(reference, Mapping):
        raise ValidationError({"reference": "Give 'best', a group label, or attribute: label."})
    out: dict[str, str] = {}
    for key, value in reference.items():
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise ValidationError({"reference": f"The reference group of {key} must be text."})
        names = [x.strip() for x in str(key).split(fairness.INTERSECTION_SEP.strip())]
        if key not in sensitive and not all(n in sensitive for n in names):
            raise ValidationError(
                {"reference": f"{key!r} is not a sensitive attribute of this dataset."}
            )
        out[key] = value
    # intersections of named references: Caucasian | Male for race x sex
    for k in range(2, len(sensitive) + 1):
        for combo in itertools.combinations(sensitive, k):
            name = fairness.INTERSECTION_SEP.join(combo)
            if name not in out and all(a in out for a in combo):
                out[name] = fairness.GROUP_SEP.join(out[a] for a in combo)
    return out or "best"


def bias_options(
    *,
    dataset: ScoredDataset,
    reference: Any = "best",
    min_group_size: int = 30,
    favourable_prediction: int = 1,
) -> dict[str, Any]:
    """The options of a summary, validated, with the policy's thresholds filled in.

    Raises ValidationError for a dataset that is not an evaluation dataset (a monitoring
    reference or production batch has no sensitive attributes to summarise: it was
    accepted, then failed in the worker; issue 13), and for one that is not valid yet
    (still validating, or rejected: issue 18)."""
    if dataset.unusable_reason():
        raise ValidationError({"dataset": dataset.unusable_reason()})
    if dataset.purpose != ScoredDataset.Purpose.EVALUATION:
        raise ValidationError(
            {
                "dataset": f"This dataset is a {dataset.get_purpose_display().lower()}: "
                "a bias summary is computed on an evaluation dataset (scored rows with "
                "outcomes and sensitive attributes). Upload one for the summary."
            }
        )
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
        raise ValidationError({"min_group_size": "Give a whole number of rows."})
    if not 0 <= min_group_size <= 1_000_000_000:
        raise ValidationError({"min_group_size": "Give a number of rows between 0 and 10^9."})
    if favourable_prediction not in (0, 1):
        raise ValidationError({"favourable_prediction": "The favourable prediction is 0 or 1."})
    sensitive = tuple(dataset.mapping["sensitive"])
    thresholds, source = policy_thresholds(dataset.model_version)
    return {
        "reference": _reference(reference, sensitive),
        "min_group_size": min_group_size,
        "favourable_prediction": favourable_prediction,
        "thresholds": thresholds,
        "thresholds_source": source,
    }


def _fingerprint(options: dict) -> str:
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


# --- Request --------------------------------------------------------------------------------


@transaction.atomic
def bias_summary_request(
    *,
    dataset: ScoredDataset,
    by: User | None,
    reference: Any = "best",
    min_group_size: int = 30,
    favourable_prediction: int = 1,
    queue: Callable[[int], None] | None = None,
) -> tuple[BiasSummary, bool]:
    """Ask for a bias summary of a dataset; the Celery task is queued after commit.

    The same options on the same dataset find the same summary (created False) unless it
    failed, in which case it is queued again; one still queued has its job wanted again
    (through the task outbox, ``notifications.jobs.enqueue``). Raises
    PermissionDenied unless ``by`` may change the version (None: the system), and
    ValidationError for bad options. ``queue(summary_id)`` replaces the task (the demo
    computes synchronously).
    """
    version = dataset.model_version
    if by is not None and not can_run(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads run summaries."
        )
    options = bias_options(
        dataset=dataset,
        reference=reference,
        min_group_size=min_group_size,
        favourable_prediction=favourable_prediction,
    )
    fingerprint = _fingerprint(options)
    summary = (
        BiasSummary.objects.select_for_update()
        .filter(dataset=dataset, fingerprint=fingerprint)
        .first()
    )
    created = summary is None
    if summary is None:
        summary = BiasSummary.objects.create(
            dataset=dataset,
            options=options,
            fingerprint=fingerprint,
            rows_total=dataset.rows,
            requested_by=by,
            requested_at=timezone.now(),
        )
        audit_record(
            action="bias_summary.requested",
            obj=summary,
            actor=by,
            reason=f"Thresholds from {options['thresholds_source']}.",
            parent=version,
        )
    elif summary.status == BiasSummary.Status.FAILED:
        old_error = summary.error
        summary.status = BiasSummary.Status.QUEUED
        summary.error = ""
        summary.rows_done = 0
        summary.finished_at = None
        summary.requested_at = timezone.now()
        summary.save()
        summary.partials.all().delete()
        audit_record(
            action="bias_summary.requeued",
            obj=summary,
            actor=by,
            reason=f"Run again after: {old_error}",
            changes={"status": ["failed", "queued"]},
            parent=version,
        )
        created = True
    elif summary.status != BiasSummary.Status.QUEUED or queue is not None:
        return summary, False
    # Asked again while still queued: its job is wanted again (the outbox keeps one row
    # per summary; a broker that was down gets it published).
    if queue is None:
        from fairness.tasks import bias_summary_run as bias_summary_run_task

        enqueue(bias_summary_run_task, kwargs={"summary_id": summary.pk})
    else:
        summary_id = summary.pk
        transaction.on_commit(lambda: queue(summary_id))
    return summary, created
