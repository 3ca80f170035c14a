"""Drafts of experiments and the lock on their protocol: the protocol checked and sized
(``protocol_plan``), a draft registered, edited or deleted, and the signature that starts
the experiment and locks its protocol (``experiment_start``)."""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.sso.signing import Credential, Reauthentication
from core import experiment_stats as st
from core import promotion_rules as rules
from core.experiment_stats.planning import Plan
from experiments import selectors as sel
from experiments.models import Experiment
from experiments.services.base import _audit, _locked, _require_run
from experiments.services.lifecycle import schedule_end_check
from governance.services.signing import reauthentication_record
from inventory.models import ModelVersion, UseCase
from reviews.models import Signature
from reviews.services.promotion import _check_password, printed_name

DEFAULT_WEEKS = 2

# --- The protocol ---------------------------------------------------------------------------


def protocol_plan(*, design: str, metric_kind: str, protocol: dict[str, Any]) -> Plan:
    """Validate a protocol and compute its sample size and duration
    (``core.experiment_stats.plan_protocol``).

    Raises ValidationError keyed by the protocol field at fault (``alpha``,
    ``split``, ``split.champion``, ``guardrails[0].name``...)."""
    plan, errors = st.plan_protocol(design=design, metric_kind=metric_kind, protocol=protocol)
    if errors:
        raise ValidationError(errors)
    return plan


def _check_fields(
    *,
    use_case: UseCase,
    name: str,
    champion: ModelVersion | None,
    challenger: ModelVersion | None,
    design: str,
    metric_kind: str,
    primary_metric: str,
    population: str,
    splitting: str,
    entity_key_name: str,
    protocol: dict[str, Any],
    assignment: str = Experiment.Assignment.PRODUCT,
    duration_days: int | None = None,
) -> Plan:
    errors: dict[str, str] = _run_errors(assignment, duration_days)
    if not (name or "").strip():
        errors["name"] = "Name the experiment."
    if not (primary_metric or "").strip():
        errors["primary_metric"] = "Say what the primary metric measures per unit."
    if not (population or "").strip():
        errors["population"] = "Describe the population (who or what is eligible)."
    if design not in Experiment.Design.values:
        errors["design"] = f"Choose one of {', '.join(Experiment.Design.values)}."
    if metric_kind not in Experiment.MetricKind.values:
        errors["metric_kind"] = f"Choose one of {', '.join(Experiment.MetricKind.values)}."
    if splitting not in Experiment.Splitting.values:
        errors["splitting"] = f"Choose one of {', '.join(Experiment.Splitting.values)}."
    elif design == Experiment.Design.AB and splitting == "hash" and not entity_key_name.strip():
        errors["entity_key_name"] = "Name the entity key the assignment hashes (e.g. customer_id)."
    for label, version in (("champion", champion), ("challenger", challenger)):
        if version is None:
            errors[label] = f"Choose the {label} version."
        elif version.model.use_case_id != use_case.pk:
            errors[label] = f"The {label} must be a version of this use case's models."
    if champion is not None and challenger is not None and champion.pk == challenger.pk:
        errors["challenger"] = "The champion and the challenger must be different versions."
    if errors:
        raise ValidationError(errors)
    return protocol_plan(design=design, metric_kind=metric_kind, protocol=protocol)


def _run_errors(assignment: str, duration_days: int | None) -> dict[str, str]:
    """Who assigns the arms and the fixed duration, checked (issue 14)."""
    errors = {}
    if assignment not in Experiment.Assignment.values:
        errors["assignment"] = f"Choose one of {', '.join(Experiment.Assignment.values)}."
    if duration_days is not None and (
        isinstance(duration_days, bool)
        or not isinstance(duration_days, int)
        or not 1 <= duration_days <= st.MAX_PLANNED_DAYS
    ):
        errors["duration_days"] = f"A whole number of days from 1 to {st.MAX_PLANNED_DAYS}."
    return errors


def default_duration(planned_days: int | None) -> int:
    """Whole weeks covering the days the sample size needs at the planned traffic (two
    weeks when no traffic was given): weekly cycles and novelty effects (issue 14)."""
    weeks = math.ceil((planned_days or DEFAULT_WEEKS * 7) / 7)
    return max(1, weeks) * 7


