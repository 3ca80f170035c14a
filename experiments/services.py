"""Writes of pre-registered experiments (issue #7): drafts and their protocol, the
signature that starts an experiment and locks its protocol, outcomes, the end, the
analysis, the signed result and its submission as preproduction evidence.

The statistics are ``core.experiment_stats`` (pure). Every write checks the
permission and the status first, validates all of its input before writing anything,
happens in one transaction and records an audit event. Signing needs the password
typed again (``reviews.services.promotion._check_password``); an API token never signs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from scipy import stats as sps

from audit.services import audit_record
from core import experiment_stats as st
from core import promotion_rules as rules
from experiments import permissions
from experiments import selectors as sel
from experiments.models import Experiment, ExperimentBatch, ExperimentOutcome
from governance.models import Obligation
from governance.selectors import obligation_list
from governance.services import obligation_submit_evidence
from inventory.models import ModelVersion, UseCase
from reviews.models import Notification, Signature
from reviews.services import notifications
from reviews.services.promotion import _check_password, printed_name

EVIDENCE_CONSIDERATION = "preproduction-verification"
MAX_BATCH_ROWS = 500_000
MAX_CSV_BYTES = 100 * 1024 * 1024
MAX_PLANNED_UNITS = 1_000_000_000
MAX_PLANNED_DAYS = 3_650
MAX_ROW_ERRORS = 20
CLAIM_TIMEOUT = timedelta(minutes=10)

# Protocol fields a draft's form or API may set (design and metric kind are columns).
PROTOCOL_INPUT_FIELDS = (
    "alpha", "power", "minimum_effect", "alternative", "higher_is_better",
    "baseline_proportion", "standard_deviation", "discordant_proportion", "split",
    "daily_traffic", "interim_looks", "spending", "srm_alpha", "max_missing_share",
    "max_duplicate_share", "mcnemar_exact", "guardrails",
)  # fmt: skip

VERDICTS = {
    st.REJECT_BETTER: "Challenger better",
    st.REJECT_WORSE: "Challenger worse",
    st.NO_DIFFERENCE: "No significant difference",
}


def _audit(action: str, obj, *, by: User | None, reason: str = "", **changes: Any) -> None:
    audit_record(
        action=action,
        obj=obj,
        actor=by,
        reason=reason,
        changes={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
        parent=getattr(obj, "use_case", None),
    )


def _locked(experiment: Experiment) -> Experiment:
    return (
        Experiment.objects.select_for_update()
        .select_related("use_case", "champion", "challenger", "owner")
        .get(pk=experiment.pk)
    )


def _require_run(user: User, use_case: UseCase) -> None:
    if not permissions.can_run_experiment(user, use_case):
        raise PermissionDenied(
            "Only the use case's data scientists and governance leads run its experiments."
        )


# --- The protocol ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    protocol: st.Protocol
    sample_size: st.SampleSize


def protocol_plan(*, design: str, metric_kind: str, protocol: dict[str, Any]) -> Plan:
    """Validate a protocol and compute its sample size and duration.

    Raises ValidationError keyed by the protocol field at fault (``alpha``,
    ``split``, ``split.champion``, ``guardrails[0].name``...)."""
    if not isinstance(protocol, dict):
        raise ValidationError({"protocol": "The protocol must be an object of its fields."})
    unknown = sorted(set(protocol) - set(PROTOCOL_INPUT_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: "Unknown protocol field."})
    raw = {k: v for k, v in protocol.items() if v is not None}
    if design == Experiment.Design.SHADOW:
        raw.pop("split", None)  # both models score every unit: there is no split
    try:
        checked = st.validate_protocol({"design": design, "metric_kind": metric_kind, **raw})
        size = st.sample_size(checked)
    except st.ProtocolError as exc:
        raise ValidationError({exc.field: exc.message}) from exc
    except (ValueError, ArithmeticError) as exc:
        raise ValidationError(
            {"minimum_effect": f"No sample size for this protocol: {exc}"}
        ) from exc
    if size.total > MAX_PLANNED_UNITS:
        raise ValidationError(
            {"minimum_effect": f"Needs {size.total:,} units: the minimum effect is too small."}
        )
    if size.duration_days_ceil is not None and size.duration_days_ceil > MAX_PLANNED_DAYS:
        raise ValidationError(
            {"daily_traffic": f"At this traffic the experiment would run "
             f"{size.duration_days_ceil:,} days (more than {MAX_PLANNED_DAYS:,})."}
        )  # fmt: skip
    return Plan(checked, size)


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
) -> Plan:
    errors: dict[str, str] = {}
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
) -> Experiment:
    """Register a draft experiment. Raises PermissionDenied for anyone but the use
    case's data scientists and governance leads; ValidationError (per field) for a bad
    protocol, versions of another use case or the same version in both arms. ``salt``
    seeds the assignment (random unless given, e.g. by the demo loader or tests)."""
    _require_run(by, use_case)
    fields = {
        "name": name, "hypothesis": hypothesis, "champion": champion, "challenger": challenger,
        "design": design, "metric_kind": metric_kind, "primary_metric": primary_metric,
        "population": population, "splitting": splitting, "entity_key_name": entity_key_name,
    }  # fmt: skip
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
    return {k: v if v is not None or k in ("champion", "challenger") else "" for k, v in
            fields.items() if k != "hypothesis"}  # fmt: skip


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
        "name": experiment.name, "hypothesis": experiment.hypothesis,
        "champion": experiment.champion, "challenger": experiment.challenger,
        "design": experiment.design, "metric_kind": experiment.metric_kind,
        "primary_metric": experiment.primary_metric, "population": experiment.population,
        "splitting": experiment.splitting, "entity_key_name": experiment.entity_key_name,
    }  # fmt: skip
    unknown = set(fields) - set(current) - {"protocol"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    protocol = fields.pop("protocol", None)
    if protocol is None:
        protocol = {k: v for k, v in experiment.protocol.items() if k in PROTOCOL_INPUT_FIELDS}
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
    *, experiment: Experiment, by: User, password: str, reason: str = "", via_token: bool = False
) -> Signature:
    """Sign the protocol with the password typed now: the experiment runs and its
    protocol is locked. The signature's manifest is the protocol document and its
    hash the protocol's SHA-256. An API token can never sign (PermissionDenied)."""
    if via_token:
        raise PermissionDenied(
            "An API token cannot sign: start the experiment in the browser with your password."
        )
    _start_checks(experiment, by)
    _check_password(by, password, f"start experiment #{experiment.pk}")
    return _start(experiment=experiment, by=by, reason=reason)


