"""The gate client's download needs a governance role, like the gate itself (issue
17): an account without one, or no account, gets no file, by the page or the API, and
nothing is written but the refusal's audit event."""

import pytest
from django.urls import reverse

from accounts.services import api_token_create, api_token_revoke
from reviews.models import GateCall

pytestmark = pytest.mark.django_db

API_CLIENT = "/api/v1/gate/client/"
MARK = b"def main("  # a line of the client's source


def test_an_account_without_a_role_gets_no_client(client_for, api_client_for, no_role_user):
    page = client_for(no_role_user).get(reverse("reviews:gate-client"))
    assert page.status_code == 403
    assert b"no governance role" in page.content and MARK not in page.content
    api = api_client_for(no_role_user).get(API_CLIENT)
    assert api.status_code == 403
    assert api.json()["detail"] == "You need a governance role."
    assert GateCall.objects.count() == 0


def test_no_account_gets_no_client(client):
    page = client.get(reverse("reviews:gate-client"))
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    api = client.get(API_CLIENT)
    assert api.status_code == 401 and MARK not in api.content


def test_a_revoked_pipeline_token_gets_no_client(client, data_scientist):
    token, secret = api_token_create(user=data_scientist, name="ci")
    api_token_revoke(token=token, reason="Leaked in a build log.")
    api = client.get(API_CLIENT, HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.status_code == 401 and MARK not in api.content
