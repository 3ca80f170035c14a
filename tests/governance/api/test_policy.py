"""The Step 4 API through APIClient: reading considerations, levels, policies,
versions and requirements (every role); drafts, cells and publishing (leads only);
never editing a published version; bad input."""

import pytest
from rest_framework.test import APIClient

from governance.models import PolicyVersion
from governance.selectors import policy_default, policy_published_latest, policy_version_cells
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def lead_api(api_client_for, governance_lead):
    return api_client_for(governance_lead)


def make_draft(client) -> dict:
    response = client.post(
        f"{API}/policy-versions/", {"policy": policy_default().pk}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    "path",
    [
        "considerations/",
        "considerations/human-signoff/",
        "measure-levels/",
        "policies/",
        "policy-versions/",
        "regulation-requirements/",
        "policies/requirements/?tier=2&regulations=gdpr",
    ],
)
def test_every_role_reads(path, users_by_role, api_client_for, no_role_user):
    for user in users_by_role.values():
        assert api_client_for(user).get(f"{API}/{path}").status_code == 200, (user, path)
    assert api_client_for(no_role_user).get(f"{API}/{path}").status_code == 403
    assert APIClient().get(f"{API}/{path}").status_code == 401


def test_considerations_carry_measures_and_schemas(lead_api):
    data = lead_api.get(f"{API}/considerations/").json()
    assert data["count"] == 9
    signoff = lead_api.get(f"{API}/considerations/human-signoff/").json()
    assert [m["level"] for m in signoff["measures"]] == ["none", "light", "medium", "strict"]
    assert signoff["measures"][3]["parameters"]["signoffs_per_move"] == 2
    assert signoff["parameter_schema"]["environments"]["choices"] == [
        "dev",
        "qa",
        "preprod",
        "prod",
    ]
    levels = lead_api.get(f"{API}/measure-levels/").json()
    assert [(lv["code"], lv["rank"]) for lv in levels] == [
        ("none", 0),
        ("light", 1),
        ("medium", 2),
        ("strict", 3),
    ]


def test_versions_with_cells_and_policies(lead_api):
    version = policy_published_latest()
    data = lead_api.get(f"{API}/policy-versions/{version.pk}/").json()
    assert data["status"] == "published" and data["number"] == 3 and data["published_by"] is None
    assert len(data["cells"]) == 36
    policies = lead_api.get(f"{API}/policies/").json()["results"]
    assert policies[0]["latest_published"] == version.pk and policies[0]["draft"] is None


def test_requirements_endpoint(lead_api):
    data = lead_api.get(f"{API}/regulation-requirements/?regulation=gxp").json()
    assert {r["code"] for r in data["results"]} == {"gxp-alcoa", "gxp-accountability"}
    merged = lead_api.get(f"{API}/policies/requirements/?tier=1&regulations=gdpr").json()
    signoff = next(r for r in merged if r["consideration"] == "human-signoff")
    assert signoff["level"] == "medium" and "gdpr-automated-decisions" in signoff["why"]
    assert signoff["parameters"] == {
        "signoffs_per_move": 1,
        "environments": ["prod"],
        "independent_validation": False,
        "blocks": [],
        "evidence": "signatures",
        "carry_over": False,
    }
    assert lead_api.get(f"{API}/policies/requirements/?tier=9").status_code == 400
    assert lead_api.get(f"{API}/policies/requirements/").status_code == 400


