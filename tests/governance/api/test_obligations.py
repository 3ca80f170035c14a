"""Step 5 API through APIClient: read for every role, evidence / accept / waive for
those allowed, 400s for bad input and nothing written."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import Obligation
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from tests.factories import ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/obligations/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def notify_delay():
    with mock.patch("governance.tasks.obligations_notify_owners.delay") as delay:
        yield delay


@pytest.fixture
def use_case(team):
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.MEDIUM)
    ModelVersionFactory(model__use_case=use_case)  # owes the version-scope ones (issue 12)
    obligations_recompute(use_case=use_case)
    return use_case


@pytest.fixture
def signoff(use_case):
    return Obligation.objects.get(use_case=use_case, consideration__code="human-signoff")


def test_every_role_reads_obligations(api_client_for, users_by_role, use_case, signoff):
    for user in users_by_role.values():
        client = api_client_for(user)
        body = client.get(URL, {"use_case": use_case.pk}).json()
        assert body["count"] == 9, user
        detail = client.get(f"{URL}{signoff.pk}/").json()
        assert detail["consideration"] == "human-signoff" and detail["level"] == "medium"
        assert detail["why"].startswith("Policy v3") and detail["events"][0]["kind"] == "created"


def test_anonymous_and_no_role(client, api_client_for, no_role_user, use_case):
    assert client.get(URL).status_code == 401
    assert api_client_for(no_role_user).get(URL).status_code == 403


def test_evidence_accept_and_waive(
    api_client_for, data_scientist, risk_officer, governance_lead, auditor, use_case, signoff
):
    upload = SimpleUploadedFile("bias.json", b'{"ok": true}')
    response = api_client_for(data_scientist).post(
        f"{URL}{signoff.pk}/evidence/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "evidence_submitted"
    assert len(response.json()["evidence_sha256"]) == 64
    assert api_client_for(auditor).post(f"{URL}{signoff.pk}/accept/").status_code == 403
    response = api_client_for(risk_officer).post(f"{URL}{signoff.pk}/accept/")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    other = Obligation.objects.get(use_case=use_case, consideration__code="transparency")
    assert (
        api_client_for(risk_officer)
        .post(f"{URL}{other.pk}/waive/", {"justification": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_client_for(governance_lead)
        .post(f"{URL}{other.pk}/waive/", {}, format="json")
        .status_code
        == 400
    )
    response = api_client_for(governance_lead).post(
        f"{URL}{other.pk}/waive/", {"justification": "Internal only."}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "waived"


def test_bad_evidence_is_400_and_nothing_written(api_client_for, data_scientist, signoff):
    response = api_client_for(data_scientist).post(
        f"{URL}{signoff.pk}/evidence/",
        {"file": SimpleUploadedFile("run.sh", b"rm -rf /")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "not accepted" in response.content.decode()
    signoff.refresh_from_db()
    assert signoff.status == "open" and signoff.events.count() == 1
