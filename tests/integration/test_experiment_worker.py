"""The analysis of an ended experiment runs in a real Celery worker process (data
quality, then the registered test), and sending the task again changes nothing; the
test ends at its planned end through the task its start scheduled, published by the
sweep as beat runs it, and the analysis follows at once."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from statsmodels.stats.proportion import proportions_ztest

from core import experiment_stats as st
from experiments import services as svc
from experiments.models import Experiment
from experiments.tasks import experiment_analyse
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.experiments.experiment_data import challenger_of
from tests.experiments.test_experiments_services import draft, fill_ab, start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_analyses_an_ended_experiment_once(world, data_scientist, celery_worker):
    use_case, champion = world
    data_scientist.email = ""  # no e-mail task left behind on the broker
    data_scientist.save(update_fields=["email"])
    experiment = draft(use_case, champion, challenger_of(champion, data_scientist), data_scientist)
    start(experiment, data_scientist)
    rows = fill_ab(experiment)
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows)
    experiment.refresh_from_db()
    assert svc.experiments_check(now=experiment.planned_end)["ended"] == [experiment.pk]

    first = celery_worker.result_of(
        celery_worker.send(experiment_analyse, experiment_id=experiment.pk)
    )
    assert first["done"] == "analysed" and first["verdict"] == "Challenger better"
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.ANALYSED
    counts = {a: [r["outcome"] for r in rows if r["arm"] == a] for a in st.ARMS}
    z, p = proportions_ztest(
        [sum(counts["challenger"]), sum(counts["champion"])],
        [len(counts["challenger"]), len(counts["champion"])],
    )
    assert experiment.result["test"]["p_value"] == pytest.approx(p, abs=1e-9)
    assert experiment.result["data_quality_passed"] is True
    stored = (experiment.result_sha256, experiment.analysed_at)

    again = celery_worker.result_of(
        celery_worker.send(experiment_analyse, experiment_id=experiment.pk)
    )
    assert again == {"experiment": experiment.pk, "done": "already analysed"}
    experiment.refresh_from_db()
    assert (experiment.result_sha256, experiment.analysed_at) == stored


def test_the_analysis_starts_when_the_planned_end_comes(
    world, data_scientist, celery_worker, settings
):
    use_case, champion = world
    data_scientist.email = ""
    data_scientist.save(update_fields=["email"])
    settings.JOBS_QUEUE = celery_worker.queue
    experiment = draft(use_case, champion, challenger_of(champion, data_scientist), data_scientist)
    # signed a fixed duration ago, less 20 s: the planned end comes during the test
    days = experiment.duration_days
    started = timezone.now() - timedelta(days=days) + timedelta(seconds=20)
    with celery_worker.publishing():
        svc.experiment_start_unchecked(
            experiment=experiment, by=data_scientist, auth_method="test", now=started
        )
        svc.outcomes_record(experiment=experiment, by=data_scientist, rows=fill_ab(experiment))
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING  # the sample is in, the date is not
    job = JobMarker.objects.get(task="experiments.tasks.experiment_end_check")
    assert job.not_before == experiment.planned_end
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # beat's sweep, every second here
        with celery_worker.publishing():
            jobs_sweep()
        experiment.refresh_from_db()
        if experiment.status == Experiment.Status.ANALYSED:
            break
        celery_worker.check_alive()
        time.sleep(1)
    else:
        pytest.fail(f"not analysed: {experiment.status}\n{celery_worker.log_tail()}")
    assert experiment.ended_at >= experiment.planned_end
    assert experiment.analysed_at - experiment.planned_end < timedelta(seconds=60)
    assert experiment.result["data_quality_passed"] is True
    assert "experiment_end_check" in celery_worker.log()
