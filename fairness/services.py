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
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core import fairness
from core.scored_io import (
    ColumnMapping,
    ScoredDataError,
    inspect_file,
    iter_batches,
    partial_for_row_groups,
    row_group_plan,
    summarise_file,
)
from fairness.models import BiasPartial, BiasSummary, ScoredDataset
from fairness.selectors import scored_dataset_local_path
from governance.selectors.obligations import obligation_list, obligations_for_rules
from governance.services import obligation_submit_evidence
from inventory.models import ModelVersion
from inventory.permissions import can_change_version
from reviews.models import Finding
from reviews.services.promotion import finding_open

logger = logging.getLogger(__name__)

BIAS_CONSIDERATION = "bias-harm-testing"
DEFAULT_THRESHOLDS = {"disparate_impact_min": 0.8, "equalized_odds_max_diff": 0.1}
_CHUNK = 1 << 22


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_upload_bytes() -> int:
    return int(_setting("SCORED_DATA_MAX_BYTES", 2 * 1024**3))


def can_run(user: User | None, version: ModelVersion) -> bool:
    """Data scientists of the use case's team and governance leads attach data and run."""
    return user is not None and can_change_version(user, version)


def _data_error(exc: ScoredDataError, field: str = "file") -> ValidationError:
    return ValidationError(
        {field: ValidationError(str(exc), code="scored_data", params=_where(exc))}
    )


def _where(exc: ScoredDataError) -> dict:
    return {"column": exc.column, "row": exc.row}


# --- Upload ------------------------------------------------------------------------------


def parse_mapping(data: Mapping[str, Any] | ColumnMapping) -> ColumnMapping:
    """A ColumnMapping from plain data; ValidationError({"mapping": ...}) when it makes no
    sense (no outcome, no sensitive attribute, a threshold without a score...)."""
    if isinstance(data, ColumnMapping):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError({"mapping": "Give the column mapping as an object."})
    clean = {k: v for k, v in data.items() if v not in (None, "", [])}
    if not clean.get("outcome"):
        raise ValidationError({"mapping": "Map the outcome column (the ground truth, 0/1)."})
    if not clean.get("sensitive"):
        raise ValidationError({"mapping": "Map at least one sensitive attribute (e.g. race, sex)."})
    if "threshold" in clean and isinstance(clean["threshold"], str):
        try:
            clean["threshold"] = float(clean["threshold"])
        except ValueError:
            raise ValidationError(
                {"mapping": "The threshold must be a number in [0, 1]."}
            ) from None
    try:
        return ColumnMapping.from_dict(clean)
    except ScoredDataError as exc:
        raise _data_error(exc, "mapping") from exc


def scored_file_spool(file, digest) -> tuple[str, bool]:
    """A local path holding the upload's bytes, hashed on the way. Returns (path, temp)."""
    temporary_path = getattr(file, "temporary_file_path", None)
    if temporary_path is not None:  # Django already spooled it to disk: read it once
        path = temporary_path()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return path, False
    fd, path = tempfile.mkstemp(prefix="scored-", suffix=".upload")
    with os.fdopen(fd, "wb") as out:
        chunks = (
            file.chunks(_CHUNK) if hasattr(file, "chunks") else iter(lambda: file.read(_CHUNK), b"")
        )
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
    return path, True