def test_lead_creates_edits_and_publishes_a_draft(lead_api, governance_lead):
    draft = make_draft(lead_api)
    assert draft["status"] == "draft" and draft["created_by"] == "lead"
    assert len(draft["cells"]) == 36
    response = lead_api.post(
        f"{API}/policy-versions/{draft['id']}/cells/",
        {"cells": [{"tier": 1, "consideration": "transparency", "level": "medium"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = lead_api.post(
        f"{API}/policy-versions/{draft['id']}/publish/", {"note": "Explain all."}, format="json"
    )
    # Four eyes: the publication is a proposal until another lead signs it.
    assert response.status_code == 202, response.content
    change = response.json()
    assert (change["kind"], change["status"], change["proposed_by"]) == (
        "policy_publish",
        "pending",
        "lead",
    )
    assert lead_api.get(f"{API}/policy-versions/{draft['id']}/").json()["status"] == "draft"
    session = APIClient()
    session.force_login(other_lead())
    approve = session.post(
        f"{API}/framework-changes/{change['id']}/approve/", {"password": PASSWORD}, format="json"
    )
    assert approve.status_code == 200, approve.content
    data = lead_api.get(f"{API}/policy-versions/{draft['id']}/").json()
    assert (data["status"], data["number"], data["published_by"]) == ("published", 4, "lead2")
    assert data["change_note"] == "Explain all."


def test_second_draft_is_refused(lead_api):
    make_draft(lead_api)
    response = lead_api.post(
        f"{API}/policy-versions/", {"policy": policy_default().pk}, format="json"
    )
    assert response.status_code == 400
    assert "already has a draft" in str(response.json())


def test_other_roles_cannot_write(users_by_role, api_client_for, lead_api):
    draft = make_draft(lead_api)
    for role, user in users_by_role.items():
        if role == "governance-lead":
            continue
        client = api_client_for(user)
        assert (
            client.post(
                f"{API}/policy-versions/", {"policy": policy_default().pk}, format="json"
            ).status_code
            == 403
        )
        cells = {"cells": [{"tier": 1, "consideration": "transparency", "level": "strict"}]}
        assert (
            client.post(
                f"{API}/policy-versions/{draft['id']}/cells/", cells, format="json"
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"{API}/policy-versions/{draft['id']}/publish/", {"note": "x"}, format="json"
            ).status_code
            == 403
        )
        assert client.delete(f"{API}/policy-versions/{draft['id']}/").status_code == 403
    assert PolicyVersion.objects.get(pk=draft["id"]).status == "draft"


def test_published_version_is_never_edited(lead_api):
    v1 = policy_published_latest()
    before = policy_version_cells(v1)
    cells = {"cells": [{"tier": 1, "consideration": "transparency", "level": "strict"}]}
    response = lead_api.post(f"{API}/policy-versions/{v1.pk}/cells/", cells, format="json")
    assert response.status_code == 409
    assert "published and cannot be changed" in response.json()["detail"]
    response = lead_api.post(
        f"{API}/policy-versions/{v1.pk}/publish/", {"note": "x"}, format="json"
    )
    assert response.status_code == 409
    assert lead_api.delete(f"{API}/policy-versions/{v1.pk}/").status_code == 409
    assert lead_api.put(f"{API}/policy-versions/{v1.pk}/", {}, format="json").status_code == 405
    assert policy_version_cells(v1) == before


def test_bad_cells_are_400_and_nothing_is_written(lead_api):
    draft = make_draft(lead_api)
    url = f"{API}/policy-versions/{draft['id']}/cells/"
    before = policy_version_cells(PolicyVersion.objects.get(pk=draft["id"]))
    response = lead_api.post(
        url,
        {
            "cells": [
                {"tier": 1, "consideration": "transparency", "level": "strict"},
                {"tier": 2, "consideration": "transparency", "level": ""},
                {"tier": 3, "consideration": "astrology", "level": "strict"},
                {"tier": 4, "consideration": "transparency", "level": "extreme"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["cells"]
    assert any("names no measure" in e for e in errors)
    assert any("astrology" in e for e in errors)
    assert any("extreme" in e for e in errors)
    assert policy_version_cells(PolicyVersion.objects.get(pk=draft["id"])) == before
    assert lead_api.post(url, {"cells": []}, format="json").status_code == 400
    assert lead_api.post(url, {"cells": [{"tier": "x"}]}, format="json").status_code == 400


def test_publishing_an_empty_draft_or_without_note_is_400(lead_api):
    draft = make_draft(lead_api)
    url = f"{API}/policy-versions/{draft['id']}/publish/"
    assert lead_api.post(url, {}, format="json").status_code == 400
    PolicyVersion.objects.get(pk=draft["id"]).cells.all().delete()
    response = lead_api.post(url, {"note": "Empty"}, format="json")
    assert response.status_code == 400 and "empty" in str(response.json())
    assert PolicyVersion.objects.get(pk=draft["id"]).status == "draft"


def test_lead_discards_a_draft(lead_api):
    draft = make_draft(lead_api)
    assert lead_api.delete(f"{API}/policy-versions/{draft['id']}/").status_code == 204
    assert not PolicyVersion.objects.filter(pk=draft["id"]).exists()
