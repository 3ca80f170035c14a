"""The admin of API tokens: a token made there is the maker's, its secret shown once."""

from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken


def test_a_lead_makes_a_token_for_themselves_and_sees_it_once(client_for, governance_lead):
    lead = client_for(governance_lead)
    response = lead.post(reverse("admin:accounts_apitoken_add"), {"name": "my laptop"})
    assert response.status_code == 302
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (governance_lead, "my laptop")
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    secret = text.split("store it now): ")[1].split()[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/use-cases/").status_code == 200
    changelist = reverse("admin:accounts_apitoken_changelist")
    assert secret in lead.get(changelist).content.decode()  # the message, this once
    assert secret not in lead.get(changelist).content.decode()


def test_a_lead_revokes_a_token_and_never_deletes_one(client_for, governance_lead, approver):
    from accounts.services import api_token_create

    token, secret = api_token_create(user=approver)
    lead = client_for(governance_lead)
    changelist = reverse("admin:accounts_apitoken_changelist")
    lead.post(changelist, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_reason == "revoked by lead in the admin"
    delete = reverse("admin:accounts_apitoken_delete", args=[token.pk])
    assert lead.post(delete, {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/use-cases/").status_code == 401
