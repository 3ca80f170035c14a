"""Single sign-on against a real OpenID provider process (issue 17): the code flow
through the Django test client, just-in-time accounts, roles from the groups claim
(added and removed, audited), unmapped people, a missing claim, deactivation at the
provider, and local sign-in switched off."""

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import ApiToken, SsoIdentity
from audit.models import AuditEvent
from tests.factories import api_token_for, user_with_role
from tests.sso_fixtures import APP
from tests.sso_provider import local_path, sign_in_at, sso_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso(settings, provider):
    sso_settings(settings, provider)
    return provider


def sso_sign_in(client: Client, login: str, browser: requests.Session | None = None):
    """The whole code flow as a browser does it; returns the callback's response."""
    started = client.get("/oidc/authenticate/")
    assert started.status_code == 302, started
    back = sign_in_at(browser or requests.Session(), started["Location"], login, APP)
    return client.get(local_path(back))


def roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_first_sign_in_creates_the_account_with_the_mapped_roles_audited(sso):
    client = Client()
    response = sso_sign_in(client, "lead")
    assert response.status_code == 302 and response["Location"] == "/"
    identity = SsoIdentity.objects.get(subject="lead", issuer=sso.issuer)
    user = identity.user
    assert user.username == "lead" and user.email == "lead@example.org"
    assert not user.has_usable_password()
    assert roles_of(user) == {"governance-lead"}  # "staff" maps to nothing
    events = AuditEvent.objects.filter(object_type="auth.user", object_id=str(user.pk))
    event = events.get(changes__has_key="groups")
    assert [g["repr"] for g in event.changes["groups"][1]] == ["governance-lead"]
    assert "'groups' claim" in event.reason and event.actor_id == user.pk
    assert events.get(action="create").reason.startswith("Created at first sign-in")
    assert client.get("/").status_code == 200


def test_roles_are_recomputed_at_every_sign_in_added_and_removed(sso, settings):
    sso_sign_in(Client(), "lead")
    user = User.objects.get(sso_identity__subject="lead")
    settings.OIDC_ROLE_MAP = {"gov-leads": "risk-officer", "staff": "auditor"}
    assert sso_sign_in(Client(), "lead").status_code == 302
    assert roles_of(user) == {"risk-officer", "auditor"}
    events = AuditEvent.objects.filter(
        object_type="auth.user", object_id=str(user.pk), changes__has_key="groups"
    ).order_by("seq")
    steps = [
        ({g["repr"] for g in e.changes["groups"][0]}, {g["repr"] for g in e.changes["groups"][1]})
        for e in events
    ]
    assert steps[0] == (set(), {"governance-lead"})
    assert any("governance-lead" in old and "governance-lead" not in new for old, new in steps)
    assert steps[-1][1] == {"risk-officer", "auditor"}
    assert all("'groups' claim" in e.reason for e in events)
    assert User.objects.filter(sso_identity__subject="lead").count() == 1


def test_a_local_account_with_the_same_name_is_never_taken_over(sso, django_user_model):
    local = user_with_role("auditor", username="lead", email="lead@example.org")
    sso_sign_in(Client(), "lead")
    made = User.objects.get(sso_identity__subject="lead")
    assert made.pk != local.pk and made.username == "lead.lead"
    assert roles_of(local) == {"auditor"}


def test_an_unmapped_person_gets_no_role_and_a_clear_page(sso):
    client = Client()
    response = sso_sign_in(client, "nobody")
    assert response.status_code == 302 and response["Location"] == "/accounts/sso/no-role/"
    page = client.get("/accounts/sso/no-role/")
    assert page.status_code == 403
    assert b"none of your groups" in page.content
    assert roles_of(User.objects.get(sso_identity__subject="nobody")) == set()


def test_a_missing_groups_claim_is_refused_with_a_clear_page_and_no_account(sso):
    response = sso_sign_in(Client(), "nogroups")
    assert response.status_code == 400
    assert b"sent no &#x27;groups&#x27; claim" in response.content
    assert not User.objects.filter(email="nogroups@example.org").exists()


def test_a_replayed_callback_is_refused(sso):
    client = Client()
    started = client.get("/oidc/authenticate/")
    back = local_path(sign_in_at(requests.Session(), started["Location"], "lead", APP))
    assert client.get(back).status_code == 302
    again = Client().get(back)  # another browser with the same code and state
    assert again.status_code == 400
    assert client.get(back).status_code == 400  # the same browser: the state is spent


def test_deactivated_at_the_provider_is_locked_here_at_the_next_request(sso, settings):
    settings.OIDC_ACCOUNT_CHECK_SECONDS = 0
    client = Client()
    sso_sign_in(client, "risk")
    user = User.objects.get(sso_identity__subject="risk")
    secret = api_token_for(user)
    api = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/use-cases/").status_code == 200
    assert client.get("/").status_code == 200
    sso.set_active("risk", False)
    try:
        locked = client.get("/")
        assert locked.status_code == 403
        assert b"no longer knows this account" in locked.content
        user.refresh_from_db()
        assert not user.is_active
        assert ApiToken.objects.get(user=user).revoked_at is not None
        assert api.get("/api/v1/use-cases/").status_code == 401
        assert client.get("/").status_code == 302  # signed out
        assert AuditEvent.objects.filter(
            object_type="auth.user", object_id=str(user.pk), changes__has_key="is_active"
        ).exists()
    finally:
        sso.set_active("risk", True)
    # Active again at the provider, the account stays locked here until a lead unlocks it.
    again = sso_sign_in(Client(), "risk")
    assert again.status_code == 403 and b"locked here" in again.content


def test_the_provider_down_is_a_clear_page_not_an_error(settings, provider):
    sso_settings(settings, provider, OIDC_ISSUER="http://127.0.0.1:9")
    response = Client().get("/oidc/authenticate/")
    assert response.status_code == 503
    assert b"cannot be reached" in response.content


def test_local_sign_in_switched_off_refuses_passwords_everywhere(sso, settings):
    local = user_with_role("risk-officer", username="localrisk")
    local.set_password("correct horse battery staple")
    local.save()
    settings.LOCAL_LOGIN_ENABLED = False
    client = Client()
    page = client.get("/accounts/login/")
    assert b"Sign in with Test provider" in page.content and b'name="password"' not in page.content
    client.post(
        "/accounts/login/", {"username": "localrisk", "password": "correct horse battery staple"}
    )
    assert "_auth_user_id" not in client.session
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "localrisk", "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert token.status_code == 400


def test_an_aged_session_renews_its_tokens_silently_at_the_provider(sso, settings):
    settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = 0
    client, browser = Client(), requests.Session()
    sso_sign_in(client, "lead", browser)
    aged = client.get("/inventory/")
    assert aged.status_code == 302 and "silent=1" in aged["Location"]
    to_provider = client.get(aged["Location"])["Location"]
    assert "prompt=none" in to_provider
    url = to_provider
    while not url.startswith(APP):  # no sign-in page: the provider's session answers
        answer = browser.get(url, allow_redirects=False, timeout=10)
        assert answer.is_redirect, answer.status_code
        url = requests.compat.urljoin(url, answer.headers["Location"])
    renewed = client.get(local_path(url))
    assert renewed.status_code == 302 and renewed["Location"] == "/inventory/"
    assert int(client.session["_auth_user_id"]) == User.objects.get(sso_identity__subject="lead").pk
