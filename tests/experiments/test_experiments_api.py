"""The experiments API through the client: drafts, bad input (400, nothing written),
start only from a session with the password (a token: 403), the lock (409), the
assignment (deterministic, matching the split), outcomes in batches, no result
before the end (409), the signed result bound into the challenger's request."""

import math

import pytest
from rest_framework.test import APIClient

from core import experiment_stats as st
from experiments.models import Experiment, ExperimentOutcome
from reviews.models import Signature
from reviews.selectors.promotion import request_state
from tests.experiments.test_experiments_services import (
    AB,
    ab_rows,
    draft,
    fill_ab,
    shadow_rows,
    start,
)
from tests.reviews.signoff_world import PASSWORD, obligation

pytestmark = pytest.mark.django_db


BASE = "/api/v1/experiments/"


def payload(use_case, champion, challenger, **overrides):
    protocol = overrides.pop("protocol", {})
    protocol = {**AB, **protocol} if isinstance(protocol, dict) else protocol
    return {
        "use_case": use_case.pk,
        "name": "Ranking v2 click-through",
        "champion": champion.pk,
        "challenger": challenger.pk,
        "design": "ab",
        "metric_kind": "proportion",
        "primary_metric": "click-through",
        "population": "Signed-in customers",
        "splitting": "hash",
        "entity_key_name": "customer_id",
        "protocol": protocol,
        **overrides,
    }


