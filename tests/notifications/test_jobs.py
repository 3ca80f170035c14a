"""The task outbox (notifications/jobs.py, issue 13): work is a row written with the
request and published after commit; a broker that is down is logged, never raised; the
sweep publishes what was never published, what a dead run held and what was lost; one
run at a time per key; a duplicate delivery of done work does nothing; every task
retries transient database errors, and no time limit reaches the broker's redelivery
timeout."""

import importlib
import json
import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.db.utils import OperationalError
from django.utils import timezone

from governance import tasks as governance_tasks
from governance.celery import app as celery_app
from governance.services.obligations import obligations_recompute_later
from governance.settings import CELERY_BEAT_SCHEDULE
from notifications import jobs
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.broker import broker_down
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db

RECOMPUTE = "governance.tasks.obligations_recompute"
APPS = ("experiments", "fairness", "governance", "monitoring", "notifications", "reviews")


def ours() -> dict:
    for app in APPS:
        importlib.import_module(f"{app}.tasks")
    return {name: t for name, t in celery_app.tasks.items() if not name.startswith("celery.")}


def age(seconds: float) -> None:
    then = timezone.now() - timedelta(seconds=seconds)
    JobMarker.objects.update(wanted_at=then)
    JobMarker.objects.exclude(sent_at=None).update(sent_at=then)


def test_every_task_retries_transient_database_errors():
    tasks = ours()
    assert RECOMPUTE in tasks and "reviews.tasks.bias_summary_run" in tasks
    for name, task in tasks.items():
        assert OperationalError in tuple(getattr(task, "autoretry_for", ())), name
        assert 0 < task.max_retries <= 10, name
        assert task.retry_backoff, name


def test_every_time_limit_is_shorter_than_the_brokers_redelivery_timeout():
    """A message is redelivered after the visibility timeout: a task still running then
    would run twice (issue 13: 3,660 s of bias summary against Redis's default 3,600)."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout == settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    for name, task in ours().items():
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft < limit < timeout, name
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_redis_gets_the_same_visibility_timeout():
    """The production settings on Redis (a fresh interpreter: settings read the
    environment once)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BROKER_TRANSPORT_OPTIONS, s.CELERY_BROKER_VISIBILITY_TIMEOUT,"
        " s.BIAS_TASK_TIME_LIMIT]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "BIAS_TASK_TIME_LIMIT": "7200",
        "BIAS_TASK_SOFT_TIME_LIMIT": "7000",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    options, timeout, bias = json.loads(out.stdout.strip().splitlines()[-1])
    assert options == {"visibility_timeout": timeout}
    assert bias == 7200 < timeout


def test_every_queued_task_is_an_outbox_task():
    """A task queued through the outbox must mark its row done; beat's tasks are their
    own safety net."""
    beat = {entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()}
    for name, task in ours().items():
        assert name in beat or isinstance(task, jobs.OutboxTask), name
    with pytest.raises(TypeError):
        jobs.enqueue(ours()["notifications.tasks.jobs_sweep"])


def test_no_app_queues_a_task_except_through_the_outbox():
    """``.delay``/``.apply_async``/``send_task`` outside notifications/jobs.py would raise
    into a committed request when the broker is down, and lose the work."""
    root = Path(settings.BASE_DIR)
    call = re.compile(r"\.(delay|apply_async|send_task|signature|s|si)\(")
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if rel.parts[0] in {"tests", ".venv", ".venv-evidently", "var", "node_modules"}:
            continue
        if rel.parts[0].startswith(".") or rel == Path("notifications/jobs.py"):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if call.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


@pytest.fixture
def at_once(settings):
    """Recomputes queued without their debounce delay (issue 18): published at commit."""
    settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = 0


def test_enqueue_commits_with_the_write_and_publishes_after_commit(
    team, django_capture_on_commit_callbacks, at_once
):
    use_case = UseCaseFactory(team=team)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        obligations_recompute_later(use_case=use_case, by=None, reason="RACI changed")
        row = JobMarker.objects.get()
        assert row.sent_at is None  # not before commit
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert (row.task, row.key) == (RECOMPUTE, str(use_case.pk))
    assert row.kwargs == {"use_case_id": use_case.pk, "by_id": None, "reason": "RACI changed"}
    assert row.sent_at is not None and row.sends == 1 and row.done_at is None


def test_a_rolled_back_write_queues_nothing(team):
    use_case = UseCaseFactory(team=team)
    with pytest.raises(RuntimeError), transaction.atomic():
        obligations_recompute_later(use_case=use_case, by=None, reason="")
        raise RuntimeError("the business write failed")
    assert not JobMarker.objects.exists()


def test_wanting_the_same_work_again_refreshes_one_row(team):
    use_case = UseCaseFactory(team=team)
    obligations_recompute_later(use_case=use_case, by=None, reason="first")
    obligations_recompute_later(use_case=use_case, by=None, reason="second")
    row = JobMarker.objects.get()
    assert row.kwargs["reason"] == "second"


