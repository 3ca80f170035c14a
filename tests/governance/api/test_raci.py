"""Step 3 API through APIClient: read for every role, write for the team and leads."""

import pytest

from governance.models import UseCaseRaciCell
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_case(team):
    return UseCaseFactory(team=team)


@pytest.mark.parametrize(
    "url", ["/api/v1/raci-roles/", "/api/v1/raci-tasks/", "/api/v1/raci-template/"]
)
def test_catalogues_read_by_every_role(api_client_for, users_by_role, url):
    for user in users_by_role.values():
        response = api_client_for(user).get(url)
        assert response.status_code == 200, user
    assert response.json()["count"] > 0


def test_anonymous_and_no_role(client, api_client_for, no_role_user, use_case):
    assert client.get(f"/api/v1/raci-matrices/{use_case.pk}/").status_code == 401
    assert (
        api_client_for(no_role_user).get(f"/api/v1/raci-matrices/{use_case.pk}/").status_code == 403
    )


def test_matrix_shows_cells_violations_and_people(api_client_for, auditor, use_case):
    body = api_client_for(auditor).get(f"/api/v1/raci-matrices/{use_case.pk}/").json()
    assert body["follows_template"] is True and body["complete"] is False
    assert {"task": "model-acceptance", "role": "risk-audit", "letters": "AR"} in body["cells"]
    assert any("Risk / audit" in v["message"] for v in body["violations"])
    assert api_client_for(auditor).get("/api/v1/raci-matrices/999999/").status_code == 404


def test_team_member_sets_cells_and_names_people(api_client_for, data_scientist, use_case):
    client = api_client_for(data_scientist)
    response = client.post(
        f"/api/v1/raci-matrices/{use_case.pk}/cells/",
        {"cells": [{"task": "integration", "role": "data-ops", "letters": "r"}]},
        format="json",
    )
    assert response.status_code == 200
    assert {"task": "integration", "role": "data-ops", "letters": "R"} in response.json()["cells"]
    response = client.post(
        f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
        {"role": "data-ops", "user": data_scientist.username},
        format="json",
    )
    assert response.status_code == 201
    assignment_id = response.json()["assignments"][0]["id"]
    removed = client.delete(f"/api/v1/raci-matrices/{use_case.pk}/assignments/{assignment_id}/")
    assert removed.status_code == 204


@pytest.mark.parametrize(
    "payload",
    [
        {"cells": [{"task": "monitoring", "role": "business-analysts", "letters": "A"}]},
        {"cells": [{"task": "monitoring", "role": "production", "letters": "AZ"}]},
        {"cells": [{"task": "nope", "role": "production", "letters": "R"}]},
        {"cells": []},
        {"cells": "AR"},
    ],
)
def test_bad_cells_are_400_and_nothing_is_written(
    api_client_for, data_scientist, use_case, payload
):
    response = api_client_for(data_scientist).post(
        f"/api/v1/raci-matrices/{use_case.pk}/cells/", payload, format="json"
    )
    assert response.status_code == 400
    assert not UseCaseRaciCell.objects.exists()


def test_assignment_needs_a_person_or_a_team(api_client_for, governance_lead, use_case):
    response = api_client_for(governance_lead).post(
        f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
        {"role": "risk-audit"},
        format="json",
    )
    assert response.status_code == 400
    assert not use_case.raci_assignments.exists()


@pytest.mark.parametrize("who", ["other_data_scientist", "auditor", "approver", "risk_officer"])
def test_others_cannot_write(request, api_client_for, use_case, who):
    client = api_client_for(request.getfixturevalue(who))
    response = client.post(
        f"/api/v1/raci-matrices/{use_case.pk}/cells/",
        {"cells": [{"task": "integration", "role": "data-ops", "letters": "R"}]},
        format="json",
    )
    assert response.status_code == 403
    assert not UseCaseRaciCell.objects.exists()