def scored_dataset_upload(
    *,
    version: ModelVersion,
    by: User | None,
    file,
    mapping: Mapping[str, Any] | ColumnMapping,
    name: str = "",
    description: str = "",
    purpose: str = ScoredDataset.Purpose.EVALUATION,
) -> tuple[ScoredDataset, bool]:
    """Attach a scored dataset (CSV or Parquet) to a model version.

    The file is checked before anything is stored: its size against
    SCORED_DATA_MAX_BYTES (before parsing), its format by content, the mapped columns,
    and then every row (labels 0/1, scores in [0, 1], at most 1,000 groups per
    sensitive attribute). Identical bytes already attached to the version return the
    existing row. Returns (dataset, created).

    Raises PermissionDenied unless ``by`` may change the version (None: the system);
    ValidationError naming the column and row of the first problem. Nothing is stored
    when anything fails: a stored file is deleted again if the row is not saved.
    """
    if by is not None and not can_run(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads attach data."
        )
    column_mapping = parse_mapping(mapping)
    if purpose not in ScoredDataset.Purpose.values:
        raise ValidationError({"purpose": f"Unknown purpose {purpose!r}."})
    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:  # before reading a byte of it
        raise ValidationError({"file": f"The file is {size:,} bytes, over the limit of {limit:,}."})
    original = os.path.basename(name or getattr(file, "name", "") or "scored-data")[:255]
    digest = hashlib.sha256()
    path, temporary = scored_file_spool(file, digest)
    try:
        sha = digest.hexdigest()
        existing = ScoredDataset.objects.filter(model_version=version, sha256=sha).first()
        if existing is not None:
            return _same_mapping(existing, column_mapping), False
        try:
            info = inspect_file(path, max_bytes=limit, mapping=column_mapping)
            for _ in iter_batches(
                path,
                column_mapping,
                info=info,
                batch_rows=int(_setting("BIAS_BATCH_ROWS", 1_000_000)),
                max_groups=int(_setting("BIAS_MAX_GROUPS", 1_000)),
            ):
                pass
        except ScoredDataError as exc:
            raise _data_error(exc) from exc
        return scored_file_store(
            version, by, path, sha, info, column_mapping, original, description, purpose
        )
    finally:
        if temporary:
            os.remove(path)


def _same_mapping(existing: ScoredDataset, mapping: ColumnMapping) -> ScoredDataset:
    if existing.mapping != mapping.to_dict():
        raise ValidationError(
            {
                "file": f"These exact bytes are already attached to this version as dataset "
                f"#{existing.pk} ({existing.original_name}) with another column mapping."
            }
        )
    return existing


def scored_file_store(version, by, path, sha, info, mapping, original, description, purpose):
    ext = info.format
    name = f"scored-data/{sha[:2]}/{sha}.{ext}"
    created_file = False
    if default_storage.exists(name) and default_storage.size(name) == info.size:
        stored = name  # content-addressed: the same bytes are stored once
    else:
        with open(path, "rb") as f:
            stored = default_storage.save(name, File(f, name=name))
        created_file = True
    try:
        with transaction.atomic():
            dataset = ScoredDataset(
                model_version=version,
                purpose=purpose,
                description=description,
                original_name=original,
                format=info.format,
                size_bytes=info.size,
                sha256=sha,
                rows=info.rows or 0,
                columns=list(info.columns),
                row_groups=info.row_groups,
                mapping=mapping.to_dict(),
                uploaded_by=by,
                uploaded_at=timezone.now(),
            )
            dataset.file.name = stored
            dataset.full_clean(validate_constraints=False)
            dataset.save()
            audit_record(
                action="scored_dataset.uploaded",
                obj=dataset,
                actor=by,
                reason=f"{original}: {dataset.rows:,} rows, SHA-256 {sha}",
                changes={"sha256": [None, sha], "rows": [None, dataset.rows]},
                parent=version,
            )
    except IntegrityError:
        if created_file:
            default_storage.delete(stored)
        existing = ScoredDataset.objects.filter(model_version=version, sha256=sha).first()
        if existing is None:
            raise
        return _same_mapping(existing, mapping), False
    except BaseException:
        if created_file:
            default_storage.delete(stored)
        raise
    return dataset, True


# --- Options and thresholds -----------------------------------------------------------------


