"""Job markers (notifications/jobs.py) and task retries: wanted work survives a lost
message and is sent again by the sweep; one run at a time per key; a redelivered message
takes over its own dead run's lease; every task retries transient database errors."""

import importlib
from datetime import timedelta

import pytest
from django.db.utils import OperationalError
from django.utils import timezone

from governance import tasks as governance_tasks
from governance.celery import app as celery_app
from governance.services.obligations import obligations_recompute_later
from governance.settings import CELERY_BEAT_SCHEDULE
from notifications import jobs
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db

RECOMPUTE = "governance.tasks.obligations_recompute"


@pytest.fixture
def sent(monkeypatch):
    """What would be queued through the broker (send_task), instead of queuing it."""
    out = []
    monkeypatch.setattr(jobs, "send_task", lambda task, kwargs: out.append((task, kwargs)))
    return out


def age(minutes: float) -> None:
    then = timezone.now() - timedelta(minutes=minutes)
    JobMarker.objects.update(sent_at=then, wanted_at=then)


def test_every_task_retries_transient_database_errors():
    for app in ("experiments", "fairness", "governance", "monitoring", "notifications", "reviews"):
        importlib.import_module(f"{app}.tasks")
    ours = {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}
    assert RECOMPUTE in ours and "reviews.tasks.bias_summary_run" in ours
    for name, task in ours.items():
        assert OperationalError in tuple(getattr(task, "autoretry_for", ())), name
        assert 0 < task.max_retries <= 10, name
        assert task.retry_backoff, name


def test_a_task_that_meets_a_locked_database_is_retried_and_completes(team, monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    use_case = UseCaseFactory(team=team)
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return {"created": 0}

    monkeypatch.setattr(governance_tasks.services, "obligations_recompute", flaky)
    result = governance_tasks.obligations_recompute.apply(kwargs={"use_case_id": use_case.pk})
    assert result.get() == {"created": 0}
    assert len(calls) == 2
    assert not JobMarker.objects.exists()  # done: the marker is gone


def test_a_lost_recompute_message_is_sent_again_by_the_sweep(team, sent, monkeypatch):
    use_case = UseCaseFactory(team=team)
    # The request commits, then its message is lost (the broker refused it, the worker died).
    monkeypatch.setattr(governance_tasks.obligations_recompute, "delay", lambda **kw: None)
    obligations_recompute_later(use_case=use_case, by=None, reason="RACI changed")
    marker = JobMarker.objects.get()
    assert (marker.task, marker.key) == (RECOMPUTE, str(use_case.pk))
    assert jobs_sweep(minutes=3) == 0  # just sent: not lost yet
    age(5)
    assert jobs_sweep(minutes=3) == 1
    assert sent == [
        (RECOMPUTE, {"use_case_id": use_case.pk, "by_id": None, "reason": "RACI changed"})
    ]
    assert jobs_sweep(minutes=3) == 0  # sent once per sweep interval, not every minute
    # The resent task runs: the marker is done and gone.
    governance_tasks.obligations_recompute(**sent[0][1])
    assert not JobMarker.objects.exists()


def test_one_run_at_a_time_and_a_redelivery_takes_over_its_own_lease():
    first = jobs.job_claim(task=RECOMPUTE, key=1, owner="task-a", seconds=600)
    assert first is not None
    assert jobs.job_claim(task=RECOMPUTE, key=1, owner="task-b", seconds=600) is None
    # The same task id again: a retry or the broker's redelivery after its worker died.
    assert jobs.job_claim(task=RECOMPUTE, key=1, owner="task-a", seconds=600) is not None
    # The sweep leaves held work alone, even when it is old.
    age(60)
    assert jobs.jobs_resend(older_than=timedelta(minutes=3)) == []


def test_an_expired_lease_is_free_for_another_run():
    assert jobs.job_claim(task=RECOMPUTE, key=1, owner="task-a", seconds=600)
    JobMarker.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs.job_claim(task=RECOMPUTE, key=1, owner="task-b", seconds=600) is not None


def test_work_wanted_again_during_a_run_is_sent_again_after_it(sent):
    kwargs = {"use_case_id": 7, "by_id": None, "reason": ""}

    def run():
        # Someone changes the RACI while the recompute runs.
        jobs.job_wanted(task=RECOMPUTE, key=7, kwargs={**kwargs, "reason": "again"})
        return "ran"

    assert jobs.job_run(task=RECOMPUTE, key=7, seconds=60, kwargs=kwargs, run=run) == "ran"
    assert sent == [(RECOMPUTE, {**kwargs, "reason": "again"})]
    marker = JobMarker.objects.get()
    assert marker.lease_owner == "" and marker.lease_until is None


def test_a_run_held_elsewhere_is_skipped_and_a_failed_run_frees_its_lease(sent):
    assert jobs.job_claim(task=RECOMPUTE, key=3, owner="other", seconds=600)
    ran = []
    skipped = jobs.job_run(
        task=RECOMPUTE, key=3, seconds=60, kwargs={}, run=lambda: ran.append(1), owner="me"
    )
    assert skipped is None and ran == []
    JobMarker.objects.update(lease_owner="", lease_until=None)

    def boom():
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        jobs.job_run(task=RECOMPUTE, key=3, seconds=60, kwargs={}, run=boom, owner="me")
    marker = JobMarker.objects.get()
    assert marker.lease_until is None  # freed: the retry or the sweep runs it again


def test_every_job_kind_has_a_sweep_every_few_minutes():
    sweeps = {entry["task"]: entry["schedule"] for entry in CELERY_BEAT_SCHEDULE.values()}
    for task in (
        "notifications.tasks.jobs_sweep",  # obligations recomputes, monitoring computations
        "reviews.tasks.bias_summaries_resume",
        "reviews.tasks.experiments_check",
        "reviews.tasks.notifications_flush",
    ):
        assert sweeps[task] <= 5 * 60, task