def _apply(experiment: Experiment, plan: Plan, fields: dict[str, Any]) -> None:
    for key in ("name", "hypothesis", "primary_metric", "population", "entity_key_name"):
        setattr(experiment, key, (fields.get(key) or "").strip())
    experiment.champion = fields["champion"]
    experiment.challenger = fields["challenger"]
    experiment.design = fields["design"]
    experiment.metric_kind = fields["metric_kind"]
    experiment.splitting = (
        fields["splitting"] if fields["design"] == Experiment.Design.AB else "random"
    )
    experiment.protocol = plan.protocol.to_dict()
    experiment.sample_size = plan.sample_size.to_dict()
    experiment.planned_units = plan.sample_size.total
    experiment.planned_days = plan.sample_size.duration_days_ceil
    ab = fields["design"] == Experiment.Design.AB
    experiment.assignment = (
        fields.get("assignment") or Experiment.Assignment.PRODUCT
        if ab
        else Experiment.Assignment.PRODUCT
    )
    experiment.duration_days = fields.get("duration_days") or default_duration(
        experiment.planned_days
    )


@transaction.atomic
def experiment_create(
    *,
    use_case: UseCase,
    by: User,
    name: str,
    champion: ModelVersion | None,
    challenger: ModelVersion | None,
    design: str,
    metric_kind: str,
    primary_metric: str,
    population: str,
    protocol: dict[str, Any],
    splitting: str = Experiment.Splitting.HASH,
    entity_key_name: str = "",
    hypothesis: str = "",
    salt: str | None = None,
    assignment: str = Experiment.Assignment.PRODUCT,
    duration_days: int | None = None,
) -> Experiment:
    """Register a draft experiment. Raises PermissionDenied for anyone but the use
    case's data scientists and governance leads; ValidationError (per field) for a bad
    protocol, versions of another use case or the same version in both arms. ``salt``
    seeds the assignment (random unless given, e.g. by the demo loader or tests)."""
    _require_run(by, use_case)
    fields = {
        "name": name,
        "hypothesis": hypothesis,
        "champion": champion,
        "challenger": challenger,
        "design": design,
        "metric_kind": metric_kind,
        "primary_metric": primary_metric,
        "population": population,
        "splitting": splitting,
        "entity_key_name": entity_key_name,
        "assignment": assignment,
        "duration_days": duration_days,
    }
    plan = _check_fields(use_case=use_case, protocol=protocol, **_kw(fields))
    now = timezone.now()
    experiment = Experiment(
        use_case=use_case,
        owner=by,
        created_at=now,
        updated_at=now,
        salt=(salt or "").strip()[:64] or secrets.token_hex(16),
    )
    _apply(experiment, plan, fields)
    experiment.full_clean()
    experiment.save()
    _audit("experiment.created", experiment, by=by, reason=experiment.name, status=(None, "draft"))
    return experiment


def _kw(fields: dict[str, Any]) -> dict[str, Any]:
    """The draft's fields as ``_check_fields`` takes them: a missing text is empty (the
    versions stay None) and the hypothesis, which is free text, is left out."""
    return {
        k: v if v is not None or k in ("champion", "challenger", "duration_days") else ""
        for k, v in fields.items()
        if k != "hypothesis"
    }


@transaction.atomic
def experiment_update(*, experiment: Experiment, by: User, **fields: Any) -> Experiment:
    """Edit a draft (same arguments as ``experiment_create`` but the use case). Raises
    ValidationError once the experiment has started: its protocol is locked."""
    experiment = _locked(experiment)
    _require_run(by, experiment.use_case)
    if not experiment.is_draft:
        raise ValidationError(
            f"The experiment is {experiment.get_status_display().lower()}: its protocol was "
            "signed and is locked. Abandon it (with a reason) and register a new one."
        )
    current = {
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "champion": experiment.champion,
        "challenger": experiment.challenger,
        "design": experiment.design,
        "metric_kind": experiment.metric_kind,
        "primary_metric": experiment.primary_metric,
        "population": experiment.population,
        "splitting": experiment.splitting,
        "entity_key_name": experiment.entity_key_name,
        "assignment": experiment.assignment,
        "duration_days": experiment.duration_days,
    }
    unknown = set(fields) - set(current) - {"protocol"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    protocol = fields.pop("protocol", None)
    if protocol is not None and "duration_days" not in fields:
        fields["duration_days"] = None  # a new plan: its default duration again
    if protocol is None:
        protocol = st.input_fields(experiment.protocol)
    merged = {**current, **fields}
    plan = _check_fields(use_case=experiment.use_case, protocol=protocol, **_kw(merged))
    before = sel.protocol_document(experiment)
    _apply(experiment, plan, merged)
    experiment.updated_at = timezone.now()
    experiment.full_clean()
    experiment.save()
    after = sel.protocol_document(experiment)
    changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    _audit("experiment.updated", experiment, by=by, **changed)
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment, by: User) -> None:
    """Delete a draft (nothing was signed or observed yet)."""
    experiment = _locked(experiment)
    _require_run(by, experiment.use_case)
    if not experiment.is_draft:
        raise ValidationError("Only a draft can be deleted; a started experiment is abandoned.")
    _audit("experiment.deleted", experiment, by=by, status=("draft", None))
    experiment.delete()


