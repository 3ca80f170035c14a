"""No one acts as someone else (issue 12, item 6) and no password is guessed (issue
13, hardening): each route that was observed to work is tried again, as the user who
tried it, and shown refused with nothing written."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.middleware import LAST_ACTIVITY
from accounts.models import ApiToken, RoleGrant
from accounts.roles import Role
from accounts.services import api_token_create
from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, user_with_role

API = "/api/v1"
LOGIN = "/accounts/login/"
TOKEN = f"{API}/auth/token/"


@pytest.fixture
def second_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead2", is_staff=True)


def _groups(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _user_form(user, *, groups, email=None) -> dict:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": email if email is not None else user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "groups": [Group.objects.get(name=g).pk for g in groups],
    }


# --- Tokens: never shown again, expire, die with a password change -------------------


def test_the_admin_lists_tokens_without_their_secret(client_for, governance_lead, approver):
    token, secret = api_token_create(user=approver)
    lead = client_for(governance_lead)
    page = lead.get(reverse("admin:accounts_apitoken_changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    assert secret not in body and token.digest not in body
    assert f"{token.prefix}…" in body
    detail = lead.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert secret not in detail and token.digest not in detail
    # DRF's clear-text token admin is gone.
    assert lead.get("/admin/authtoken/tokenproxy/").status_code == 404


def test_what_the_admin_shows_does_not_authenticate(approver):
    token, secret = api_token_create(user=approver)
    for guess in (token.prefix, token.digest, f"{token.prefix}..."):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {guess}")
        assert client.get(f"{API}/use-cases/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(f"{API}/use-cases/").status_code == 200


def test_a_token_is_stored_hashed(approver):
    token, secret = api_token_create(user=approver)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}


def test_an_expired_token_is_refused(approver):
    token, secret = api_token_create(user=approver)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.get(f"{API}/use-cases/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_token_expires_after_the_configured_days(settings, approver):
    settings.API_TOKEN_DAYS = 7
    response = APIClient().post(TOKEN, {"username": "approver", "password": PASSWORD})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=approver)
    assert timedelta(days=6, hours=23) < token.expires - timezone.now() <= timedelta(days=7)
    event = AuditEvent.objects.get(action="api_token.created")
    assert (event.actor_id, event.parent_id) == (approver.pk, str(approver.pk))


def test_a_password_change_revokes_the_users_tokens(approver):
    _, secret = api_token_create(user=approver)
    page = Client()
    page.force_login(approver)
    response = page.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.get(f"{API}/use-cases/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="api_token.revoked", object_type="accounts.apitoken")


@pytest.mark.django_db(transaction=True)
def test_old_clear_text_tokens_are_dropped_by_the_migration(owner_connection):
    from importlib import import_module

    from django.db import connection

    migration = import_module("accounts.migrations.0001_accsec_tokens_role_grants")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('clear-text-key')")
        editor = SimpleNamespace(
            connection=connection, execute=cursor.execute, quote_name=connection.ops.quote_name
        )
        migration.drop_clear_text_tokens(None, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token clear-text-key")
    assert client.get(f"{API}/use-cases/").status_code == 401


# --- Passwords: a lead never sets another person's ----------------------------------


def test_a_lead_cannot_reset_a_signers_password(client_for, governance_lead, approver):
    lead = client_for(governance_lead)
    url = reverse("admin:auth_user_password_change", args=[approver.pk])
    assert lead.get(url).status_code == 403
    response = lead.post(url, {"password1": "lead-knows-this-1", "password2": "lead-knows-this-1"})
    assert response.status_code == 403
    approver.refresh_from_db()
    assert approver.check_password(PASSWORD)
    assert not Client().login(username="approver", password="lead-knows-this-1")


def test_a_lead_cannot_redirect_a_signers_password_reset(client_for, governance_lead, approver):
    lead = client_for(governance_lead)
    url = reverse("admin:auth_user_change", args=[approver.pk])
    form = _user_form(approver, groups=[Role.APPROVER], email="lead@example.com")
    lead.post(url, form)
    assert User.objects.get(pk=approver.pk).email == "approver@example.com"


def test_a_superuser_may_reset_a_password_and_it_is_audited(client_for, approver):
    root = client_for(UserFactory(username="root", is_superuser=True, is_staff=True))
    _, secret = api_token_create(user=approver)
    url = reverse("admin:auth_user_password_change", args=[approver.pk])
    new = "break-glass-passphrase-9"
    response = root.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    approver.refresh_from_db()
    assert approver.check_password(new)
    assert ApiToken.objects.get(user=approver).revoked_at is not None
    event = (
        AuditEvent.objects.filter(object_type="auth.user", object_id=str(approver.pk))
        .order_by("seq")
        .last()
    )
    assert event.changes["password"] == ["(changed)", "(changed)"]
    assert "Break-glass" in event.reason
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get(f"{API}/use-cases/").status_code == 401


# --- Roles: no self-grant, approval roles only with a second lead --------------------


def test_a_lead_cannot_add_themselves_to_the_approver_group(client_for, governance_lead):
    lead = client_for(governance_lead)
    url = reverse("admin:auth_user_change", args=[governance_lead.pk])
    before = AuditEvent.objects.count()
    for role in (Role.APPROVER, Role.RISK_OFFICER, Role.DATA_SCIENTIST):
        response = lead.post(url, _user_form(governance_lead, groups=[Role.GOVERNANCE_LEAD, role]))
        assert response.status_code == 400
        assert "cannot give yourself a role" in response.content.decode()
    assert _groups(governance_lead) == {Role.GOVERNANCE_LEAD}
    assert AuditEvent.objects.count() == before


def test_a_lead_cannot_make_someone_an_approver_alone(client_for, governance_lead, data_scientist):
    lead = client_for(governance_lead)
    url = reverse("admin:auth_user_change", args=[data_scientist.pk])
    form = _user_form(data_scientist, groups=[Role.DATA_SCIENTIST, Role.APPROVER])
    response = lead.post(url, form)
    assert response.status_code == 400
    assert "second governance lead" in response.content.decode()
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST}


def test_a_lead_still_assigns_roles_without_approval_duty(
    client_for, governance_lead, data_scientist
):
    lead = client_for(governance_lead)
    url = reverse("admin:auth_user_change", args=[data_scientist.pk])
    form = _user_form(data_scientist, groups=[Role.DATA_SCIENTIST, Role.AUDITOR])
    response = lead.post(url, form)
    assert response.status_code == 302
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST, Role.AUDITOR}


def test_an_approval_role_takes_two_leads(client_for, governance_lead, second_lead, data_scientist):
    first, second = client_for(governance_lead), client_for(second_lead)
    add = reverse("admin:accounts_rolegrant_add")
    response = first.post(
        add, {"user": data_scientist.pk, "role": Role.APPROVER, "reason": "Joins the CAB."}
    )
    assert response.status_code == 302
    grant = RoleGrant.objects.get()
    assert (grant.status, grant.requested_by) == ("pending", governance_lead)
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST}

    changelist = reverse("admin:accounts_rolegrant_changelist")
    action = {"action": "confirm", "_selected_action": [grant.pk]}
    response = first.post(changelist, action, follow=True)
    assert "cannot confirm it" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == "pending"
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST}

    second.post(changelist, action)
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by) == ("confirmed", second_lead)
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST, Role.APPROVER}
    actions = list(
        AuditEvent.objects.filter(object_type="accounts.rolegrant")
        .order_by("seq")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("role_grant.requested", governance_lead.pk),
        ("role_grant.confirmed", second_lead.pk),
    ]


def test_a_lead_cannot_request_a_role_for_themselves(client_for, governance_lead):
    lead = client_for(governance_lead)
    response = lead.post(
        reverse("admin:accounts_rolegrant_add"),
        {"user": governance_lead.pk, "role": Role.APPROVER, "reason": "I sign too."},
    )
    assert response.status_code == 400
    assert "cannot request a role for yourself" in response.content.decode()
    assert not RoleGrant.objects.exists()


def test_the_grantee_cannot_confirm_their_own_grant(client_for, governance_lead, second_lead):
    grant = RoleGrant.objects.create(
        user=second_lead, role=Role.APPROVER, reason="r", requested_by=governance_lead
    )
    client_for(second_lead).post(
        reverse("admin:accounts_rolegrant_changelist"),
        {"action": "confirm", "_selected_action": [grant.pk]},
    )
    grant.refresh_from_db()
    assert grant.status == "pending"
    assert _groups(second_lead) == {Role.GOVERNANCE_LEAD}


def test_other_roles_cannot_reach_role_grants(client_for, users_by_role):
    for role, user in users_by_role.items():
        if role == Role.GOVERNANCE_LEAD:
            continue
        user.is_staff = True
        user.save()
        response = client_for(user).get(reverse("admin:accounts_rolegrant_add"))
        assert response.status_code == 302  # the admin sends them to its login page


def test_a_superuser_grants_directly_and_it_is_audited_as_break_glass(client_for, data_scientist):
    root = client_for(UserFactory(username="root", is_superuser=True, is_staff=True))
    url = reverse("admin:auth_user_change", args=[data_scientist.pk])
    form = _user_form(data_scientist, groups=[Role.DATA_SCIENTIST, Role.APPROVER])
    joined = timezone.localtime(data_scientist.date_joined)
    form |= {"date_joined_0": joined.date().isoformat(), "date_joined_1": "00:00:00"}
    response = root.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Role.APPROVER in _groups(data_scientist)
    updates = AuditEvent.objects.filter(object_type="auth.user", action="update")
    event = updates.order_by("seq").last()
    assert "groups" in event.changes
    assert "Break-glass" in event.reason


# --- Brute force: 30 wrong passwords, then the right one, is refused ----------------


def test_thirty_wrong_passwords_lock_the_login_page(approver):
    client = Client()
    statuses = [
        client.post(LOGIN, {"username": "approver", "password": f"guess-{i}"}).status_code
        for i in range(30)
    ]
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {403}
    response = client.post(LOGIN, {"username": "approver", "password": PASSWORD})
    assert response.status_code == 403
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    events = AuditEvent.objects.filter(action="login.locked_out")
    assert [(e.object_id, e.object_repr) for e in events] == [(str(approver.pk), "approver")]


def test_thirty_wrong_passwords_lock_the_token_endpoint(approver):
    client = APIClient()
    statuses = [
        client.post(TOKEN, {"username": "approver", "password": f"guess-{i}"}).status_code
        for i in range(30)
    ]
    assert statuses[:4] == [400] * 4
    assert set(statuses[4:]) == {403}
    response = client.post(TOKEN, {"username": "approver", "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "locked-out"
    assert "Too many failed sign-in attempts" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="login.locked_out").count() == 1


def test_a_lock_on_the_token_endpoint_holds_on_the_login_page(approver):
    for i in range(5):
        APIClient().post(TOKEN, {"username": "approver", "password": f"guess-{i}"})
    response = Client().post(LOGIN, {"username": "approver", "password": PASSWORD})
    assert response.status_code == 403


def test_one_address_guessing_many_accounts_is_locked(approver, risk_officer, auditor):
    client = Client()
    for i, name in enumerate(["approver", "risk", "auditor", "nobody", "approver"]):
        client.post(LOGIN, {"username": name, "password": f"guess-{i}"})
    response = client.post(LOGIN, {"username": "risk", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_one_account_guessed_from_many_addresses_is_locked(approver):
    for i in range(5):
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post(
            LOGIN, {"username": "approver", "password": f"guess-{i}"}
        )
    client = Client(REMOTE_ADDR="10.0.0.99")
    response = client.post(LOGIN, {"username": "approver", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_the_cool_off(approver):
    from axes.models import AccessAttempt

    client = Client()
    for i in range(5):
        client.post(LOGIN, {"username": "approver", "password": f"guess-{i}"})
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = client.post(LOGIN, {"username": "approver", "password": PASSWORD})
    assert response.status_code == 302


# --- Sessions end when left idle -------------------------------------------------------


def _idle(client, minutes: int) -> None:
    session = client.session
    session[LAST_ACTIVITY] = session[LAST_ACTIVITY] - minutes * 60
    session.save()


def test_a_signers_session_ends_after_thirty_idle_minutes(client_for, risk_officer):
    client = client_for(risk_officer)
    assert client.get("/").status_code == 200
    _idle(client, 29)
    assert client.get("/").status_code == 200
    _idle(client, 31)
    response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN)
    assert "without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_idle_session_is_refused_on_the_api(client_for, approver):
    client = client_for(approver)
    assert client.get(f"{API}/use-cases/").status_code == 200
    _idle(client, 31)
    response = client.get(f"{API}/use-cases/")
    assert response.status_code == 403
    assert response.json()["code"] == "session-expired"


def test_other_users_get_the_longer_idle_time(settings, client_for, data_scientist):
    settings.SESSION_IDLE_MINUTES = 120
    client = client_for(data_scientist)
    assert client.get("/").status_code == 200
    _idle(client, 60)
    assert client.get("/").status_code == 200
    _idle(client, 121)
    assert client.get("/").status_code == 302
