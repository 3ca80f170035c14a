"""The analysis of an ended experiment runs in a real Celery worker process (data
quality, then the registered test), and sending the task again changes nothing."""

import pytest
from statsmodels.stats.proportion import proportions_ztest

from core import experiment_stats as st
from experiments import services as svc
from experiments.models import Experiment
from experiments.tasks import experiment_analyse
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