def test_a_broker_that_is_down_is_logged_and_the_sweep_publishes_later(
    team, django_capture_on_commit_callbacks, caplog, at_once
):
    use_case = UseCaseFactory(team=team)
    with broker_down():
        with django_capture_on_commit_callbacks(execute=True):
            obligations_recompute_later(use_case=use_case, by=None, reason="RACI changed")
        assert "not published" in caplog.text
        row = JobMarker.objects.get()
        assert row.sent_at is None
        age(60)
        outcome = jobs_sweep()
        assert outcome["published"] == 0 and outcome["broker_down"]
        assert JobMarker.objects.get().sent_at is None
    # The broker is back (the session's in-memory one): the next sweep publishes.
    outcome = jobs_sweep()
    assert outcome["published"] == 1 and "broker_down" not in outcome
    row = JobMarker.objects.get()
    assert row.sent_at is not None and row.sends == 1
    assert jobs_sweep()["published"] == 0  # published once, not at every sweep
    # The worker runs it: the row is done, and a duplicate delivery does nothing.
    result = governance_tasks.obligations_recompute.apply(
        kwargs=row.kwargs, headers={jobs.HEADER: row.key}
    )
    assert "skipped" not in result.get()
    assert JobMarker.objects.get().done_at is not None
    again = governance_tasks.obligations_recompute.apply(
        kwargs=row.kwargs, headers={jobs.HEADER: row.key}
    )
    assert again.get() == {"skipped": "done"}


def test_a_task_that_meets_a_locked_database_is_retried_and_completes(team, monkeypatch):
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
    row = JobMarker.objects.get()
    assert row.done_at is not None and row.runs == 1  # a retry is the same run


def test_a_message_lost_after_publication_is_published_again(team):
    use_case = UseCaseFactory(team=team)
    jobs.enqueue(governance_tasks.obligations_recompute, kwargs={"use_case_id": use_case.pk})
    JobMarker.objects.update(sent_at=timezone.now(), sends=1)  # published, then lost
    assert jobs_sweep(minutes=3)["published"] == 0  # just published: not lost yet
    age(5 * 60)
    assert jobs_sweep(minutes=3)["published"] == 1
    assert jobs_sweep(minutes=3)["published"] == 0
    age(5 * 60)  # the interval doubles with each publication
    assert jobs_sweep(minutes=3)["published"] == 0
    age(7 * 60)
    assert jobs_sweep(minutes=3)["published"] == 1


