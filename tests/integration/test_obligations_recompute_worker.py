"""Obligation recomputes with a real worker process (issue 18): a burst of RACI changes,
each committed by its own request, waits as one row and is run once by the worker after
the delay (beat's sweep, called here every second as beat would every 30 s); the
obligations then follow the last change, and nothing else is queued."""

import re
import time

import pytest
from django.db import transaction

from governance.models import Obligation, RaciAssignment, RaciRole
from governance.services import obligations_recompute, raci_assign, raci_unassign
from inventory.choices import RiskTier
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.factories import ModelVersionFactory, UseCaseFactory, user_with_role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECOMPUTE = "governance.tasks.obligations_recompute"


def test_a_burst_of_raci_changes_is_recomputed_once_by_the_worker(
    celery_worker, governance_lead, settings
):
    settings.JOBS_QUEUE = celery_worker.queue
    settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = 2
    use_case = UseCaseFactory(name="Card fraud scoring", risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    role = RaciRole.objects.get(code="risk-audit")
    people = [user_with_role("risk-officer", username=f"risk-{i}") for i in range(3)]
    with celery_worker.publishing():
        for person in people:  # three requests, each committed
            with transaction.atomic():
                for assignment in RaciAssignment.objects.filter(use_case=use_case, role=role):
                    raci_unassign(assignment=assignment, by=governance_lead)
                raci_assign(use_case=use_case, role=role, by=governance_lead, user=person)
    row = JobMarker.objects.get(task=RECOMPUTE)
    assert row.sent_at is None and row.not_before is not None  # waiting, not published

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with celery_worker.publishing():
            jobs_sweep()
        row.refresh_from_db()
        if row.done_at is not None:
            break
        celery_worker.check_alive()
        time.sleep(1)
    else:
        pytest.fail(f"not recomputed: {row.__dict__}\n{celery_worker.log_tail()}")
    assert row.runs == 1 and row.sends == 1
    runs = re.findall(re.escape(RECOMPUTE) + r"\[[^]]+\] succeeded", celery_worker.log())
    assert len(runs) == 1, celery_worker.log_tail()
    owners = set(
        Obligation.objects.filter(use_case=use_case, active=True, owner__isnull=False).values_list(
            "owner__username", flat=True
        )
    )
    assert "risk-2" in owners and not owners & {"risk-0", "risk-1"}
