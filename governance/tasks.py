"""Celery tasks of the governance framework. Thin: load ids, call a service."""

from celery import shared_task
from django.contrib.auth import get_user_model

from accounts.task_retry import DB_RETRY
from governance import services
from governance.models import RiskRule
from notifications.jobs import OutboxTask

# Tasks queued by services go through the task outbox (notifications/jobs.py): one run at
# a time per key, the row marked done at the end, the sweep as safety net.
OUTBOX = {"base": OutboxTask, **DB_RETRY}


@shared_task(name="governance.tasks.use_cases_reclassify", job_key=lambda kwargs: "all", **OUTBOX)
def use_cases_reclassify(*, by_id: int | None, note: str) -> dict:
    """Re-evaluate classified use cases under the current rules.

    Idempotent: a second run finds nothing stale (same rule fingerprint) and writes
    nothing.
    """
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return services.use_cases_reclassify(by=by, note=note, only_stale=True)


@shared_task(name="governance.tasks.use_cases_reclassify_stale", **DB_RETRY)
def use_cases_reclassify_stale() -> dict:
    """Scheduled safety net: re-evaluate classifications made under an older rule set,
    attributed to whoever last edited a rule."""
    last_edit = RiskRule.objects.exclude(updated_by=None).order_by("-updated_at").first()
    by = last_edit.updated_by if last_edit else None
    return services.use_cases_reclassify(
        by=by, note="Scheduled re-evaluation under the current rules.", only_stale=True
    )


@shared_task(
    name="governance.tasks.use_cases_reclassify_ethics", job_key=lambda kwargs: "all", **OUTBOX
)
def use_cases_reclassify_ethics(*, by_id: int | None, note: str) -> dict:
    """Step 2: re-evaluate the classified use cases whose critical ethical aspects
    changed after a new organisation position was approved.

    Idempotent: a second run finds no use case whose aspects changed and writes nothing.
    """
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return services.use_cases_reclassify_ethics(by=by, note=note)


# --- Step 5: obligations ----------------------------------------------------------


@shared_task(
    name="governance.tasks.obligations_recompute",
    job_key=lambda kwargs: kwargs["use_case_id"],
    **OUTBOX,
)
def obligations_recompute(*, use_case_id: int, by_id: int | None = None, reason: str = "") -> dict:
    """Recompute one use case's obligations (idempotent: a rerun writes nothing), one
    run at a time per use case (its outbox row; a change meanwhile runs it again)."""
    from inventory.models import UseCase

    use_case = UseCase.objects.filter(pk=use_case_id).first()
    if use_case is None:
        return {}
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return services.obligations_recompute(use_case=use_case, by=by, reason=reason)


@shared_task(
    name="governance.tasks.obligations_recompute_all", job_key=lambda kwargs: "all", **OUTBOX
)
def obligations_recompute_all(*, by_id: int | None = None, reason: str = "") -> dict:
    """Recompute every classified use case's obligations, e.g. after a policy publish;
    one run at a time."""
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return services.obligations_recompute_all(by=by, reason=reason)


@shared_task(name="governance.tasks.obligations_notify_owners", **OUTBOX)
def obligations_notify_owners(*, obligation_ids: list[int]) -> int:
    """Kept so that messages queued before the daily digest resolve: owners now learn of
    new obligations in their digest (``obligation_digests_send``), which lists these
    too; sends nothing."""
    return 0


@shared_task(name="governance.tasks.obligation_digests_send", **DB_RETRY)
def obligation_digests_send() -> dict:
    """Beat (hourly): from OBLIGATION_DIGEST_HOUR, each owner's digest of the day of
    their new or changed obligations (one per person per day)."""
    from governance.services.digest import obligation_digests_send as send

    return send()


@shared_task(name="governance.tasks.obligations_escalate", **DB_RETRY)
def obligations_escalate() -> dict:
    """Beat: e-mail the owners of overdue obligations, then escalate the ones still
    overdue to the model-acceptance Accountable (each e-mail once, audited)."""
    from governance.services.escalation import obligations_escalate as escalate

    return escalate()


@shared_task(name="governance.tasks.database_statistics_refresh", **DB_RETRY)
def database_statistics_refresh() -> dict:
    """Daily: the query planner's statistics (SQLite; PostgreSQL keeps its own)."""
    from governance.services.db_statistics import database_statistics_refresh as refresh

    return refresh()