def session(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_a_draft_is_created_read_updated_and_deleted(arms, api_client_for, data_scientist):
    use_case, champion, challenger = arms
    api = api_client_for(data_scientist)
    response = api.post(BASE, payload(use_case, champion, challenger), format="json")
    assert response.status_code == 201, response.data
    pk = response.data["id"]
    assert response.data["status"] == "draft"
    assert response.data["planned_units"] == Experiment.objects.get().planned_units
    assert "result" not in response.data
    patched = api.patch(f"{BASE}{pk}/", {"name": "Renamed"}, format="json")
    assert patched.status_code == 200 and patched.data["name"] == "Renamed"
    assert api.get(f"{BASE}?use_case={use_case.pk}").data["count"] == 1
    assert api.delete(f"{BASE}{pk}/").status_code == 204
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"protocol": {"alpha": 1.0}}, "alpha"),
        ({"protocol": {"alpha": -0.1}}, "alpha"),
        ({"protocol": {"power": 0}}, "power"),
        ({"protocol": {"power": 1.2}}, "power"),
        ({"protocol": {"minimum_effect": 0}}, "minimum_effect"),
        ({"protocol": {"split": {"champion": 50, "challenger": 40}}}, "split"),
        ({"protocol": {"split": {"champion": 50}}}, "split"),
        ({"protocol": "fast"}, "protocol"),
    ],
)
def test_bad_protocols_are_400_and_write_nothing(
    arms, api_client_for, data_scientist, overrides, field
):
    use_case, champion, challenger = arms
    response = api_client_for(data_scientist).post(
        BASE, payload(use_case, champion, challenger, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.data
    assert not Experiment.objects.exists()


def test_the_same_version_in_both_arms_is_400(arms, api_client_for, data_scientist):
    use_case, champion, _ = arms
    response = api_client_for(data_scientist).post(
        BASE, payload(use_case, champion, champion), format="json"
    )
    assert response.status_code == 400
    assert "must be different" in response.data["challenger"][0]


def test_readers_cannot_create(arms, api_client_for, risk_officer, auditor):
    use_case, champion, challenger = arms
    for user in (risk_officer, auditor):
        response = api_client_for(user).post(
            BASE, payload(use_case, champion, challenger), format="json"
        )
        assert response.status_code == 403
    assert not Experiment.objects.exists()


def test_start_needs_a_session_and_the_password_then_the_protocol_is_locked(
    arms, api_client_for, data_scientist
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    url = f"{BASE}{experiment.pk}/start/"
    token = api_client_for(data_scientist)
    assert token.post(url, {"password": PASSWORD}, format="json").status_code == 403
    browser = session(data_scientist)
    assert browser.post(url, {"password": "wrong"}, format="json").status_code == 400
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    response = browser.post(url, {"password": PASSWORD}, format="json")
    assert response.status_code == 201
    assert response.data["meaning"] == Signature.Meaning.PROTOCOL_LOCKED
    experiment.refresh_from_db()
    assert response.data["manifest_hash"] == experiment.protocol_sha256
    patch = token.patch(
        f"{BASE}{experiment.pk}/", {"protocol": {**AB, "alpha": 0.1}}, format="json"
    )
    assert patch.status_code == 409
    assert token.delete(f"{BASE}{experiment.pk}/").status_code == 409
    assert browser.post(url, {"password": PASSWORD}, format="json").status_code == 409
    experiment.refresh_from_db()
    assert experiment.protocol["alpha"] == 0.05


def test_assignment_is_deterministic_and_matches_the_split(arms, api_client_for, data_scientist):
    use_case, champion, challenger = arms
    protocol = {**AB, "split": {"champion": 80, "challenger": 20}}
    experiment = draft(use_case, champion, challenger, data_scientist, protocol=protocol)
    api = api_client_for(data_scientist)
    url = f"{BASE}{experiment.pk}/assignment/"
    assert api.get(url, {"key": "c1"}).status_code == 409
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    arms_seen = []
    for i in range(1000):
        response = api.get(url, {"key": f"customer-{i}"})
        assert response.status_code == 200
        arms_seen.append(response.data["arm"])
    again = [api.get(url, {"key": f"customer-{i}"}).data["arm"] for i in range(0, 1000, 97)]
    assert again == arms_seen[::97]
    assert arms_seen == [
        st.assign_arm(experiment.salt, f"customer-{i}", protocol["split"]) for i in range(1000)
    ]
    share = arms_seen.count("challenger") / 1000
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / 1000)
    assert api.get(url).status_code == 400  # no key


def test_outcomes_in_batches_all_or_nothing(arms, api_client_for, data_scientist, approver):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    api = api_client_for(data_scientist)
    url = f"{BASE}{experiment.pk}/outcomes/"
    rows = ab_rows(experiment, 30, 0.3, 0.5)
    assert api.post(url, {"rows": rows}, format="json").status_code == 409  # not running
    start(experiment, data_scientist)
    for bad in ({"arm": "treatment"}, {"outcome": "high"}, {"outcome": 2}):
        response = api.post(url, {"rows": [*rows, {**rows[0], **bad}]}, format="json")
        assert response.status_code == 400
        assert "Row 31" in response.data["rows"][0]
    assert not ExperimentOutcome.objects.exists()
    assert api_client_for(approver).post(url, {"rows": rows}, format="json").status_code == 403
    response = api.post(url, {"rows": rows}, format="json")
    assert response.status_code == 201 and response.data["rows"] == 30


def test_no_result_before_the_end_then_the_signed_result_is_bound_into_the_request(
    arms, api_client_for, data_scientist
):
    from experiments import services as svc

    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    api = api_client_for(data_scientist)
    results = f"{BASE}{experiment.pk}/results/"
    assert api.get(results).status_code == 409
    start(experiment, data_scientist)
    rows = fill_ab(experiment)
    api.post(f"{BASE}{experiment.pk}/outcomes/", {"rows": rows}, format="json")
    early = api.get(results)
    assert early.status_code == 409
    assert "p_value" not in str(early.data) and "estimate" not in str(early.data)
    assert early.data["accrual"]["complete"] is True
    detail = api.get(f"{BASE}{experiment.pk}/").data
    assert "p_value" not in str(detail) and detail["result_available"] is False
    experiment.refresh_from_db()
    svc.experiments_check(now=experiment.planned_end)
    assert api.get(results).status_code == 409  # ended, not yet analysed
    svc.experiment_analyse(experiment_id=experiment.pk)
    done = api.get(results)
    assert done.status_code == 200
    assert 0 <= done.data["result"]["test"]["p_value"] <= 1
    sign = f"{BASE}{experiment.pk}/sign-result/"
    assert api.post(sign, {"password": PASSWORD}, format="json").status_code == 403
    signed = session(data_scientist).post(sign, {"password": PASSWORD}, format="json")
    assert signed.status_code == 201 and signed.data["evidence_submitted"] is True
    sha = signed.data["evidence_sha256"]
    assert obligation(use_case, "preproduction-verification", challenger).evidence_sha256 == sha
    # Bound into the manifest of the move it gates: to production (issue 12).
    from inventory.services import model_version_move

    model_version_move(version=challenger, to_environment="preprod")
    created = api.post(
        "/api/v1/promotion-requests/",
        {"model_version": challenger.pk, "justification": "Won its A/B test."},
        format="json",
    )
    assert created.status_code == 201
    from reviews.models import PromotionRequest

    state = request_state(PromotionRequest.objects.get(pk=created.data["id"]))
    assert sha in {o["evidence_sha256"] for o in state.manifest["obligations"]}


def test_shadow_outcomes_and_no_assignment(arms, api_client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist, design="shadow")
    start(experiment, data_scientist)
    api = api_client_for(data_scientist)
    assert api.get(f"{BASE}{experiment.pk}/assignment/", {"key": "x"}).status_code == 400
    rows = shadow_rows(experiment, 10)
    url = f"{BASE}{experiment.pk}/outcomes/"
    bad = {**rows[0], "arm": "champion"}
    assert api.post(url, {"rows": [*rows, bad]}, format="json").status_code == 400
    half = {"entity_key": "t99", "champion_outcome": 1}
    assert api.post(url, {"rows": [*rows, half]}, format="json").status_code == 400
    assert api.post(url, {"rows": rows}, format="json").status_code == 201


def test_abandon_via_the_api(arms, api_client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    api = api_client_for(data_scientist)
    url = f"{BASE}{experiment.pk}/abandon/"
    assert api.post(url, {}, format="json").status_code == 400
    response = api.post(url, {"reason": "Population changed"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "abandoned"
    assert api.post(url, {"reason": "again"}, format="json").status_code == 409
