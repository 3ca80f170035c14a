"""The demo's experiments (issue 14): each ran its fixed duration (whole weeks), ended
at the later of its end date and its sample size, passed its data-quality step and, its
challenger being better, filed its signed result as evidence."""

import pytest

from experiments import selectors as esel
from experiments.models import Experiment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


def test_the_demo_experiments_respect_their_duration_and_are_valid():
    experiments = list(Experiment.objects.all())
    assert len(experiments) == 2
    for experiment in experiments:
        assert experiment.duration_days and experiment.duration_days % 7 == 0
        assert experiment.planned_end is not None
        assert (experiment.planned_end - experiment.started_at).days == experiment.duration_days
        assert experiment.ended_at >= experiment.planned_end
        assert experiment.status == "analysed"
        assert esel.result_valid(experiment), experiment.result["verdict"]
        assert experiment.result["decision"] == "reject H0: challenger better"
        assert experiment.evidence_sha256