# --- Start: sign and lock the protocol -------------------------------------------------------


def experiment_start(
    *,
    experiment: Experiment,
    by: User,
    password: Credential,
    reason: str = "",
    via_token: bool = False,
) -> Signature:
    """Sign the protocol with the password typed now: the experiment runs and its
    protocol is locked. The signature's manifest is the protocol document and its
    hash the protocol's SHA-256. An API token can never sign (PermissionDenied)."""
    if via_token:
        raise PermissionDenied(
            "An API token cannot sign: start the experiment in the browser with your password."
        )
    _start_checks(experiment, by)
    reauth = _check_password(
        by, password, f"start experiment #{experiment.pk}", fields={"reason": reason}
    )
    return _start(experiment=experiment, by=by, reason=reason, reauth=reauth)


def experiment_start_unchecked(
    *, experiment: Experiment, by: User, auth_method: str, now=None
) -> Signature:
    """Start without a password, recording ``auth_method`` honestly, at ``now`` (the
    demo's experiments started weeks ago and ran their fixed duration). Demo loader
    only."""
    _start_checks(experiment, by)
    return _start(experiment=experiment, by=by, reason="", auth_method=auth_method, now=now)


def _start_checks(experiment: Experiment, by: User) -> None:
    _require_run(by, experiment.use_case)
    if not experiment.is_draft:
        raise ValidationError(f"The experiment is already {experiment.get_status_display()}.")


@transaction.atomic
def _start(
    *,
    experiment: Experiment,
    by: User,
    reason: str,
    auth_method: str = "password re-entry",
    now=None,
    reauth: Reauthentication | None = None,
) -> Signature:
    experiment = _locked(experiment)
    _start_checks(experiment, by)
    # the stored protocol must still be valid (it was when saved; the stats may be stricter)
    protocol_plan(
        design=experiment.design,
        metric_kind=experiment.metric_kind,
        protocol=st.input_fields(experiment.protocol),
    )
    document = sel.protocol_document(experiment)
    digest = rules.manifest_hash(document)
    now = now or timezone.now()
    signature = Signature.objects.create(
        experiment=experiment,
        signer=by,
        printed_name=printed_name(by),
        signed_at=now,
        meaning=Signature.Meaning.PROTOCOL_LOCKED,
        reason=(reason or "").strip(),
        manifest=document,
        manifest_hash=digest,
        auth_method=reauth.method if reauth else auth_method,
    )
    if reauth:
        reauthentication_record(reauth, obj=experiment, by=by, signature=signature.pk)
    experiment.status = Experiment.Status.RUNNING
    experiment.protocol_sha256 = digest
    experiment.started_at = now
    # The fixed duration (issue 14): the start is the signature, the end whole weeks
    # later by default; the test ends at the later of this end and the sample size.
    days = experiment.duration_days or experiment.planned_days
    experiment.planned_end = now + timedelta(days=days) if days else None
    experiment.updated_at = now
    experiment.save(
        update_fields=["status", "protocol_sha256", "started_at", "planned_end", "updated_at"]
    )
    _audit(
        "experiment.started",
        experiment,
        by=by,
        reason=reason or "Protocol signed and locked.",
        status=("draft", "running"),
        protocol_sha256=(None, digest),
        signature=(None, signature.pk),
    )
    schedule_end_check(experiment)
    return signature