def policy_thresholds(version: ModelVersion) -> tuple[dict[str, float], str]:
    """The bias thresholds the policy sets for the version's use case, and where they
    come from (the use case's bias-and-harm-testing obligation, or the defaults)."""
    use_case = version.model.use_case
    rules = obligations_for_rules(use_case=use_case).get(BIAS_CONSIDERATION)
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
    """The options of a summary, validated, with the policy's thresholds filled in."""
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

    The same options on the same dataset find the same summary (created False, nothing
    queued) unless it failed, in which case it is queued again. Raises
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
    else:
        return summary, False
    if queue is None:
        from fairness.tasks import bias_summary_run as bias_summary_run_task

        summary_id = summary.pk
        transaction.on_commit(lambda: bias_summary_run_task.delay(summary_id=summary_id))
    else:
        summary_id = summary.pk
        transaction.on_commit(lambda: queue(summary_id))
    return summary, created


# --- Computing ------------------------------------------------------------------------------


def _flip_predictions(counts: fairness.GroupCounts) -> fairness.GroupCounts:
    """The same counts with prediction 0 and 1 swapped (TN<->FP, FN<->TP)."""
    data = counts.to_dict()
    for key in ("n", "w", "w2"):
        if data.get(key) is not None:
            data[key] = [[r[1], r[0], r[3], r[2]] for r in data[key]]
    return fairness.GroupCounts.from_dict(data)


def summarise_counts(counts: fairness.GroupCounts, options: Mapping[str, Any]) -> dict:
    """The stored result for counts and a summary's options. Pure.

    With ``favourable_prediction`` 0 (prediction 1 is the adverse decision, e.g. "higher
    risk"), disparate impact and the four-fifths rule compare the rates of the
    favourable prediction (0) with the reference group's, as the rule intends; every
    other rate keeps the file's meaning (selection rate = rate of prediction 1).
    """
    reference = options["reference"]
    mgs = options["min_group_size"]
    thresholds = dict(options["thresholds"])
    if options.get("favourable_prediction", 1) == 1:
        result = fairness.summarise(
            counts, reference=reference, min_group_size=mgs, thresholds=thresholds
        )
        result["favourable_prediction"] = 1
        return result
    di = {k: v for k, v in thresholds.items() if k == "disparate_impact_min"}
    rest = {k: v for k, v in thresholds.items() if k != "disparate_impact_min"}
    fav = fairness.summarise(
        _flip_predictions(counts), reference=reference, min_group_size=mgs, thresholds=di
    )
    # the group with the best favourable rate (or the named one) is the reference of both
    refs: dict[str, str] = {}
    for block in fav["by_attribute"]:
        wanted = (
            reference.get(block["name"], "best") if isinstance(reference, Mapping) else reference
        )
        refs[block["name"]] = block["reference"]["group"] or wanted
    result = fairness.summarise(counts, reference=refs, min_group_size=mgs, thresholds=rest)
    for block, fblock in zip(result["by_attribute"], fav["by_attribute"], strict=True):
        block["reference"] = fblock["reference"]
        for row, frow in zip(block["against_reference"], fblock["against_reference"], strict=True):
            row["favourable_rate"] = frow["selection_rate"]
            row["disparate_impact"] = frow["disparate_impact"]
            row["four_fifths_rule_breached"] = frow["four_fifths_rule_breached"]
        for breach in fblock["breaches"]:
            breach["message"] = (
                breach["message"].rstrip(".")
                + " (rates of the favourable prediction, 0, are compared)."
            )
        block["breaches"] = block["breaches"] + fblock["breaches"]
    result["reference"] = dict(reference) if isinstance(reference, Mapping) else reference
    result["thresholds"] = {**result["thresholds"], **fav["thresholds"]}
    result["breaches"] = [b for block in result["by_attribute"] for b in block["breaches"]]
    result["favourable_prediction"] = 0
    result["notes"].append(
        "Prediction 1 is the adverse decision here: disparate impact and the four-fifths "
        "rule compare each group's rate of prediction 0 (the favourable one) with the "
        "reference group's; the other rates keep the file's meaning."
    )
    return result


def _mapping(dataset: ScoredDataset) -> ColumnMapping:
    return ColumnMapping.from_dict(dataset.mapping)


