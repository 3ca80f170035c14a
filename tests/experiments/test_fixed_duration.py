"""Issue 14, fixed duration: the protocol fixes the duration (whole weeks by default),
the test ends at the later of its end date and its planned sample size, and the owner
asks for the analysis once it has ended (page and API); before, 409 and nothing
written."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from experiments import services as svc
from experiments.models import Experiment
from notifications.models import JobMarker
from tests.experiments.test_experiments_services import draft, fill_ab, start

pytestmark = pytest.mark.django_db

BASE = "/api/v1/experiments/"


def running(arms, owner, *, fill=True, past_end=False, **kw):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, owner, **kw)
    start(experiment, owner)
    if past_end:
        Experiment.objects.filter(pk=experiment.pk).update(
            started_at=timezone.now() - timedelta(days=30),
            planned_end=timezone.now() - timedelta(days=1),
        )
    experiment.refresh_from_db()
    if fill:
        with mock.patch("experiments.services.lifecycle.enqueue"):
            svc.outcomes_record(experiment=experiment, by=owner, rows=fill_ab(experiment))
    experiment.refresh_from_db()
    return experiment


def unchanged(experiment):
    experiment.refresh_from_db()
    return (
        experiment.status,
        AuditEvent.objects.filter(action__startswith="experiment.").count(),
        JobMarker.objects.count(),
    )


def test_the_duration_is_whole_weeks_unless_the_protocol_fixes_it(arms, data_scientist):
    use_case, champion, challenger = arms
    default = draft(use_case, champion, challenger, data_scientist)
    assert default.duration_days == max(7, -(-default.planned_days // 7) * 7)
    fixed = draft(use_case, champion, challenger, data_scientist, duration_days=28, name="b")
    assert fixed.duration_days == 28
    start(fixed, data_scientist)
    fixed.refresh_from_db()
    assert fixed.planned_end - fixed.started_at == timedelta(days=28)
    with pytest.raises(Exception, match="whole number of days"):
        draft(use_case, champion, challenger, data_scientist, duration_days=0, name="c")


def test_the_owner_cannot_ask_for_the_analysis_before_the_end_api_and_page(
    arms, api_client_for, client_for, data_scientist
):
    experiment = running(arms, data_scientist)  # the sample is complete, the date is not
    before = unchanged(experiment)
    response = api_client_for(data_scientist).post(f"{BASE}{experiment.pk}/analyse/")
    assert response.status_code == 409
    assert "planned end" in response.data["detail"]
    page = client_for(data_scientist).post(
        reverse("experiments:experiment-analyse", args=[experiment.pk])
    )
    assert page.status_code == 409 and "has not ended" in page.content.decode()
    assert unchanged(experiment) == before
    short = running(arms, data_scientist, fill=False, past_end=True, name="short")
    response = api_client_for(data_scientist).post(f"{BASE}{short.pk}/analyse/")
    assert response.status_code == 409 and "sample size" in response.data["detail"]


def test_after_the_end_the_owner_asks_for_the_analysis_api(
    arms, api_client_for, auditor, data_scientist
):
    experiment = running(arms, data_scientist, fill=False, past_end=True)
    rows = fill_ab(experiment)
    with mock.patch("experiments.services.lifecycle.enqueue"):
        svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows[:20])
    experiment.refresh_from_db()
    assert experiment.status == "running"  # past the date, short of the sample
    # the last outcomes arrive: the test ends at once, its analysis queued
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows[20:])
    experiment.refresh_from_db()
    assert experiment.status == "ended"
    job = JobMarker.objects.get(task="reviews.tasks.experiment_analyse")
    assert job.kwargs == {"experiment_id": experiment.pk}
    assert api_client_for(auditor).post(f"{BASE}{experiment.pk}/analyse/").status_code == 403
    response = api_client_for(data_scientist).post(f"{BASE}{experiment.pk}/analyse/")
    assert response.status_code == 202
    assert JobMarker.objects.filter(task="reviews.tasks.experiment_analyse").count() == 1
    svc.experiment_analyse(experiment_id=experiment.pk)
    again = api_client_for(data_scientist).post(f"{BASE}{experiment.pk}/analyse/")
    assert again.status_code == 409


def test_after_the_end_the_owner_asks_for_the_analysis_page(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    with mock.patch("experiments.services.lifecycle.enqueue"):
        svc.outcomes_record(experiment=experiment, by=data_scientist, rows=fill_ab(experiment))
    # the end date passes; beat has not run yet
    Experiment.objects.filter(pk=experiment.pk).update(
        planned_end=timezone.now() - timedelta(minutes=1)
    )
    client = client_for(data_scientist)
    detail = client.get(reverse("experiments:experiment-detail", args=[experiment.pk]))
    assert "Analyse now" in detail.content.decode()
    response = client.post(reverse("experiments:experiment-analyse", args=[experiment.pk]))
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "ended"
    assert JobMarker.objects.filter(task="reviews.tasks.experiment_analyse").exists()
    assert AuditEvent.objects.filter(action="experiment.analysis_requested").count() == 1


END_CHECK = "experiments.tasks.experiment_end_check"


def test_the_start_schedules_the_end_and_the_analysis_starts_when_the_test_ends(
    arms, data_scientist
):
    """The analysis starts as soon as the test ends: the start schedules a task for the
    planned end (the outbox publishes it then), not a wait for the next beat run."""
    from experiments.tasks import experiment_end_check

    experiment = running(arms, data_scientist)  # the sample is complete, the date is not
    job = JobMarker.objects.get(task=END_CHECK)
    assert job.kwargs == {"experiment_id": experiment.pk}
    assert job.not_before == experiment.planned_end and job.sent_at is None
    # run early (a message of an older schedule, say), it ends nothing
    early = svc.experiment_end_check(experiment_id=experiment.pk)
    assert early["done"] == "not due (running)"
    assert not JobMarker.objects.filter(task="reviews.tasks.experiment_analyse").exists()
    # at the planned end the sweep publishes it and the worker runs it
    JobMarker.objects.filter(task=END_CHECK).update(
        not_before=timezone.now() - timedelta(seconds=1)
    )
    Experiment.objects.filter(pk=experiment.pk).update(
        planned_end=timezone.now() - timedelta(seconds=1)
    )
    done = experiment_end_check.apply(
        kwargs={"experiment_id": experiment.pk}, headers={"job_key": str(experiment.pk)}
    ).get()
    assert done["done"] == "ended; analysis queued"
    experiment.refresh_from_db()
    assert experiment.status == "ended"
    analysis = JobMarker.objects.get(task="reviews.tasks.experiment_analyse")
    assert analysis.kwargs == {"experiment_id": experiment.pk} and analysis.not_before is None
    assert JobMarker.objects.get(task=END_CHECK).done_at is not None