def experiment_start_unchecked(*, experiment: Experiment, by: User, auth_method: str) -> Signature:
    """Start without a password, recording ``auth_method`` honestly. Demo loader only."""
    _start_checks(experiment, by)
    return _start(experiment=experiment, by=by, reason="", auth_method=auth_method)


def _start_checks(experiment: Experiment, by: User) -> None:
    _require_run(by, experiment.use_case)
    if not experiment.is_draft:
        raise ValidationError(f"The experiment is already {experiment.get_status_display()}.")


@transaction.atomic
def _start(
    *, experiment: Experiment, by: User, reason: str, auth_method: str = "password re-entry"
) -> Signature:
    experiment = _locked(experiment)
    _start_checks(experiment, by)
    # the stored protocol must still be valid (it was when saved; the stats may be stricter)
    protocol_plan(
        design=experiment.design,
        metric_kind=experiment.metric_kind,
        protocol={k: v for k, v in experiment.protocol.items() if k in PROTOCOL_INPUT_FIELDS},
    )
    document = sel.protocol_document(experiment)
    digest = rules.manifest_hash(document)
    now = timezone.now()
    signature = Signature.objects.create(
        experiment=experiment,
        signer=by,
        printed_name=printed_name(by),
        signed_at=now,
        meaning=Signature.Meaning.PROTOCOL_LOCKED,
        reason=(reason or "").strip(),
        manifest=document,
        manifest_hash=digest,
        auth_method=auth_method,
    )
    experiment.status = Experiment.Status.RUNNING
    experiment.protocol_sha256 = digest
    experiment.started_at = now
    experiment.planned_end = (
        now + timedelta(days=experiment.planned_days) if (experiment.planned_days) else None
    )
    experiment.updated_at = now
    experiment.save(update_fields=["status", "protocol_sha256", "started_at", "planned_end",
                                   "updated_at"])  # fmt: skip
    _audit(
        "experiment.started",
        experiment,
        by=by,
        reason=reason or "Protocol signed and locked.",
        status=("draft", "running"),
        protocol_sha256=(None, digest),
        signature=(None, signature.pk),
    )
    return signature