def _read_opts() -> dict:
    return {
        "batch_rows": int(_setting("BIAS_BATCH_ROWS", 1_000_000)),
        "max_groups": int(_setting("BIAS_MAX_GROUPS", 1_000)),
    }


def _lock(summary_id: int) -> BiasSummary:
    return (
        BiasSummary.objects.select_for_update()
        .select_related("dataset__model_version__model__use_case")
        .get(pk=summary_id)
    )


def _should_split(dataset: ScoredDataset) -> bool:
    return (
        dataset.format == ScoredDataset.Format.PARQUET
        and (dataset.row_groups or 0) > 1
        and dataset.rows >= int(_setting("BIAS_SPLIT_MIN_ROWS", 5_000_000))
        and int(_setting("BIAS_SPLIT_PARTS", 4)) > 1
    )


def bias_summary_run(*, summary_id: int, task_id: str = "") -> dict[str, Any]:
    """Compute a summary (called by the task). Idempotent and restart-safe.

    Returns {"status": ...}; with a split, {"status": "split", "parts": [partial ids]}
    that the caller queues. A done or failed summary is left alone. Bad data fails the
    summary with the reader's message (column and row); an unexpected error fails it
    with a short reason (the details go to the worker's log, never to the page).
    """
    with transaction.atomic():
        summary = _lock(summary_id)
        if summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED):
            return {"status": summary.status}
        now = timezone.now()
        summary.status = BiasSummary.Status.RUNNING
        summary.attempts += 1
        summary.started_at = summary.started_at or now
        summary.heartbeat_at = now
        summary.task_id = (task_id or summary.task_id)[:64]
        summary.rows_total = summary.dataset.rows
        summary.rows_done = 0
        summary.save()
        dataset = summary.dataset
        split = _should_split(dataset)
    if split:
        return _split(summary)

    def progress(done: int, total: int | None) -> None:
        BiasSummary.objects.filter(pk=summary_id, status=BiasSummary.Status.RUNNING).update(
            rows_done=done, heartbeat_at=timezone.now()
        )

    counts = _compute(summary, lambda path: summarise_file(
        path, _mapping(dataset), progress=progress, **_read_opts()
    ))  # fmt: skip
    if counts is None:
        return {"status": BiasSummary.Status.FAILED}
    return {"status": _finish(summary_id, counts)}


def _compute(summary: BiasSummary, run: Callable[[str], fairness.GroupCounts]):
    try:
        with scored_dataset_local_path(summary.dataset) as path:
            return run(path)
    except ScoredDataError as exc:
        bias_summary_fail(summary_id=summary.pk, error=str(exc))
    except ValueError as exc:  # the counting refused the data (fairness.GroupCounts)
        bias_summary_fail(summary_id=summary.pk, error=f"The data cannot be summarised: {exc}")
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            why = "The computation took longer than the time limit and was stopped."
        elif isinstance(exc, OSError):
            why = f"The stored file cannot be read ({type(exc).__name__})."
        else:
            why = f"The computation failed unexpectedly ({type(exc).__name__})."
        logger.exception("bias summary %s failed", summary.pk)
        bias_summary_fail(
            summary_id=summary.pk,
            error=why + " Administrators find the details in the worker's log.",
        )
    return None


def bias_summary_fail(*, summary_id: int, error: str) -> None:
    """Mark a summary failed with a readable reason (unless it is already done)."""
    with transaction.atomic():
        summary = _lock(summary_id)
        if summary.status == BiasSummary.Status.DONE:
            return
        old = summary.status
        summary.status = BiasSummary.Status.FAILED
        summary.error = error[:4000]
        summary.finished_at = timezone.now()
        summary.save(update_fields=["status", "error", "finished_at"])
        audit_record(
            action="bias_summary.failed",
            obj=summary,
            actor=None,
            reason=summary.error,
            changes={"status": [old, "failed"]},
            parent=summary.dataset.model_version,
        )


def _finish(summary_id: int, counts: fairness.GroupCounts) -> str:
    with transaction.atomic():
        summary = _lock(summary_id)
        return _finish_locked(summary, counts)


