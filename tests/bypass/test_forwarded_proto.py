"""A client claiming https with its own X-Forwarded-Proto header: without
DJANGO_TRUST_X_FORWARDED_PROTO the claim is ignored, so the https redirect and secure
cookies still apply (issue 13)."""

import pytest


@pytest.fixture
def https_required(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None  # what production has unless configured


def test_a_spoofed_x_forwarded_proto_is_still_redirected_to_https(client, db, https_required):
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_a_spoofed_header_gets_no_token_over_http(client, db, https_required, auditor):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": auditor.username, "password": "irrelevant"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 301


def test_the_header_counts_once_configured(client, db, https_required, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