def test_work_scheduled_for_later_waits_for_its_time_then_the_sweep_publishes_it(
    team, django_capture_on_commit_callbacks
):
    use_case = UseCaseFactory(team=team)
    later = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        jobs.enqueue(
            governance_tasks.obligations_recompute,
            kwargs={"use_case_id": use_case.pk},
            not_before=later,
        )
    assert callbacks == []  # nothing published at commit
    age(3600)  # wanted long ago, due in two hours
    assert jobs_sweep()["published"] == 0
    # A message of the same work arriving early (an older one) is not run.
    early = governance_tasks.obligations_recompute.apply(
        kwargs={"use_case_id": use_case.pk}, headers={jobs.HEADER: str(use_case.pk)}
    )
    assert early.get() == {"skipped": "scheduled later"}
    assert JobMarker.objects.get().sent_at is None  # goes when due, not after a resend wait
    JobMarker.objects.update(not_before=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep()["published"] == 1
    assert JobMarker.objects.get().sends == 1


def test_wanting_scheduled_work_now_publishes_it_now(team, django_capture_on_commit_callbacks):
    use_case = UseCaseFactory(team=team)
    kwargs = {"use_case_id": use_case.pk}
    later = timezone.now() + timedelta(days=14)
    jobs.enqueue(governance_tasks.obligations_recompute, kwargs=kwargs, not_before=later)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        jobs.enqueue(governance_tasks.obligations_recompute, kwargs=kwargs)
    assert len(callbacks) == 1
    row = JobMarker.objects.get()
    assert row.not_before is None and row.sent_at is not None


def test_wanting_scheduled_work_again_for_later_never_postpones_it(team):
    use_case = UseCaseFactory(team=team)
    kwargs = {"use_case_id": use_case.pk}
    soon, later = (timezone.now() + timedelta(hours=h) for h in (1, 5))
    jobs.enqueue(governance_tasks.obligations_recompute, kwargs=kwargs, not_before=soon)
    jobs.enqueue(governance_tasks.obligations_recompute, kwargs=kwargs, not_before=later)
    assert JobMarker.objects.get().not_before == soon
    # done, then wanted again for later: the new time
    JobMarker.objects.update(done_at=timezone.now())
    jobs.enqueue(governance_tasks.obligations_recompute, kwargs=kwargs, not_before=later)
    row = JobMarker.objects.get()
    assert row.not_before == later and row.done_at is None


def claim(owner: str, key: str = "1"):
    return jobs.job_claim(task=RECOMPUTE, key=key, owner=owner, kwargs={}, via_outbox=False)


def test_one_run_at_a_time_and_a_redelivery_takes_over_its_own_lease():
    first = claim("task-a")
    assert isinstance(first, jobs.Lease)
    assert claim("task-b") == "running elsewhere"
    # The same task id again: a retry or the broker's redelivery after its worker died.
    assert isinstance(claim("task-a"), jobs.Lease)
    # The sweep leaves held work alone, even when it is old.
    age(3600)
    assert jobs_sweep(minutes=3)["published"] == 0


def test_a_dead_runs_lease_expires_and_the_sweep_publishes_it_at_once():
    assert isinstance(claim("task-a"), jobs.Lease)
    JobMarker.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep(minutes=3)["published"] == 1
    row = JobMarker.objects.get()
    assert row.lease_owner == "" and row.lease_until is None
    assert isinstance(claim("task-b"), jobs.Lease)
    assert JobMarker.objects.get().runs == 2


def test_work_wanted_again_during_a_run_is_published_again_after_it(team, monkeypatch):
    use_case = UseCaseFactory(team=team)

    def recompute(**kwargs):
        # Someone changes the RACI while the recompute runs.
        obligations_recompute_later(use_case=use_case, by=None, reason="again")
        return {"created": 0}

    monkeypatch.setattr(governance_tasks.services, "obligations_recompute", recompute)
    governance_tasks.obligations_recompute(use_case_id=use_case.pk, reason="first")
    row = JobMarker.objects.get()
    assert row.done_at is None and row.lease_until is None
    assert row.kwargs["reason"] == "again"
    assert row.sent_at is not None  # published at the end of the run


def test_a_failed_run_frees_its_lease_and_gives_up_after_too_many_runs(team, monkeypatch):
    use_case = UseCaseFactory(team=team)

    def boom(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(governance_tasks.services, "obligations_recompute", boom)
    for _ in range(settings.JOBS_MAX_RUNS):
        with pytest.raises(ValueError):
            governance_tasks.obligations_recompute(use_case_id=use_case.pk)
        row = JobMarker.objects.get()
        assert row.lease_until is None and "a bug" in row.error
    assert jobs_sweep()["gave_up"] == 1
    row = JobMarker.objects.get()
    assert row.failed_at is not None
    age(3600)
    assert jobs_sweep()["published"] == 0  # given up: not published again
    # Wanted again (e.g. the RACI changes again): a fresh start.
    obligations_recompute_later(use_case=use_case, by=None, reason="")
    row = JobMarker.objects.get()
    assert row.failed_at is None and row.runs == 0


def test_done_rows_are_pruned_after_the_keep_days():
    assert isinstance(lease := claim("task-a"), jobs.Lease)
    jobs.job_finish(lease)
    assert jobs_sweep()["pruned"] == 0
    JobMarker.objects.update(done_at=timezone.now() - timedelta(days=settings.JOBS_KEEP_DAYS + 1))
    assert jobs_sweep()["pruned"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_running_task_renews_its_lease(team, monkeypatch, settings):
    """The lease outlives JOBS_LEASE_SECONDS only while the run is alive."""
    settings.JOBS_LEASE_SECONDS = 0.4
    use_case = UseCaseFactory(team=team)
    renewed = threading.Event()

    def slow(**kwargs):
        first = JobMarker.objects.get().lease_until
        for _ in range(200):
            if JobMarker.objects.get().lease_until > first:
                renewed.set()
                break
            renewed.wait(0.05)
        return {}

    monkeypatch.setattr(governance_tasks.services, "obligations_recompute", slow)
    governance_tasks.obligations_recompute(use_case_id=use_case.pk)
    assert renewed.is_set()
    assert JobMarker.objects.get().done_at is not None


def test_every_job_kind_has_a_sweep_every_few_minutes():
    sweeps = {entry["task"]: entry["schedule"] for entry in CELERY_BEAT_SCHEDULE.values()}
    for task in (
        "notifications.tasks.jobs_sweep",  # every outbox row
        "reviews.tasks.bias_summaries_resume",
        "reviews.tasks.experiments_check",
        "reviews.tasks.notifications_flush",
    ):
        assert sweeps[task] <= 5 * 60, task
    assert sweeps["notifications.tasks.jobs_sweep"] <= 60


def test_leads_read_the_outbox_in_the_admin_and_cannot_change_it(
    client_for, governance_lead, auditor
):
    lead_client = client_for(governance_lead)
    assert isinstance(claim("task-a"), jobs.Lease)
    url = "/admin/notifications/jobmarker/"
    page = lead_client.get(url)
    assert page.status_code == 200 and RECOMPUTE in page.content.decode()
    row = JobMarker.objects.get()
    assert lead_client.post(f"{url}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert JobMarker.objects.filter(pk=row.pk).exists()
    assert client_for(auditor).get(url).status_code in (302, 403)