@transaction.atomic
def experiment_abandon(*, experiment: Experiment, by: User, reason: str) -> Experiment:
    """Abandon a draft or a running experiment, with a reason (its data stay)."""
    experiment = _locked(experiment)
    _require_run(by, experiment.use_case)
    if experiment.status not in (Experiment.Status.DRAFT, Experiment.Status.RUNNING):
        raise ValidationError(
            f"An experiment that is {experiment.get_status_display().lower()} cannot be abandoned."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the experiment is abandoned."})
    before = experiment.status
    experiment.status = Experiment.Status.ABANDONED
    experiment.abandoned_at = timezone.now()
    experiment.abandon_reason = reason
    experiment.updated_at = experiment.abandoned_at
    experiment.save(update_fields=["status", "abandoned_at", "abandon_reason", "updated_at"])
    _audit("experiment.abandoned", experiment, by=by, reason=reason, status=(before, "abandoned"))
    return experiment


# --- Outcomes -------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A number, None for an empty cell; ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        number = float(value.strip())
    else:
        raise ValueError
    if not math.isfinite(number):
        raise ValueError
    return number


def _binary_ok(kind: str, value: float | None) -> bool:
    return value is None or kind != "proportion" or value in (0.0, 1.0)


def _clean_row(experiment: Experiment, split, guards: dict[str, str], row: Any) -> dict[str, Any]:
    """One unit's row, checked; raises ValueError with a message naming the field."""
    if not isinstance(row, dict):
        raise ValueError("must be an object")
    key = row.get("entity_key")
    key = str(key).strip() if isinstance(key, str | int) and not isinstance(key, bool) else ""
    if not key:
        raise ValueError("entity_key: an unknown unit (empty key)")
    if len(key) > 200:
        raise ValueError("entity_key: longer than 200 characters")
    kind = experiment.metric_kind
    out: dict[str, Any] = {"entity_key": key, "arm": "", "guardrails": {}}
    if experiment.is_paired:
        if row.get("arm") not in (None, ""):
            raise ValueError("arm: a shadow comparison has no arms (both models score each unit)")
        for side in ("champion_outcome", "challenger_outcome"):
            try:
                out[side] = _number(row.get(side))
            except ValueError:
                raise ValueError(f"{side}: not a number: {row.get(side)!r}") from None
            if not _binary_ok(kind, out[side]):
                raise ValueError(f"{side}: a proportion's outcome is 0 or 1, not {out[side]:g}")
        if (out["champion_outcome"] is None) != (out["challenger_outcome"] is None):
            raise ValueError("give both models' outcomes for a unit, or neither (missing)")
    else:
        arm = row.get("arm")
        if arm not in st.ARMS:
            raise ValueError(f"arm: unknown arm {arm!r}; use champion or challenger")
        assigned = st.assign_arm(experiment.salt, key, split)
        if arm != assigned:
            raise ValueError(f"arm: unit {key!r} is assigned to the {assigned}, not the {arm}")
        out["arm"] = arm
        try:
            out["outcome"] = _number(row.get("outcome"))
        except ValueError:
            raise ValueError(f"outcome: not a number: {row.get('outcome')!r}") from None
        if not _binary_ok(kind, out["outcome"]):
            raise ValueError(f"outcome: a proportion's outcome is 0 or 1, not {out['outcome']:g}")
    given = row.get("guardrails") or {}
    if not isinstance(given, dict):
        raise ValueError("guardrails: must be an object of guardrail values")
    for name, value in given.items():
        if name not in guards:
            raise ValueError(f"guardrails: {name!r} is not a registered guardrail")
        pairs = (
            [(a, (value or {}).get(a) if isinstance(value, dict) else "bad") for a in st.ARMS]
            if experiment.is_paired
            else [(None, value)]
        )
        cleaned = {}
        for side, v in pairs:
            where = f"guardrails.{name}" + (f".{side}" if side else "")
            try:
                number = _number(v)
            except ValueError:
                raise ValueError(f"{where}: not a number: {v!r}") from None
            if not _binary_ok(guards[name], number):
                raise ValueError(f"{where}: a proportion guardrail is 0 or 1, not {number:g}")
            cleaned[side] = number
        if experiment.is_paired:
            if any(v is not None for v in cleaned.values()):
                out["guardrails"][name] = cleaned
        elif cleaned[None] is not None:
            out["guardrails"][name] = cleaned[None]
    return out


def outcomes_record(
    *,
    experiment: Experiment,
    by: User | None,
    rows: list[dict[str, Any]],
    source: str = ExperimentBatch.Source.API,
    name: str = "",
    sha256: str = "",
) -> ExperimentBatch:
    """Store a batch of observed units, all or nothing.

    Every row is checked first: the unit's key, its arm (known, and the arm the
    deterministic assignment gives its key), numeric outcomes (0 or 1 for a
    proportion), registered guardrails. Any problem raises ValidationError listing
    the rows at fault (up to 20) and nothing is stored. Outcomes are accepted while
    the experiment runs and after it ended (late outcomes), not before or after the
    analysis. Duplicated units are stored as sent and counted by the analysis."""
    if by is not None:
        _require_run(by, experiment.use_case)
    if not isinstance(rows, list) or not rows:
        raise ValidationError({"rows": "The batch is empty."})
    if len(rows) > MAX_BATCH_ROWS:
        raise ValidationError({"rows": f"At most {MAX_BATCH_ROWS:,} rows per batch."})
    protocol = experiment.protocol
    guards = {g["name"]: g["metric_kind"] for g in protocol.get("guardrails") or []}
    split = protocol.get("split")
    cleaned, errors = [], []
    for i, row in enumerate(rows, start=1):
        try:
            cleaned.append(_clean_row(experiment, split, guards, row))
        except ValueError as exc:
            errors.append(f"Row {i}: {exc}")
            if len(errors) >= MAX_ROW_ERRORS:
                errors.append("(further rows not checked)")
                break
    if errors:
        raise ValidationError({"rows": errors})
    if not sha256:
        sha256 = hashlib.sha256(
            json.dumps(cleaned, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    return _write_batch(experiment, by, cleaned, source, name, sha256)


@transaction.atomic
def _write_batch(experiment, by, cleaned, source, name, sha256) -> ExperimentBatch:
    experiment = _locked(experiment)
    if experiment.status not in (Experiment.Status.RUNNING, Experiment.Status.ENDED):
        raise ValidationError(
            "Outcomes are accepted while the experiment runs (and until it is analysed); "
            f"it is {experiment.get_status_display().lower()}."
        )
    batch = ExperimentBatch.objects.create(
        experiment=experiment,
        source=source,
        name=(name or "")[:255],
        sha256=sha256,
        rows=len(cleaned),
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    ExperimentOutcome.objects.bulk_create(
        (
            ExperimentOutcome(
                experiment=experiment,
                batch=batch,
                entity_key=r["entity_key"],
                arm=r["arm"],
                outcome=r.get("outcome"),
                champion_outcome=r.get("champion_outcome"),
                challenger_outcome=r.get("challenger_outcome"),
                guardrails=r["guardrails"],
            )
            for r in cleaned
        ),
        batch_size=2000,
    )
    _audit(
        "experiment.outcomes_recorded",
        experiment,
        by=by,
        reason=f"{len(cleaned)} rows ({batch.get_source_display()}{': ' + name if name else ''})",
        batch=(None, batch.pk),
        sha256=(None, sha256),
    )
    return batch


def outcomes_csv_columns(experiment: Experiment) -> list[str]:
    """The columns an outcomes CSV has: the key, the arm and the outcome (A/B) or both
    models' outcomes (shadow), then one column per guardrail (shadow: two)."""
    guards = [g["name"] for g in experiment.protocol.get("guardrails") or []]
    if experiment.is_paired:
        cols = ["entity_key", "champion_outcome", "challenger_outcome"]
        return cols + [f"{g}.{arm}" for g in guards for arm in st.ARMS]
    return ["entity_key", "arm", "outcome", *guards]


def outcomes_parse_csv(experiment: Experiment, data: bytes) -> list[dict[str, Any]]:
    """CSV bytes -> rows for ``outcomes_record``. Raises ValidationError on a file that
    is not UTF-8 CSV, lacks a required column or has an unknown one."""
    if len(data) > MAX_CSV_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_CSV_BYTES // 2**20} MB."})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": f"Not UTF-8 text (byte {exc.start})."}) from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationError({"file": "The file is empty."})
    header = [h.strip() for h in header]
    expected = outcomes_csv_columns(experiment)
    required = expected[:3] if experiment.is_paired else expected[:3]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ValidationError(
            {"file": f"{'; '.join(parts).capitalize()}. Expected: {', '.join(expected)}."}
        )
    if len(set(header)) != len(header):
        raise ValidationError({"file": "A column appears twice in the header."})
    rows = []
    for line, values in enumerate(reader, start=2):
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise ValidationError(
                {"file": f"Line {line}: {len(values)} cells for {len(header)} columns."}
            )
        cell = dict(zip(header, values, strict=True))
        row: dict[str, Any] = {"entity_key": cell["entity_key"]}
        if experiment.is_paired:
            row["champion_outcome"] = cell["champion_outcome"]
            row["challenger_outcome"] = cell["challenger_outcome"]
            guards: dict[str, Any] = {}
            for col, value in cell.items():
                if "." in col and col not in expected[:3] and value.strip():
                    name, arm = col.rsplit(".", 1)
                    guards.setdefault(name, {a: None for a in st.ARMS})[arm] = value
            row["guardrails"] = guards
        else:
            row["arm"] = cell["arm"].strip()
            row["outcome"] = cell["outcome"]
            row["guardrails"] = {c: cell[c] for c in expected[3:] if c in cell and cell[c].strip()}
        rows.append(row)
        if len(rows) > MAX_BATCH_ROWS:
            raise ValidationError({"file": f"At most {MAX_BATCH_ROWS:,} rows per file."})
    if not rows:
        raise ValidationError({"file": "The file has a header but no rows."})
    return rows


def outcomes_upload_csv(*, experiment: Experiment, by: User, data: bytes, name: str = ""):
    """Parse and record a CSV of outcomes (all or nothing)."""
    if by is not None:
        _require_run(by, experiment.use_case)
    rows = outcomes_parse_csv(experiment, data)
    # a row error names its line in the file (the header is line 1)
    try:
        return outcomes_record(
            experiment=experiment,
            by=by,
            rows=rows,
            source=ExperimentBatch.Source.CSV,
            name=name,
            sha256=hashlib.sha256(data).hexdigest(),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "rows" in exc.error_dict:
            messages = [
                m.replace("Row ", "Line ", 1) if m.startswith("Row ") else m
                for m in exc.message_dict["rows"]
            ]
            messages = [_shift_line(m) for m in messages]
            raise ValidationError({"file": messages}) from exc
        raise


def _shift_line(message: str) -> str:
    if message.startswith("Line "):
        head, _, rest = message.partition(":")
        number = head.removeprefix("Line ").strip()
        if number.isdigit():
            return f"Line {int(number) + 1}:{rest}"
    return message


# --- Assignment --------------------------------------------------------------------------


def experiment_assign(*, experiment: Experiment, key: str) -> str:
    """The arm of an entity key: deterministic (``assign_arm``), only while running."""
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError(
            f"Assignments are given while the experiment runs; it is "
            f"{experiment.get_status_display().lower()}."
        )
    if experiment.is_paired:
        raise ValidationError("A shadow comparison scores every request with both models.")
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError({"key": "Give the entity key (1 to 200 characters)."})
    return st.assign_arm(experiment.salt, key, experiment.protocol["split"])


# --- The end ------------------------------------------------------------------------------


def experiments_check(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Scheduled: end the running experiments that reached their planned sample size
    or end date (e-mailing the owner), and list those due for an analysis (ended, or
    at an interim look). Idempotent."""
    now = now or timezone.now()
    ended, analyse = [], []
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING).order_by("pk"):
        acc = sel.accrual(experiment, now=now)
        if acc.complete or (experiment.planned_end and now >= experiment.planned_end):
            why = (
                "the planned sample size was reached"
                if acc.complete
                else "the planned end date was reached"
            )
            if experiment_end(experiment=experiment, reason=why, now=now):
                ended.append(experiment.pk)
            analyse.append(experiment.pk)
            continue
        look = sel.next_look(experiment)
        if look is not None and acc.fraction >= look[1]:
            analyse.append(experiment.pk)
    analyse += list(
        Experiment.objects.filter(status=Experiment.Status.ENDED)
        .exclude(pk__in=analyse)
        .values_list("pk", flat=True)
    )
    return {"ended": ended, "analyse": analyse}


@transaction.atomic
def experiment_end(*, experiment: Experiment, reason: str, now: datetime | None = None) -> bool:
    """Mark a running experiment ended and e-mail its owner (once). Returns whether it
    changed anything."""
    experiment = _locked(experiment)
    if experiment.status != Experiment.Status.RUNNING:
        return False
    experiment.status = Experiment.Status.ENDED
    experiment.ended_at = now or timezone.now()
    experiment.end_reason = reason[:200]
    experiment.updated_at = experiment.ended_at
    experiment.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    _audit("experiment.ended", experiment, by=None, reason=reason, status=("running", "ended"))
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ENDED)
    return True


# --- The analysis -------------------------------------------------------------------------


def _summary(kind: str, values: list[float]):
    if kind == "proportion":
        return st.BinomialCounts(int(sum(values)), len(values))
    return st.MeanSummary.from_values(values)


def _arm_band(kind: str, values: list[float], alpha: float) -> dict[str, Any]:
    """The metric of one arm with its two-sided 1 - alpha interval (for the chart)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "estimate": None, "ci_low": None, "ci_high": None}
    if kind == "proportion":
        p = sum(values) / n
        half = sps.norm.isf(alpha / 2) * math.sqrt(p * (1 - p) / n)
        return {"n": n, "estimate": p, "ci_low": max(0.0, p - half), "ci_high": min(1.0, p + half)}
    s = st.MeanSummary.from_values(values)
    half = sps.t.isf(alpha / 2, n - 1) * s.sd / math.sqrt(n) if n > 1 else float("nan")
    return st._jsonable({"n": n, "estimate": s.mean, "ci_low": s.mean - half,
                         "ci_high": s.mean + half})  # fmt: skip


def _test(experiment: Experiment, protocol: st.Protocol, data: sel.AnalysisData):
    kind = experiment.metric_kind
    if experiment.is_paired:
        champ, chall = data.values["champion"], data.values["challenger"]
        if kind == "proportion":
            paired = st.PairedBinaryCounts.from_outcomes(champ, chall)
        else:
            paired = st.MeanSummary.from_values([b - a for a, b in zip(champ, chall, strict=True)])
        return st.primary_test(protocol, paired=paired)
    return st.primary_test(
        protocol,
        champion=_summary(kind, data.values["champion"]),
        challenger=_summary(kind, data.values["challenger"]),
    )


def _guardrail_data(protocol: st.Protocol, data: sel.AnalysisData) -> dict[str, tuple]:
    out = {}
    for g in protocol.guardrails:
        values = data.guardrails.get(g.name, {})
        if all(len(values.get(a, [])) >= 2 for a in st.ARMS):
            out[g.name] = tuple(_summary(g.metric_kind, values[a]) for a in st.ARMS)
    return out


def _information_fraction(experiment: Experiment, data: sel.AnalysisData) -> float:
    planned = experiment.sample_size.get("maximum") or {}
    observed = data.with_outcome  # per arm, or "pairs"
    return min((observed.get(k, 0) / v for k, v in planned.items() if v), default=0.0)


def _boundaries(protocol: st.Protocol, taken: list[float], final: bool) -> st.SequentialDesign:
    """Boundaries for the observed fractions so far, then the planned remaining looks
    (spending by the fractions actually observed keeps alpha exact)."""
    planned = [t for t in protocol.information_fractions if t > (taken[-1] if taken else 0)]
    fractions = [*taken, 1.0] if final else [*taken, *[t for t in planned if t < 1.0], 1.0]
    return st.sequential_boundaries(
        fractions,
        alpha=protocol.alpha,
        spending=protocol.spending,
        alternative=protocol.test_alternative,
    )


def experiment_analyse(*, experiment_id: int) -> dict[str, Any]:
    """Run what is due: an interim look (sequential designs, when its information
    fraction is reached) or the final analysis (data quality first, then the registered
    test) of an ended experiment. Idempotent: an analysed experiment, or a look already
    taken, writes nothing. Returns what happened."""
    with transaction.atomic():
        experiment = _locked(Experiment(pk=experiment_id))
        if experiment.status == Experiment.Status.ANALYSED:
            return {"experiment": experiment.pk, "done": "already analysed"}
        if experiment.status == Experiment.Status.RUNNING:
            return _interim(experiment)
        if experiment.status != Experiment.Status.ENDED:
            return {"experiment": experiment.pk, "done": f"nothing to do ({experiment.status})"}
        result = _final(experiment)
        _store_result(experiment, result, status_before="ended")
        return {"experiment": experiment.pk, "done": "analysed", "verdict": result["verdict"]}


def _interim(experiment: Experiment) -> dict[str, Any]:
    look = sel.next_look(experiment)
    if look is None:
        return {"experiment": experiment.pk, "done": "no look due"}
    protocol = sel.protocol(experiment)
    data = sel.analysis_data(experiment)
    fraction = _information_fraction(experiment, data)
    if fraction < look[1]:
        return {"experiment": experiment.pk, "done": "no look due"}
    fraction = min(fraction, 0.999999)
    taken = [float(x["fraction"]) for x in experiment.looks or []]
    if taken and fraction <= taken[-1]:
        return {"experiment": experiment.pk, "done": "no look due"}
    try:
        test = _test(experiment, protocol, data)
    except st.ExperimentDataError as exc:
        return {"experiment": experiment.pk, "done": f"look not possible: {exc}"}
    z = st.equivalent_z(test)
    design = _boundaries(protocol, [*taken, fraction], final=False)
    zs = [*[float(x["z"]) for x in experiment.looks or []], z]
    seq = st.sequential_test(design, zs, higher_is_better=protocol.higher_is_better)
    k = len(zs)
    entry = {
        "look": k,
        "planned_fraction": look[1],
        "fraction": fraction,
        "n": test.n,
        "z": z,
        "boundary": design.boundaries[k - 1],
        "nominal_p": design.nominal_p[k - 1],
        "crossed": bool(seq.crossed[-1]),
        "decision": seq.decision,
        "at": timezone.now().isoformat(),
    }
    experiment.looks = [*(experiment.looks or []), entry]
    experiment.save(update_fields=["looks"])
    _audit("experiment.interim_look", experiment, by=None, reason=seq.decision, look=(None, k))
    if seq.stopped_at is None:
        return {"experiment": experiment.pk, "done": f"look {k}: continue"}
    experiment.status = Experiment.Status.ENDED
    experiment.ended_at = timezone.now()
    experiment.end_reason = f"the boundary was crossed at interim look {k}"
    experiment.save(update_fields=["status", "ended_at", "end_reason"])
    _audit("experiment.ended", experiment, by=None, reason=experiment.end_reason,
           status=("running", "ended"))  # fmt: skip
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ENDED)
    result = _final(experiment, stopped_early=True)
    _store_result(experiment, result, status_before="ended")
    return {"experiment": experiment.pk, "done": f"look {k}: stopped", "verdict": result["verdict"]}


def _final(experiment: Experiment, *, stopped_early: bool = False) -> dict[str, Any]:
    protocol = sel.protocol(experiment)
    data = sel.analysis_data(experiment)
    kind = experiment.metric_kind
    units = {"assigned": data.assigned, "with_outcome": data.with_outcome,
             "duplicated": data.duplicated, "unknown": 0}  # fmt: skip
    try:
        dq = st.data_quality(
            protocol,
            arm_counts=None if experiment.is_paired else data.assigned,
            units=units,
            guardrail_data=_guardrail_data(protocol, data),
        )
        dq_dict, dq_passed, problems = dq.to_dict(), dq.passed, list(dq.problems)
    except st.ExperimentDataError as exc:
        dq_dict, dq_passed, problems = None, False, [str(exc)]
    srm = (dq_dict or {}).get("srm")
    if experiment.is_paired:
        srm_verdict = "not applicable: paired design (both models score every unit)"
    elif srm is None:
        srm_verdict = "not computed: no units"
    else:
        srm_verdict = (
            f"sample-ratio mismatch (chi-square p = {srm['p_value']:.3g} < {srm['srm_alpha']})"
            if srm["mismatch"]
            else f"no sample-ratio mismatch (chi-square p = {srm['p_value']:.3g})"
        )
    test = seq = None
    error = ""
    try:
        test = _test(experiment, protocol, data)
    except st.ExperimentDataError as exc:
        error = str(exc)
    decision = test.decision if test else ""
    if test is not None and protocol.sequential:
        taken = [float(x["fraction"]) for x in experiment.looks or []]
        zs = [float(x["z"]) for x in experiment.looks or []]
        if stopped_early:
            design = _boundaries(protocol, taken, final=False)
            seq = st.sequential_test(design, zs, higher_is_better=protocol.higher_is_better)
        else:
            design = _boundaries(protocol, taken, final=True)
            seq = st.sequential_test(
                design, [*zs, st.equivalent_z(test)], higher_is_better=protocol.higher_is_better
            )
        decision = seq.decision
    if error:
        verdict = f"Not analysable: {error}"
    elif not dq_passed:
        verdict = "Not valid: data-quality checks failed"
    else:
        verdict = VERDICTS.get(decision, decision)
    side = "two-sided" if protocol.alternative == "two-sided" else "one-sided (challenger better)"
    rule = (
        f"Reject H0 when p <= alpha = {protocol.alpha:g} ({side}); the direction from the sign "
        f"of challenger minus champion ({'higher' if protocol.higher_is_better else 'lower'} "
        "is better). Data-quality problems void the decision."
    )
    if protocol.sequential:
        rule = (
            f"Group-sequential, {protocol.spending} alpha spending at looks "
            f"{list(protocol.information_fractions)}: stop when |z| crosses the look's "
            "boundary. " + rule
        )
    bands_values = data.values  # per arm; shadow: both models' outcomes on the same units
    return st._jsonable(
        {
            "analysed_at": timezone.now().isoformat(),
            "protocol_sha256": experiment.protocol_sha256,
            "data_quality": dq_dict,
            "data_quality_passed": dq_passed,
            "problems": problems,
            "srm_verdict": srm_verdict,
            "test": test.to_dict() if test else None,
            "sequential": seq.to_dict() if seq else None,
            "stopped_early": stopped_early,
            "decision": decision,
            "decision_rule": rule,
            "verdict": verdict,
            "error": error,
            "arms": {a: _arm_band(kind, bands_values[a], protocol.alpha) for a in st.ARMS},
            "units": units,
        }
    )


def _store_result(experiment: Experiment, result: dict[str, Any], *, status_before: str) -> None:
    experiment.result = result
    experiment.result_sha256 = rules.manifest_hash(result)
    experiment.status = Experiment.Status.ANALYSED
    experiment.analysed_at = timezone.now()
    experiment.updated_at = experiment.analysed_at
    experiment.save(update_fields=["result", "result_sha256", "status", "analysed_at",
                                   "updated_at"])  # fmt: skip
    _audit(
        "experiment.analysed",
        experiment,
        by=None,
        reason=result["verdict"],
        status=(status_before, "analysed"),
        result_sha256=(None, experiment.result_sha256),
    )
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ANALYSED)


# --- The signed result and the evidence ----------------------------------------------------------


def result_document(experiment: Experiment) -> dict[str, Any]:
    """What the owner's signature on the result binds to."""
    return {
        "experiment": experiment.pk,
        "name": experiment.name,
        "use_case": experiment.use_case_id,
        "champion": experiment.champion_id,
        "challenger": experiment.challenger_id,
        "protocol_sha256": experiment.protocol_sha256,
        "result_sha256": experiment.result_sha256,
        "verdict": (experiment.result or {}).get("verdict", ""),
        "result": experiment.result,
    }


@dataclass
class SignedResult:
    signature: Signature
    evidence: Obligation | None
    evidence_error: str = ""


def experiment_result_sign(
    *, experiment: Experiment, by: User, password: str, reason: str = "", via_token: bool = False
) -> SignedResult:
    """The owner (or a governance lead) signs the analysed result with the password
    typed now; the signed result is then submitted as evidence for the use case's
    preproduction-verification obligation (``experiment_submit_evidence``). When the
    evidence cannot be submitted, the signature stands and ``evidence_error`` says why."""
    if via_token:
        raise PermissionDenied("An API token cannot sign: sign in the browser.")
    _result_checks(experiment, by)
    _check_password(by, password, f"sign the result of experiment #{experiment.pk}")
    return _result_sign(experiment=experiment, by=by, reason=reason)


def experiment_result_sign_unchecked(
    *, experiment: Experiment, by: User, auth_method: str, reason: str = ""
) -> SignedResult:
    """Sign the result without a password, recording ``auth_method``. Demo loader only."""
    _result_checks(experiment, by)
    return _result_sign(experiment=experiment, by=by, reason=reason, auth_method=auth_method)


def _result_checks(experiment: Experiment, by: User) -> None:
    if not permissions.can_sign_experiment_result(by, experiment):
        raise PermissionDenied("Only the experiment's owner or a governance lead signs its result.")
    if experiment.status != Experiment.Status.ANALYSED:
        raise ValidationError("Only an analysed experiment's result can be signed.")
    if experiment.signatures.filter(meaning=Signature.Meaning.RESULT_SIGNED).exists():
        raise ValidationError("The result is already signed.")


def _result_sign(*, experiment, by, reason, auth_method="password re-entry") -> SignedResult:
    with transaction.atomic():
        experiment = _locked(experiment)
        _result_checks(experiment, by)
        document = result_document(experiment)
        signature = Signature.objects.create(
            experiment=experiment,
            signer=by,
            printed_name=printed_name(by),
            signed_at=timezone.now(),
            meaning=Signature.Meaning.RESULT_SIGNED,
            reason=(reason or "").strip(),
            manifest=document,
            manifest_hash=rules.manifest_hash(document),
            auth_method=auth_method,
        )
        _audit(
            "experiment.result_signed",
            experiment,
            by=by,
            reason=reason or document["verdict"],
            signature=(None, signature.pk),
            manifest_hash=(None, signature.manifest_hash),
        )
    try:
        obligation = experiment_submit_evidence(experiment=experiment, by=by)
    except (ValidationError, PermissionDenied) as exc:
        why = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return SignedResult(signature, None, why)
    return SignedResult(signature, obligation)


def evidence_document(experiment: Experiment) -> dict[str, Any]:
    signatures = experiment.signatures.order_by("signed_at", "id")
    return {
        "kind": "experiment-result",
        "experiment": experiment.pk,
        "name": experiment.name,
        "use_case": {"id": experiment.use_case_id, "name": experiment.use_case.name},
        "champion": {"id": experiment.champion_id, "label": str(experiment.champion)},
        "challenger": {"id": experiment.challenger_id, "label": str(experiment.challenger)},
        "protocol": sel.protocol_document(experiment),
        "protocol_sha256": experiment.protocol_sha256,
        "result": experiment.result,
        "result_sha256": experiment.result_sha256,
        "signatures": [
            {
                "meaning": s.meaning,
                "printed_name": s.printed_name,
                "signed_at": s.signed_at.isoformat(),
                "manifest_hash": s.manifest_hash,
                "auth_method": s.auth_method,
            }
            for s in signatures
        ],
    }


@transaction.atomic
def experiment_submit_evidence(*, experiment: Experiment, by: User) -> Obligation:
    """Submit the signed result (a JSON file) as evidence for the use case's
    preproduction-verification obligation: its SHA-256 is stored on the obligation and
    so bound into every later sign-off manifest of the use case's requests. Raises
    ValidationError when the result is not signed, the use case owes no such
    obligation or it is already accepted or waived (obligation_submit_evidence)."""
    experiment = _locked(experiment)
    if not experiment.signatures.filter(meaning=Signature.Meaning.RESULT_SIGNED).exists():
        raise ValidationError("Sign the result before submitting it as evidence.")
    obligation = (
        obligation_list(use_case=experiment.use_case)
        .filter(consideration__code=EVIDENCE_CONSIDERATION, active=True)
        .first()
    )
    if obligation is None:
        raise ValidationError("This use case owes no preproduction-verification obligation.")
    body = json.dumps(evidence_document(experiment), sort_keys=True, indent=1).encode()
    obligation = obligation_submit_evidence(
        obligation=obligation,
        by=by,
        file=ContentFile(body, name=f"experiment-{experiment.pk}-result.json"),
        note=f"Signed result of experiment #{experiment.pk} ({experiment.name}): "
        f"{(experiment.result or {}).get('verdict', '')}.",
    )
    experiment.evidence_obligation = obligation
    experiment.evidence_sha256 = obligation.evidence_sha256
    experiment.save(update_fields=["evidence_obligation", "evidence_sha256"])
    _audit(
        "experiment.evidence_submitted",
        experiment,
        by=by,
        evidence_sha256=(None, obligation.evidence_sha256),
        obligation=(None, obligation.pk),
    )
    return obligation


# --- E-mail to the owner ---------------------------------------------------------------------

SUBJECTS = {
    Notification.Kind.EXPERIMENT_ENDED: "Experiment ended: {name}",
    Notification.Kind.EXPERIMENT_ANALYSED: "Experiment analysed: {name}",
}


def notify_owner(experiment: Experiment, *, kind: str) -> Notification | None:
    """Queue one e-mail per (experiment, owner, kind), sent after commit."""
    owner = experiment.owner
    return notifications.queue(
        key=f"experiment:{experiment.pk}:user:{owner.pk}:{kind}",
        kind=kind,
        recipient=owner,
        version=experiment.challenger,
        experiment=experiment,
        context={"status": experiment.status},
    )


def experiment_url(experiment: Experiment) -> str:
    return settings.SITE_URL + reverse("experiments:experiment-detail", args=[experiment.pk])


def render_notification(note: Notification) -> tuple[str, str, None]:
    """Subject and text of an experiment e-mail (sent by the shared outbox)."""
    experiment = note.experiment
    context = {
        "note": note,
        "experiment": experiment,
        "recipient": note.recipient,
        "url": experiment_url(experiment),
    }
    subject = SUBJECTS[note.kind].format(name=experiment.name)
    return subject, render_to_string("experiments/email.txt", context), None


def experiment_notification_send(*, notification_id: int) -> str:
    """Send one experiment e-mail exactly once (the shared outbox's sender)."""
    return notifications.notification_send(notification_id=notification_id)
