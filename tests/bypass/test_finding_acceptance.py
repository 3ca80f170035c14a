"""Issue 12: accepting the risk of a validation finding is a signed act (Part 11), walked
as the people who would get round it: without a password, with a wrong one, from
someone else's session, the developer accepting their own model's finding, the
validator who raised it, an API token instead of the page, and a locked signer. Each
is refused through the API and the page, and nothing is written (an audit event for
each refused attempt, the lockout counting wrong passwords)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from core import promotion_rules as rules
from reviews.models import Finding, FindingAcceptance, Signature, SigningFailure
from tests.factories import signed_validation, user_with_role
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.django_db

API = "/api/v1/finding-acceptances/"


@pytest.fixture
def finding(world):
    _, version = world
    validation = signed_validation(
        version, conclusion="approve_with_conditions", findings=["Recalibrate on 2026 data"]
    )
    return Finding.objects.get(validation=validation)


def until(days=30) -> str:
    return str(timezone.localdate() + dt.timedelta(days=days))


def body(finding, **extra):
    return {
        "finding": finding.pk,
        "reason": "Recalibration planned for Q1; monitoring covers the gap.",
        "expires_on": until(),
        **extra,
    }


def session_api(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def page_url(finding) -> str:
    return reverse("reviews:finding-accept", args=[finding.pk])


def page_post(client, finding, **extra):
    return client.post(page_url(finding), {**body(finding), **extra})


def assert_nothing_accepted():
    assert FindingAcceptance.objects.count() == 0
    assert not Signature.objects.filter(meaning=Signature.Meaning.RISK_ACCEPTED).exists()
    assert not AuditEvent.objects.filter(action="finding.risk_accepted").exists()


def refusals(user) -> int:
    return AuditEvent.objects.filter(action="signature.refused", actor=user).count()


def test_without_a_password_nothing_is_accepted(finding, risk_officer, client_for):
    answer = session_api(risk_officer).post(API, body(finding), format="json")
    assert answer.status_code == 400 and "password" in answer.json()
    page = page_post(client_for(risk_officer), finding)
    assert page.status_code == 400 and b"Type your password again" in page.content
    assert_nothing_accepted()
    # Forgetting it is not a wrong password: the lockout does not count it.
    assert not SigningFailure.objects.filter(user=risk_officer).exists()


def test_a_wrong_password_is_refused_counted_and_audited(finding, risk_officer, client_for):
    answer = session_api(risk_officer).post(API, body(finding, password="not mine"), format="json")
    assert answer.status_code == 400 and "not correct" in str(answer.json()["password"])
    page = page_post(client_for(risk_officer), finding, password="still not mine")
    assert page.status_code == 400 and b"not correct" in page.content
    assert_nothing_accepted()
    assert SigningFailure.objects.filter(user=risk_officer).count() == 2
    refused = AuditEvent.objects.filter(action="signature.password_refused", actor=risk_officer)
    assert refused.count() == 2


def test_someone_elses_session_does_not_sign_in_their_name(
    finding, risk_officer, data_scientist, client_for
):
    """The data scientist at the risk officer's unlocked browser types their own
    password (it is not the risk officer's), or names themselves: refused."""
    api = session_api(risk_officer)
    answer = api.post(API, body(finding, password=PASSWORD + "-ds"), format="json")
    assert answer.status_code == 400
    named = api.post(
        API, body(finding, password=PASSWORD, accepted_by=data_scientist.username), format="json"
    )
    assert named.status_code == 400 and "read-only" in str(named.json()["accepted_by"])
    page = page_post(client_for(risk_officer), finding, password=PASSWORD + "-ds")
    assert page.status_code == 400
    assert_nothing_accepted()
    assert SigningFailure.objects.filter(user=risk_officer).count() == 2


def test_the_developer_cannot_accept_their_own_models_finding(
    finding, data_scientist, team, client_for
):
    api = session_api(data_scientist)
    answer = api.post(API, body(finding, password=PASSWORD), format="json")
    assert answer.status_code == 403
    assert "never by the model's developers" in answer.json()["detail"]
    page = client_for(data_scientist)
    shown = page.get(page_url(finding))
    assert shown.status_code == 403 and b'data-testid="no-form"' in shown.content
    posted = page_post(page, finding, password=PASSWORD)
    assert posted.status_code == 403 and b"never by the model" in posted.content
    # A team member who also holds the risk-officer role is still a developer.
    insider = with_password(user_with_role(Role.RISK_OFFICER, teams=[team], username="inside"))
    answer = session_api(insider).post(API, body(finding, password=PASSWORD), format="json")
    assert answer.status_code == 403 and "outside the team" in answer.json()["detail"]
    posted = page_post(client_for(insider), finding, password=PASSWORD)
    assert posted.status_code == 403
    assert_nothing_accepted()
    assert refusals(data_scientist) == 2 and refusals(insider) == 2
    # Refused before any password was checked: nothing counted against them.
    assert not SigningFailure.objects.exists()


def test_the_validator_who_raised_it_does_not_accept_it(world, client_for):
    _, version = world
    both = with_password(user_with_role(Role.VALIDATOR, username="val-officer"))
    both.groups.add(Group.objects.get(name=Role.RISK_OFFICER))
    validation = signed_validation(
        version, by=both, conclusion="approve_with_conditions", findings=["Cut-off drift"]
    )
    raised = Finding.objects.get(validation=validation)
    answer = session_api(both).post(API, body(raised, password=PASSWORD), format="json")
    assert answer.status_code == 403 and "You raised this finding" in answer.json()["detail"]
    assert page_post(client_for(both), raised, password=PASSWORD).status_code == 403
    assert_nothing_accepted()


def test_an_api_token_never_accepts(finding, risk_officer, api_client_for):
    answer = api_client_for(risk_officer).post(API, body(finding, password=PASSWORD), format="json")
    assert answer.status_code == 403 and "API token cannot sign" in answer.json()["detail"]
    assert_nothing_accepted()
    assert refusals(risk_officer) == 1


def test_a_locked_signer_cannot_accept_even_with_the_right_password(
    finding, risk_officer, client_for, settings
):
    settings.SIGNING_MAX_FAILURES = 2
    api = session_api(risk_officer)
    for _ in range(2):
        assert api.post(API, body(finding, password="wrong"), format="json").status_code == 400
    locked = api.post(API, body(finding, password=PASSWORD), format="json")
    assert locked.status_code == 403 and "locked" in locked.json()["detail"]
    page = page_post(client_for(risk_officer), finding, password=PASSWORD)
    assert page.status_code == 403 and b"locked" in page.content
    assert_nothing_accepted()


def test_the_second_line_accepts_with_the_password_and_the_signature_binds_it(
    finding, risk_officer, governance_lead, client_for
):
    answer = session_api(risk_officer).post(API, body(finding, password=PASSWORD), format="json")
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert "password" not in data
    assert data["signature"]["meaning"] == "risk_accepted"
    assert data["signature"]["auth_method"] == "password re-entry"
    signature = Signature.objects.get(finding_acceptance_id=data["id"])
    assert signature.signer == risk_officer
    assert signature.manifest["finding"] == finding.pk
    assert signature.manifest["expires_on"] == until()
    assert signature.manifest["artifact_sha256"] == finding.model_version.artifact_sha256
    assert signature.manifest_hash == rules.manifest_hash(signature.manifest)
    # The page: the dialog, then the acceptance shown as signed on the validation.
    page = client_for(governance_lead)
    assert page.get(page_url(finding)).status_code == 200
    done = page_post(page, finding, password=PASSWORD, expires_on=until(60))
    assert done.status_code == 302
    assert FindingAcceptance.objects.count() == 2
    assert Signature.objects.filter(meaning="risk_accepted").count() == 2
    shown = page.get(reverse("reviews:validation-detail", args=[finding.validation_id]))
    assert b"(signed, hash" in shown.content
