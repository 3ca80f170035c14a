"""Issue 14, accrual health while running: units per arm and a sample-ratio check on
the counts are shown during the run (page and API, never outcomes), and a mismatch
e-mails the owner once through the outbox."""

import pytest
from django.urls import reverse

from core import experiment_stats as st
from experiments import services as svc
from notifications.services import notifications_about
from tests.experiments.test_experiments_services import draft, start

pytestmark = pytest.mark.django_db

BASE = "/api/v1/experiments/"


def rows_for(experiment, n_champion, n_challenger, prefix="u"):
    """Units in their hash arm, with no outcome yet (assigned, awaiting the metric)."""
    want = {"champion": n_champion, "challenger": n_challenger}
    got = {"champion": 0, "challenger": 0}
    rows, i = [], 0
    while got != want:
        key = f"{prefix}{i}"
        i += 1
        arm = st.assign_arm(experiment.salt, key, experiment.protocol["split"])
        if got[arm] < want[arm]:
            got[arm] += 1
            rows.append({"entity_key": key, "arm": arm, "outcome": None})
    return rows


def test_a_visible_imbalance_warns_the_owner_once_and_shows_counts_only(
    arms, client_for, api_client_for, data_scientist
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    svc.outcomes_record(
        experiment=experiment, by=data_scientist, rows=rows_for(experiment, 500, 490)
    )
    assert not notifications_about(experiment).exists()  # balanced so far
    # 51.5/48.5 and worse: the challenger's events go missing
    more = rows_for(experiment, 600, 0, prefix="v")
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=more)
    health = api_client_for(data_scientist).get(f"{BASE}{experiment.pk}/").data["accrual"]["health"]
    assert health["mismatch"] is True and "sample-ratio mismatch" in health["verdict"]
    notes = notifications_about(experiment).filter(kind="experiment_accrual_srm")
    assert list(notes.values_list("recipient", flat=True)) == [data_scientist.pk]
    svc.experiments_check()
    svc.outcomes_record(
        experiment=experiment, by=data_scientist, rows=rows_for(experiment, 40, 0, prefix="w")
    )
    assert notes.count() == 1  # once
    html = (
        client_for(data_scientist)
        .get(reverse("experiments:experiment-detail", args=[experiment.pk]))
        .content.decode()
    )
    assert 'data-testid="accrual-health"' in html and "sample-ratio mismatch" in html
    assert "<dt>p-value</dt>" not in html and "result-data" not in html
    subject, body, _ = svc.render_notification(notes.get(), experiment)
    assert "Sample-ratio mismatch" in subject and "champion" in body


def test_a_shadow_comparison_has_no_split_to_check(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist, design="shadow")
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    assert svc.accrual_srm_warn(experiment) is False
    assert experiment.status == "running"
    assert not notifications_about(experiment).exists()
