"""E-mail to an experiment's owner when it ends and when it is analysed: queued in the
shared outbox (``notifications``; one per experiment, owner and kind), rendered here
(``render_notification``, registered for these kinds in ``ExperimentsConfig.ready``)
and sent by the outbox's sender."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from experiments.models import Experiment
from notifications.models import Notification
from notifications.services import notification_queue

SUBJECTS = {
    Notification.Kind.EXPERIMENT_ENDED: "Experiment ended: {name}",
    Notification.Kind.EXPERIMENT_ANALYSED: "Experiment analysed: {name}",
    Notification.Kind.EXPERIMENT_ACCRUAL_SRM: "Sample-ratio mismatch while running: {name}",
}


def notify_owner(
    experiment: Experiment, *, kind: str, context: dict | None = None
) -> Notification | None:
    """Queue one e-mail per (experiment, owner, kind), sent after commit."""
    owner = experiment.owner
    return notification_queue(
        key=f"experiment:{experiment.pk}:user:{owner.pk}:{kind}",
        kind=kind,
        recipient=owner,
        subject=experiment,
        context={"status": experiment.status, **(context or {})},
    )


def experiment_url(experiment: Experiment) -> str:
    return settings.SITE_URL + reverse("experiments:experiment-detail", args=[experiment.pk])


def render_notification(note: Notification, experiment: Experiment) -> tuple[str, str, None]:
    """Subject and text of an experiment e-mail (the outbox's renderer for its kinds)."""
    context = {
        "note": note,
        "experiment": experiment,
        "recipient": note.recipient,
        "url": experiment_url(experiment),
    }
    subject = SUBJECTS[note.kind].format(name=experiment.name)
    return subject, render_to_string("experiments/email.txt", context), None
