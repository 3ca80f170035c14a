"""Issue 12, observed 10: "evidence cannot be opened" (a risk officer accepted a JSON
evidence file they could not read). Every evidence file and stored scored dataset is
downloadable, page and API, by everyone who may read its use case and by nobody else,
verified against its SHA-256 (a mismatch serves nothing and is audited)."""

import hashlib
import json
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from governance.models import Obligation
from governance.services import obligation_submit_evidence, obligations_recompute
from inventory.choices import RiskTier
from tests.factories import ModelVersionFactory, ScoredDatasetFactory, UseCaseFactory

BODY = json.dumps({"kind": "bias-summary", "result": {"di": 0.91}}).encode()
CSV = b"id,score,y_hat,y\n1,0.7,1,1\n2,0.2,0,0\n"


@pytest.fixture(autouse=True)
def _media(media):
    return media


@pytest.fixture(autouse=True)
def notify_delay():
    with mock.patch("governance.tasks.obligations_notify_owners.delay") as delay:
        yield delay


@pytest.fixture
def use_case(team):
    use_case = UseCaseFactory(team=team, name="Consumer loans", risk_tier=RiskTier.HIGH)
    return use_case


@pytest.fixture
def version(use_case):
    version = ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    return version


@pytest.fixture
def obligation(version, data_scientist):
    # Bias testing is owed per version (issue 12): the evidence is this version's.
    ob = Obligation.objects.get(
        model_version=version, consideration__code="bias-harm-testing", active=True
    )
    return obligation_submit_evidence(
        obligation=ob, by=data_scientist, file=ContentFile(BODY, name="bias-summary-7.json")
    )


@pytest.fixture
def dataset(version):
    name = default_storage.save("scored-data/ab/scores.csv", ContentFile(CSV))
    return ScoredDatasetFactory(
        model_version=version,
        file=name,
        original_name="scores.csv",
        sha256=hashlib.sha256(CSV).hexdigest(),
        size_bytes=len(CSV),
    )


def page_url(ob):
    return reverse("governance:obligation-evidence-file", args=[ob.use_case_id, ob.pk])


def api_url(ob):
    return f"/api/v1/obligations/{ob.pk}/evidence/file/"


def dataset_page_url(d):
    return reverse("fairness:scored-dataset-download", args=[d.pk])


def dataset_api_url(d):
    return f"/api/v1/scored-datasets/{d.pk}/download/"


def _body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def _assert_attachment(response, *, name, content_type, body):
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert _body(response) == body


@pytest.mark.parametrize("role", list(Role))
def test_everyone_who_reads_the_use_case_downloads_the_evidence_page_and_api(
    role, users_by_role, client_for, api_client_for, obligation
):
    user = users_by_role[role]
    for response in (
        client_for(user).get(page_url(obligation)),
        api_client_for(user).get(api_url(obligation)),
    ):
        _assert_attachment(
            response, name="bias-summary-7.json", content_type="application/json", body=BODY
        )


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.AUDITOR])
def test_everyone_who_reads_the_use_case_downloads_the_scored_dataset(
    role, users_by_role, client_for, api_client_for, dataset
):
    user = users_by_role[role]
    for response in (
        client_for(user).get(dataset_page_url(dataset)),
        api_client_for(user).get(dataset_api_url(dataset)),
    ):
        _assert_attachment(
            response, name="scores.csv", content_type="text/csv; charset=utf-8", body=CSV
        )


def test_a_user_without_a_role_gets_nothing(no_role_user, client_for, api_client_for, obligation):
    assert client_for(no_role_user).get(page_url(obligation)).status_code == 403
    assert api_client_for(no_role_user).get(api_url(obligation)).status_code == 403


def test_a_user_without_a_role_gets_no_scored_data(
    no_role_user, client_for, api_client_for, dataset
):
    assert client_for(no_role_user).get(dataset_page_url(dataset)).status_code == 403
    assert api_client_for(no_role_user).get(dataset_api_url(dataset)).status_code == 403