def _finish_locked(summary: BiasSummary, counts: fairness.GroupCounts) -> str:
    """Write the result, open the findings, record the event: once (caller holds the lock)."""
    if summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED):
        return summary.status
    try:
        result = summarise_counts(counts, summary.options)
    except ValueError as exc:
        summary.status = BiasSummary.Status.FAILED
        summary.error = f"The data cannot be summarised: {exc}"
        summary.finished_at = timezone.now()
        summary.save()
        return summary.status
    version = summary.dataset.model_version
    old = summary.status
    summary.status = BiasSummary.Status.DONE
    summary.result = result
    summary.counts = counts.to_dict()
    summary.rows_done = summary.rows_total = counts.rows
    summary.finished_at = timezone.now()
    summary.error = ""
    summary.save()
    opened = _open_findings(summary, result, version)
    audit_record(
        action="bias_summary.done",
        obj=summary,
        actor=None,
        reason=f"{counts.rows:,} rows; {len(result['breaches'])} breach(es) of the thresholds; "
        f"{opened} finding(s) opened.",
        changes={"status": [old, "done"]},
        parent=version,
    )
    return summary.status


def _open_findings(summary: BiasSummary, result: dict, version: ModelVersion) -> int:
    by_key: dict[str, list[dict]] = {}
    for breach in result["breaches"]:
        key = f"bias:{summary.pk}:{breach['attribute']}:{breach['metric']}"
        by_key.setdefault(key, []).append(breach)
    opened = 0
    for key, breaches in by_key.items():
        worst = (
            min(breaches, key=lambda b: b["value"])
            if breaches[0]["metric"] == "disparate_impact"
            else max(breaches, key=lambda b: b["value"])
        )
        title = worst["message"]
        if len(breaches) > 1:
            title += f" ({len(breaches) - 1} more group(s) breach it too.)"
        _, created = finding_open(
            version=version,
            by=None,
            title=title[:300],
            source=Finding.Source.BIAS,
            detail={
                "summary": summary.pk,
                "dataset": summary.dataset_id,
                "dataset_sha256": summary.dataset.sha256,
                "breaches": breaches,
            },
            key=key[:200],
        )
        opened += created
    return opened


# --- Splitting across workers ---------------------------------------------------------------


def _split(summary: BiasSummary) -> dict[str, Any]:
    try:
        with scored_dataset_local_path(summary.dataset) as path:
            plan = row_group_plan(path, int(_setting("BIAS_SPLIT_PARTS", 4)))
            sizes = inspect_file(path, max_bytes=max_upload_bytes(), check_encoding=False)
    except ScoredDataError as exc:
        bias_summary_fail(summary_id=summary.pk, error=str(exc))
        return {"status": BiasSummary.Status.FAILED}
    with transaction.atomic():
        summary = _lock(summary.pk)
        if summary.status != BiasSummary.Status.RUNNING:
            return {"status": summary.status}
        for index, groups in enumerate(plan):
            BiasPartial.objects.get_or_create(
                summary=summary,
                index=index,
                defaults={
                    "row_groups": groups,
                    "rows_total": sum(sizes.row_group_rows[g] for g in groups),
                },
            )
        summary.parts_total = len(plan)
        summary.save(update_fields=["parts_total"])
        todo = list(summary.partials.filter(done=False).values_list("pk", flat=True))
    return {"status": "split", "parts": todo}


