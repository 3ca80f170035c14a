"""Computing a summary in the worker: lock, count, write once at the end; a large
Parquet file fans out into shares of row groups (``BiasPartial``) and the last share to
finish merges them; a failure is recorded with a readable reason; the safety net finds
summaries whose task was lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.task_retry import TRANSIENT_DB_ERRORS
from audit.services import audit_record
from core import fairness
from core.scored_io import (
    ColumnMapping,
    ScoredDataError,
    inspect_file,
    partial_for_row_groups,
    row_group_plan,
    summarise_file,
)
from fairness.models import BiasPartial, BiasSummary, ScoredDataset
from fairness.selectors import scored_dataset_local_path
from fairness.services.common import _setting, max_upload_bytes
from fairness.services.results import _open_findings, summarise_counts
from fairness.warehouse import WarehouseError

# the name the worker's log lines have always carried (before the package split)
logger = logging.getLogger("fairness.services")


def _read_opts() -> dict:
    return {
        "batch_rows": int(_setting("BIAS_BATCH_ROWS", 1_000_000)),
        "max_groups": int(_setting("BIAS_MAX_GROUPS", 1_000)),
    }


def bias_counts_read(
    path: str,
    mapping: dict[str, Any],
    *,
    row_groups: list[int] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> fairness.GroupCounts:
    """The worker's counting of a stored file (or of a share of its Parquet row groups)
    with the installation's batch size and group cap: what both tasks run, and what
    bench/bias_bench.py times. Pure apart from the settings; raises ScoredDataError on
    bad data and ValueError when the counting refuses it."""
    columns = ColumnMapping.from_dict(mapping)
    if row_groups is None:
        return summarise_file(path, columns, progress=progress, **_read_opts())
    return partial_for_row_groups(path, columns, row_groups, progress=progress, **_read_opts())


def _lock(summary_id: int) -> BiasSummary:
    return (
        BiasSummary.objects.select_for_update()
        .select_related("dataset__model_version__model__use_case")
        .get(pk=summary_id)
    )


def split_shares(dataset: ScoredDataset) -> int:
    """How many shares a summary of ``dataset`` is split into: a Parquet file of at
    least BIAS_SPLIT_MIN_ROWS rows and several row groups gets as many as the heavy
    queue can run at once (BIAS_SPLIT_WORKERS), at most BIAS_SPLIT_PARTS and its row
    groups; 1 (no split) wherever a split cannot pay: one worker process, a small file,
    a CSV, a single row group."""
    if dataset.format != ScoredDataset.Format.PARQUET:
        return 1
    if dataset.rows < int(_setting("BIAS_SPLIT_MIN_ROWS", 5_000_000)):
        return 1
    shares = min(
        int(_setting("BIAS_SPLIT_PARTS", 4)),
        int(_setting("BIAS_SPLIT_WORKERS", 1)),
        dataset.row_groups or 1,
    )
    return max(shares, 1)


def bias_summary_run(*, summary_id: int, task_id: str = "", leased: bool = False) -> dict[str, Any]:
    """Compute a summary (called by the task). Idempotent and restart-safe.

    ``leased``: the caller holds the summary's job lease (the task outbox: no other run
    is alive), so a summary left running by a dead run is taken over at once.

    Returns {"status": ...}; with a split, {"status": "split", "parts": [partial ids]}
    that the caller queues. A done or failed summary is left alone. Bad data fails the
    summary with the reader's message (column and row); an unexpected error fails it
    with a short reason (the details go to the worker's log, never to the page).
    """
    with transaction.atomic():
        summary = _lock(summary_id)
        if summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED):
            return {"status": summary.status}
        unusable = summary.dataset.unusable_reason()
        if unusable:  # never read a quarantined or rejected upload (issue 18)
            bias_summary_fail(summary_id=summary_id, error=unusable)
            return {"status": BiasSummary.Status.FAILED}
        now = timezone.now()
        if not leased and _running_elsewhere(summary, task_id, now):
            return {"status": "running-elsewhere"}
        summary.status = BiasSummary.Status.RUNNING
        summary.attempts += 1
        summary.started_at = summary.started_at or now
        summary.heartbeat_at = now
        summary.task_id = (task_id or summary.task_id)[:64]
        summary.rows_total = summary.dataset.rows
        summary.rows_done = 0
        summary.save()
        dataset = summary.dataset
        split = split_shares(dataset) > 1
    if dataset.format == ScoredDataset.Format.QUERY:
        return _run_pushdown(summary)
    if split:
        return _split(summary)

    def progress(done: int, total: int | None) -> None:
        BiasSummary.objects.filter(pk=summary_id, status=BiasSummary.Status.RUNNING).update(
            rows_done=done, heartbeat_at=timezone.now()
        )

    def read(path: str) -> fairness.GroupCounts:
        return bias_counts_read(path, dataset.mapping, progress=progress)

    counts = _compute(summary, read)
    if counts is None:
        return {"status": BiasSummary.Status.FAILED}
    return {"status": _finish(summary_id, counts)}


def _running_elsewhere(summary: BiasSummary, task_id: str, now) -> bool:
    """Another task (not a retry or redelivery of this one: those keep the task id) runs
    this summary and showed a sign of life within the stale window: one run at a time."""
    if summary.status != BiasSummary.Status.RUNNING or not summary.task_id or not task_id:
        return False
    if summary.task_id == task_id[:64] or summary.heartbeat_at is None:
        return False
    window = timedelta(minutes=int(_setting("BIAS_STALE_MINUTES", 5)))
    return summary.heartbeat_at > now - window


def _run_pushdown(summary: BiasSummary) -> dict[str, Any]:
    """A query source: the engine counts (issue 17); its failures fail the summary."""
    from fairness.services.warehouse import pushdown_summary_counts

    found = _guarded(summary, lambda: pushdown_summary_counts(summary))
    if found is None:
        return {"status": BiasSummary.Status.FAILED}
    counts, provenance = found
    return {"status": _finish(summary.pk, counts, provenance)}


def _compute(summary: BiasSummary, run: Callable[[str], fairness.GroupCounts]):
    def read():
        with scored_dataset_local_path(summary.dataset) as path:
            return run(path)

    return _guarded(summary, read)


def _guarded(summary: BiasSummary, read: Callable[[], Any]):
    """``read()``, or None after failing the summary with a reason worded for people."""
    try:
        return read()
    except TRANSIENT_DB_ERRORS:
        raise  # the task retries with backoff; the summary stays running
    except (ScoredDataError, WarehouseError) as exc:
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


def _finish(summary_id: int, counts: fairness.GroupCounts, provenance: dict | None = None) -> str:
    with transaction.atomic():
        summary = _lock(summary_id)
        return _finish_locked(summary, counts, provenance)


def _finish_locked(
    summary: BiasSummary, counts: fairness.GroupCounts, provenance: dict | None = None
) -> str:
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
    summary.provenance = provenance
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


def _split(summary: BiasSummary) -> dict[str, Any]:
    try:
        with scored_dataset_local_path(summary.dataset) as path:
            plan = row_group_plan(path, split_shares(summary.dataset))
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

        def read(path: str) -> fairness.GroupCounts:
            return bias_counts_read(
                path, summary.dataset.mapping, row_groups=part.row_groups, progress=progress
            )

        counts = _compute(summary, read)
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
    minutes = int(_setting("BIAS_STALE_MINUTES", 5)) if minutes is None else minutes
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
