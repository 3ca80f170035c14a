"""Overdue obligations escalated (issue 12: status follows reality).

Beat runs ``obligations_escalate`` (task ``governance.tasks.obligations_escalate``).
An active obligation still open or awaiting acceptance past its due date is e-mailed
first to its owner (``OBLIGATION_OVERDUE_GRACE_DAYS`` after the due date), then, if it
is still overdue ``OBLIGATION_ESCALATION_DAYS`` later, to the Accountable of the use
case's model acceptance (the second line). Each e-mail goes through the one outbox,
keyed by obligation, due date, recipient and stage, so it is sent once however often
the task runs; each one queued is an audit event on the obligation.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from governance.models import Obligation
from governance.selectors.obligations import obligations_overdue
from governance.selectors.raci import raci_accountable_for
from notifications.models import Notification
from notifications.services import notification_queue

ACCEPTANCE_TASK = "model-acceptance"
STAGES = {
    Notification.Kind.OBLIGATION_OVERDUE: "owner",
    Notification.Kind.OBLIGATION_ESCALATED: "model-acceptance Accountable",
}


def _key(obligation: Obligation, kind: str, user: User) -> str:
    return f"obligation:{obligation.pk}:due:{obligation.due_date}:{kind}:user:{user.pk}"


def _notify(obligation: Obligation, *, kind: str, people: list[User], overdue_days: int) -> int:
    """Queue the e-mail of one stage to each person not yet told; audit each one."""
    sent = 0
    for user in people:
        key = _key(obligation, kind, user)
        if not user.email or Notification.objects.filter(key=key).exists():
            continue
        note = notification_queue(
            key=key,
            kind=kind,
            recipient=user,
            subject=obligation,
            context={"overdue_days": overdue_days},
        )
        if note is None:
            continue
        audit_record(
            action=f"obligation.{kind}",
            obj=obligation,
            parent=obligation.use_case,
            changes={"notified": [None, user.username]},
            reason=f"Overdue by {overdue_days} day(s): the {STAGES[kind]} was e-mailed.",
        )
        sent += 1
    return sent


def obligations_escalate(
    *,
    today: datetime.date | None = None,
    grace_days: int | None = None,
    escalation_days: int | None = None,
) -> dict[str, int]:
    """E-mail the owners of overdue obligations, then escalate the still overdue ones to
    the model-acceptance Accountable (see the module docstring). Idempotent: a second
    run on the same day queues and audits nothing. Returns the counts queued."""
    today = today or timezone.localdate()
    grace = settings.OBLIGATION_OVERDUE_GRACE_DAYS if grace_days is None else grace_days
    further = settings.OBLIGATION_ESCALATION_DAYS if escalation_days is None else escalation_days
    counts = {"owners": 0, "escalations": 0}
    for obligation in obligations_overdue(today=today - datetime.timedelta(days=grace)):
        overdue = (today - obligation.due_date).days
        with transaction.atomic():
            locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
            if locked.status != obligation.status or not locked.active:
                continue  # changed since it was read: the next run sees it as it is
            if obligation.owner is not None:
                counts["owners"] += _notify(
                    obligation,
                    kind=Notification.Kind.OBLIGATION_OVERDUE,
                    people=[obligation.owner],
                    overdue_days=overdue,
                )
            if overdue > grace + further:
                counts["escalations"] += _notify(
                    obligation,
                    kind=Notification.Kind.OBLIGATION_ESCALATED,
                    people=raci_accountable_for(
                        use_case=obligation.use_case, task_code=ACCEPTANCE_TASK
                    ),
                    overdue_days=overdue,
                )
    return counts


def _next_step(obligation: Obligation) -> str:
    if obligation.status == Obligation.Status.EVIDENCE_SUBMITTED:
        return "Its evidence awaits acceptance: ask a risk officer or governance lead to review it."
    return "Submit its evidence, or ask a governance lead to waive it."


def render_obligation_overdue(note: Notification, subject: Obligation) -> tuple[str, str, None]:
    """(subject line, text, no HTML) of an overdue obligation's e-mail, either stage."""
    days = note.context.get("overdue_days", "")
    url = settings.SITE_URL + reverse("governance:obligations-use-case", args=[subject.use_case_id])
    what = f"{subject.use_case}: {subject.consideration} ({subject.get_level_display()})"
    if note.kind == Notification.Kind.OBLIGATION_ESCALATED:
        owner = subject.owner.get_full_name() or subject.owner.username if subject.owner else None
        return (
            f"Escalation: obligation overdue on {subject.use_case}",
            f"As Accountable for model acceptance of {subject.use_case}, you are told that "
            f"this obligation is {days} day(s) past its due date ({subject.due_date}) and "
            f"still {subject.get_status_display().lower()}:\n\n- {what}\n\n"
            f"Owner: {owner or 'nobody (the RACI names no Accountable)'}.\n\n{url}\n",
            None,
        )
    return (
        f"Overdue obligation: {subject.use_case}",
        f"An obligation you own is {days} day(s) past its due date ({subject.due_date}) and "
        f"still {subject.get_status_display().lower()}:\n\n- {what}\n\n"
        f"{_next_step(subject)} If it stays overdue it is escalated to the use case's "
        f"model-acceptance Accountable.\n\n{url}\n",
        None,
    )