def test_anonymous_visitors_get_nothing(client, obligation, dataset):
    page = client.get(page_url(obligation))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert client.get(dataset_page_url(dataset)).status_code == 302
    assert client.get(api_url(obligation)).status_code in (401, 403)
    assert client.get(dataset_api_url(dataset)).status_code in (401, 403)
    assert client.get(f"/media/{obligation.evidence_file.name}").status_code == 404


def test_an_obligation_reached_through_another_use_case_is_404(
    risk_officer, client_for, obligation, other_team
):
    other = UseCaseFactory(team=other_team)
    url = reverse("governance:obligation-evidence-file", args=[other.pk, obligation.pk])
    assert client_for(risk_officer).get(url).status_code == 404


def test_an_obligation_without_a_file_is_404(risk_officer, client_for, api_client_for, version):
    ob = Obligation.objects.get(
        model_version=version, consideration__code="human-signoff", active=True
    )
    assert client_for(risk_officer).get(page_url(ob)).status_code == 404
    assert api_client_for(risk_officer).get(api_url(ob)).status_code == 404


def _tamper(name: str, data: bytes) -> None:
    with open(default_storage.path(name), "wb") as f:
        f.write(data)


def test_altered_evidence_is_not_served_and_is_audited(
    risk_officer, client_for, api_client_for, obligation
):
    _tamper(obligation.evidence_file.name, b'{"kind": "bias-summary", "result": {"di": 0.99}}')
    page = client_for(risk_officer).get(page_url(obligation))
    assert page.status_code == 409
    assert not page.streaming and b"0.99" not in page.content
    assert b"no longer matches the SHA-256" in page.content
    api = api_client_for(risk_officer).get(api_url(obligation))
    assert api.status_code == 409
    assert api.json()["code"] == "sha256-mismatch"
    events = AuditEvent.objects.filter(
        action="download.sha256_mismatch", object_id=str(obligation.pk)
    )
    assert events.count() == 2
    assert events.first().changes["sha256"][0] == obligation.evidence_sha256


def test_altered_scored_data_is_not_served(risk_officer, client_for, api_client_for, dataset):
    _tamper(dataset.file.name, CSV.replace(b"0.7", b"0.1"))
    assert client_for(risk_officer).get(dataset_page_url(dataset)).status_code == 409
    assert api_client_for(risk_officer).get(dataset_api_url(dataset)).json()["code"] == (
        "sha256-mismatch"
    )
    assert AuditEvent.objects.filter(
        action="download.sha256_mismatch", object_type="fairness.scoreddataset"
    ).exists()


def test_a_missing_file_is_a_409_and_audited(risk_officer, api_client_for, obligation):
    default_storage.delete(obligation.evidence_file.name)
    response = api_client_for(risk_officer).get(api_url(obligation))
    assert response.status_code == 409
    assert response.json()["code"] == "file-missing"
    assert AuditEvent.objects.filter(action="download.file_missing").count() == 1


def test_the_obligation_page_links_the_file(risk_officer, client_for, obligation):
    url = reverse("governance:obligations-use-case", args=[obligation.use_case_id])
    assert page_url(obligation) in client_for(risk_officer).get(url).content.decode()


def test_the_scored_data_page_links_the_file(risk_officer, client_for, dataset):
    url = reverse("fairness:bias-version", args=[dataset.model_version_id])
    assert dataset_page_url(dataset) in client_for(risk_officer).get(url).content.decode()


def test_the_scored_dataset_api_names_its_download(risk_officer, api_client_for, dataset):
    row = api_client_for(risk_officer).get(f"/api/v1/scored-datasets/{dataset.pk}/").json()
    assert row["download"] == dataset_api_url(dataset)


def test_the_promotion_request_page_links_the_evidence(
    world, data_scientist, risk_officer, client_for
):
    from reviews.services import promotion as svc

    use_case, version = world
    ob = Obligation.objects.get(
        model_version=version, consideration__code="bias-harm-testing", active=True
    )
    ob = obligation_submit_evidence(
        obligation=ob, by=data_scientist, file=ContentFile(BODY, name="bias.json")
    )
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    page = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert page_url(ob) in page.content.decode()
    assert _body(client_for(risk_officer).get(page_url(ob))) == BODY
