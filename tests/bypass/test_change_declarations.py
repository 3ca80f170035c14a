"""Issue 12, carry-over of evidence: a version's change declaration could be confirmed
with an API token alone, and its confirmation rewritten. Walked as the people who
tried: the confirmation is a signed act (password typed now, browser session), by the
second line only (never the declarer or an author, never the first line, an approver
or an auditor), append-only once given; each refusal answers 403/400 through the API
and the page, writes nothing and is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from governance.models import ChangeConfirmation, ChangeDeclaration
from governance.services.versions import change_declare
from tests.factories import PASSWORD, MLModelFactory, ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/change-declarations/"


@pytest.fixture
def versions(team, data_scientist):
    use_case = UseCaseFactory(team=team)
    model = MLModelFactory(use_case=use_case, created_by=data_scientist)
    earlier = ModelVersionFactory(
        model=model,
        version_label="1.0",
        training_data_ref="s3://data/train-2025.parquet",
        registered_at=timezone.now() - timedelta(days=30),
        registered_by=data_scientist,
    )
    later = ModelVersionFactory(
        model=model,
        version_label="1.1",
        training_data_ref="s3://data/train-2025.parquet",
        registered_by=data_scientist,
    )
    return earlier, later


@pytest.fixture
def declaration(versions, data_scientist):
    earlier, later = versions
    return change_declare(
        version=later,
        previous=earlier,
        by=data_scientist,
        same_training_data=True,
        same_features=True,
        note="Re-packaged with a newer runtime.",
    )


def session_api(user):
    client = APIClient()
    client.force_login(user)
    return client


def confirm_url(declaration):
    return f"{URL}{declaration.pk}/confirm/"


def test_the_requester_declares_through_the_api_with_a_token(
    versions, api_client_for, data_scientist
):
    earlier, later = versions
    response = api_client_for(data_scientist).post(
        URL,
        {
            "model_version": later.pk,
            "previous": earlier.pk,
            "same_training_data": True,
            "same_features": True,
            "note": "Same data and features.",
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["confirmed_by"] is None


def test_a_token_never_confirms(declaration, api_client_for, risk_officer):
    response = api_client_for(risk_officer).post(
        confirm_url(declaration), {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403 and "token" in response.json()["detail"]
    assert not ChangeConfirmation.objects.exists()
    assert AuditEvent.objects.filter(
        action="change_declaration.confirm_refused", actor=risk_officer
    ).exists()


@pytest.mark.parametrize("who", ["data_scientist", "approver", "auditor"])
def test_the_first_line_and_readers_cannot_confirm(declaration, request, who):
    user = request.getfixturevalue(who)
    response = session_api(user).post(
        confirm_url(declaration), {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    page = APIClient()
    page.force_login(user)
    url = reverse(
        "governance:version-change-declaration-confirm", args=[declaration.model_version_id]
    )
    assert page.post(url, {"password": PASSWORD}).status_code == 403
    assert not ChangeConfirmation.objects.exists()


def test_an_author_of_the_version_cannot_confirm_even_as_second_line(declaration, risk_officer):
    declaration.model_version.authors.add(risk_officer)
    response = session_api(risk_officer).post(
        confirm_url(declaration), {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403 and "authors" in response.json()["detail"]
    assert not ChangeConfirmation.objects.exists()


def test_a_wrong_password_confirms_nothing_and_is_recorded(declaration, risk_officer):
    response = session_api(risk_officer).post(
        confirm_url(declaration), {"password": "guess"}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()
    assert not ChangeConfirmation.objects.exists()
    assert AuditEvent.objects.filter(
        action="change_declaration.password_refused", actor=risk_officer
    ).exists()


def test_the_signed_confirmation_is_append_only(declaration, risk_officer, governance_lead):
    response = session_api(risk_officer).post(
        confirm_url(declaration), {"password": PASSWORD, "note": "Checked."}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["confirmed_by"] == risk_officer.username and body["confirmation_note"] == "Checked."
    confirmation = ChangeConfirmation.objects.get()
    assert confirmation.auth_method == "password"
    # Nobody confirms again or rewrites it: not through the API, not in the model.
    again = session_api(governance_lead).post(
        confirm_url(declaration), {"password": PASSWORD, "note": "Mine."}, format="json"
    )
    assert again.status_code == 400
    confirmation.confirmed_by = governance_lead
    with pytest.raises(AppendOnlyError):
        confirmation.save()
    declaration.note = "Rewritten."
    with pytest.raises(AppendOnlyError):
        declaration.save()
    with pytest.raises(AppendOnlyError):
        ChangeDeclaration.objects.filter(pk=declaration.pk).update(note="Rewritten.")
    assert ChangeConfirmation.objects.get().confirmed_by == risk_officer


def test_the_version_page_declares_and_confirms(versions, client_for, data_scientist, risk_officer):
    earlier, later = versions
    url = reverse("governance:version-change-declaration", args=[later.pk])
    team_page = client_for(data_scientist)
    shown = team_page.get(url)
    assert shown.status_code == 200 and "Declare the change not material" in shown.content.decode()
    declared = team_page.post(
        reverse("governance:version-change-declaration-declare", args=[later.pk]),
        {
            "previous": earlier.pk,
            "same_training_data": "on",
            "same_features": "on",
            "note": "Same data.",
        },
    )
    assert declared.status_code == 302
    officer = client_for(risk_officer)
    page = officer.get(url).content.decode()
    assert "Sign: the change is not material" in page
    confirm = reverse("governance:version-change-declaration-confirm", args=[later.pk])
    assert officer.post(confirm, {"password": "guess"}).status_code == 400
    assert not ChangeConfirmation.objects.exists()
    assert officer.post(confirm, {"password": PASSWORD}).status_code == 302
    assert ChangeConfirmation.objects.get().confirmed_by == risk_officer
    # The version's sign-off page links the declaration.
    version_page = officer.get(reverse("reviews:version", args=[later.pk])).content.decode()
    assert url in version_page


def test_a_material_change_is_refused_on_the_page(versions, client_for, data_scientist):
    earlier, later = versions
    response = client_for(data_scientist).post(
        reverse("governance:version-change-declaration-declare", args=[later.pk]),
        {"previous": earlier.pk, "same_training_data": "on", "note": "New features."},
    )
    assert response.status_code == 400 and "material" in response.content.decode()
    assert not ChangeDeclaration.objects.exists()


def test_another_team_cannot_declare_on_the_page(versions, client_for, other_data_scientist):
    earlier, later = versions
    response = client_for(other_data_scientist).post(
        reverse("governance:version-change-declaration-declare", args=[later.pk]),
        {"previous": earlier.pk, "same_training_data": "on", "same_features": "on", "note": "x"},
    )
    assert response.status_code in (403, 404)
    assert not ChangeDeclaration.objects.exists()