def bias_part_run(*, partial_id: int, worker: str = "") -> dict[str, Any]:
    """Compute one share of a split summary; the last share to finish merges them all.

    Idempotent: a share already done is not recomputed; the merge happens once, under
    the summary's lock, whoever finishes last.
    """
    part = BiasPartial.objects.select_related("summary__dataset").get(pk=partial_id)
    summary = part.summary
    if summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED):
        return {"status": summary.status}
    if not part.done:

        def progress(done: int, total: int | None) -> None:
            BiasPartial.objects.filter(pk=partial_id, done=False).update(rows_done=done)
            BiasSummary.objects.filter(pk=summary.pk).update(heartbeat_at=timezone.now())

        counts = _compute(summary, lambda path: partial_for_row_groups(
            path, _mapping(summary.dataset), part.row_groups, progress=progress, **_read_opts()
        ))  # fmt: skip
        if counts is None:
            return {"status": BiasSummary.Status.FAILED}
    with transaction.atomic():
        if not part.done:
            # the first write of the transaction: on SQLite it takes the write lock
            BiasPartial.objects.filter(pk=partial_id, done=False).update(
                done=True,
                counts=counts.to_dict(),
                rows_done=counts.rows,
                worker=worker[:200],
                finished_at=timezone.now(),
            )
        summary = _lock(summary.pk)
        if summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED):
            return {"status": summary.status}
        parts = list(BiasPartial.objects.filter(summary=summary, done=True).order_by("index"))
        if len(parts) < summary.parts_total:
            return {"status": "part-done", "parts_done": len(parts)}
        merged = sum(fairness.GroupCounts.from_dict(p.counts) for p in parts)
        return {"status": _finish_locked(summary, merged), "merged": len(parts)}


# --- Safety net -----------------------------------------------------------------------------


def bias_summaries_stale(*, minutes: int | None = None) -> list[dict[str, Any]]:
    """Summaries queued or running with no sign of life for ``minutes`` (their task was
    lost, e.g. a worker killed with a broker that cannot re-deliver): what to queue
    again, as {"summary": id} or {"partial": id}. Re-running is harmless (idempotent)."""
    minutes = int(_setting("BIAS_STALE_MINUTES", 30)) if minutes is None else minutes
    cutoff = timezone.now() - timedelta(minutes=minutes)
    out: list[dict[str, Any]] = []
    active = BiasSummary.objects.filter(
        status__in=[BiasSummary.Status.QUEUED, BiasSummary.Status.RUNNING]
    ).only("pk", "heartbeat_at", "requested_at", "parts_total")
    for s in active:
        last = s.heartbeat_at or s.requested_at
        if last > cutoff:
            continue
        undone = list(s.partials.filter(done=False).values_list("pk", flat=True))
        if s.parts_total and undone:
            out += [{"partial": pk} for pk in undone]
        else:
            out.append({"summary": s.pk})
    return out


# --- Evidence -------------------------------------------------------------------------------


def bias_summary_submit_evidence(*, summary: BiasSummary, by: User, note: str = ""):
    """Submit a done summary (as a JSON file: dataset, options, result) as evidence for
    the use case's bias-and-harm-testing obligation; its SHA-256 is stored and bound
    into later signatures. Raises ValidationError when the summary is not done or the
    use case owes no such obligation; PermissionDenied as obligation_submit_evidence."""
    if summary.status != BiasSummary.Status.DONE:
        raise ValidationError("Only a finished summary can be submitted as evidence.")
    dataset = summary.dataset
    use_case = dataset.model_version.model.use_case
    obligation = (
        obligation_list(use_case=use_case)
        .filter(consideration__code=BIAS_CONSIDERATION, active=True)
        .first()
    )
    if obligation is None:
        raise ValidationError("This use case owes no bias-and-harm-testing obligation.")
    payload = {
        "kind": "bias-summary",
        "summary": summary.pk,
        "model_version": {"id": dataset.model_version_id, "label": str(dataset.model_version)},
        "dataset": {
            "id": dataset.pk,
            "name": dataset.original_name,
            "sha256": dataset.sha256,
            "rows": dataset.rows,
            "mapping": dataset.mapping,
        },
        "options": summary.options,
        "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
        "result": summary.result,
    }
    body = json.dumps(payload, sort_keys=True, indent=1).encode()
    file = ContentFile(body, name=f"bias-summary-{summary.pk}.json")
    return obligation_submit_evidence(
        obligation=obligation,
        by=by,
        file=file,
        note=note or f"Bias summary #{summary.pk} of {dataset.original_name}.",
    )
