"""Obligation recomputes as background work that scales (issue 18): a burst of changes
to one use case queues one recompute, run once after a short delay; a recompute that
would change nothing writes nothing; a change made while a recompute runs is not lost
(it runs once more after)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import tasks as governance_tasks
from governance.models import Obligation, ObligationEvent, RaciAssignment, RaciRole
from governance.services import obligations_recompute, raci_assign, raci_unassign
from inventory.choices import RiskTier
from notifications import jobs
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.factories import ModelVersionFactory, UseCaseFactory, user_with_role
from tests.outbox import published, queued

pytestmark = pytest.mark.django_db

RECOMPUTE = "governance.tasks.obligations_recompute"


@pytest.fixture
def use_case(team):
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    return use_case


def name(use_case, user, by):
    """Name ``user`` Accountable for risk/audit of ``use_case`` instead of whoever was
    (through the services, in one transaction)."""
    role = RaciRole.objects.get(code="risk-audit")
    with transaction.atomic():
        for assignment in RaciAssignment.objects.filter(use_case=use_case, role=role):
            raci_unassign(assignment=assignment, by=by)
        return raci_assign(use_case=use_case, role=role, by=by, user=user)


def signoff_owner(use_case):
    return Obligation.objects.get(
        use_case=use_case, consideration__code="human-signoff", active=True
    ).owner


def run_published():
    """Run the published recompute as the worker would (with the outbox's header)."""
    row = JobMarker.objects.get(task=RECOMPUTE)
    assert row.sent_at is not None, "not published"
    return governance_tasks.obligations_recompute.apply(
        kwargs=row.kwargs, headers={jobs.HEADER: row.key}
    ).get()


def make_due():
    """Let the delay pass (the row's times moved a minute back)."""
    back = timedelta(minutes=1)
    JobMarker.objects.filter(task=RECOMPUTE).update(
        wanted_at=F("wanted_at") - back, not_before=F("not_before") - back
    )


def test_a_burst_of_changes_queues_one_recompute_run_once_after_the_delay(
    use_case, governance_lead, settings, django_capture_on_commit_callbacks
):
    settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = 5
    people = [user_with_role("risk-officer", username=f"risk-{i}") for i in range(3)]
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for person in people:  # three requests, each its own transaction
            name(use_case, person, governance_lead)
    # One pending row, published by nobody at commit, due a few seconds after the first.
    assert len(queued(RECOMPUTE)) == 1 and published(RECOMPUTE) == []
    assert not [c for c in callbacks if "_publish" in repr(c)]
    row = JobMarker.objects.get(task=RECOMPUTE)
    assert started + timedelta(seconds=5) <= row.not_before <= timezone.now() + timedelta(seconds=5)
    assert jobs_sweep()["published"] == 0  # not due yet
    make_due()
    assert jobs_sweep()["published"] == 1
    assert jobs_sweep()["published"] == 0
    counts = run_published()
    assert counts["owner_changed"] > 0
    assert signoff_owner(use_case) == people[-1]  # the state at the run, not per change
    row.refresh_from_db()
    assert row.done_at is not None and row.runs == 1


def test_a_delay_of_zero_recomputes_at_once(
    use_case, governance_lead, risk_officer, settings, django_capture_on_commit_callbacks
):
    settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        name(use_case, risk_officer, governance_lead)
    assert JobMarker.objects.get(task=RECOMPUTE).not_before is None
    assert len(published(RECOMPUTE)) == 1


def test_a_recompute_that_changes_nothing_writes_nothing(use_case):
    """Compared first, outside a write transaction: no lock, no row, no event."""
    rows, events = Obligation.objects.count(), ObligationEvent.objects.count()
    with CaptureQueriesContext(connection) as captured:
        counts = obligations_recompute(use_case=use_case, reason="nothing changed")
    assert counts == {"created": 0, "changed": 0, "superseded": 0, "owner_changed": 0}
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert set(statements) == {"SELECT"}, statements  # no SAVEPOINT, INSERT, UPDATE
    assert (Obligation.objects.count(), ObligationEvent.objects.count()) == (rows, events)


def test_a_change_while_the_recompute_runs_is_recomputed_after(
    use_case, governance_lead, risk_officer, second_risk_officer, monkeypatch
):
    """The marker is claimed by a run; a change then commits (wanting the work again):
    the run's end does not mark it done but publishes it again, and that second run
    reflects the change."""
    name(use_case, risk_officer, governance_lead)
    make_due()
    jobs_sweep()
    real = governance_tasks.services.obligations_recompute
    during = []

    def recompute_then_a_change_arrives(**kwargs):
        result = real(**kwargs)
        if not during:  # the first run only: someone renames the Accountable meanwhile
            with transaction.atomic():
                during.append(name(use_case, second_risk_officer, governance_lead))
        return result

    monkeypatch.setattr(
        governance_tasks.services, "obligations_recompute", recompute_then_a_change_arrives
    )
    first = run_published()
    assert first["owner_changed"] > 0 and during
    assert signoff_owner(use_case) == risk_officer  # the run read the state before
    row = JobMarker.objects.get(task=RECOMPUTE)
    # Wanted during the run: not done, published again at once (its time had come).
    assert row.done_at is None and row.lease_owner == "" and row.sent_at is not None
    second = run_published()
    assert second["owner_changed"] > 0
    assert signoff_owner(use_case) == second_risk_officer
    row.refresh_from_db()
    assert row.done_at is not None and row.runs == 2


def test_a_marker_claimed_then_a_change_queues_another_run(use_case, governance_lead, risk_officer):
    """The same at the outbox's level: claim, change, finish -> the row comes back."""
    from governance.services import obligations_recompute_later

    obligations_recompute_later(use_case=use_case, by=None, reason="first")
    row = JobMarker.objects.get(task=RECOMPUTE)
    lease = jobs.job_claim(
        task=RECOMPUTE, key=row.key, owner="run-1", kwargs=row.kwargs, via_outbox=False
    )
    assert isinstance(lease, jobs.Lease)
    name(use_case, risk_officer, governance_lead)  # wants the recompute again
    again = jobs.job_finish(lease)
    assert again is not None and again.pk == row.pk and again.done_at is None
    # Nothing lost: a second claim is possible, and marks it done when nothing else came.
    lease = jobs.job_claim(
        task=RECOMPUTE, key=row.key, owner="run-2", kwargs=again.kwargs, via_outbox=False
    )
    assert isinstance(lease, jobs.Lease)
    assert jobs.job_finish(lease) is None
    assert JobMarker.objects.get(pk=row.pk).done_at is not None
