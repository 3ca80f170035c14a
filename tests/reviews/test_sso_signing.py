"""Signing under single sign-on keeps Part 11's re-authentication (issue 17): the
dialog sends the signer to a real OpenID provider with prompt=login and max_age=0; the
signature is accepted only with a fresh auth_time for the same subject, for exactly the
pending signature it was started for. The signer tries to get around it."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from accounts.models import SsoIdentity
from accounts.sso import stepup
from audit.models import AuditEvent
from reviews.models import PromotionRequest, Signature
from tests.reviews.signoff_world import PASSWORD
from tests.sso_fixtures import APP
from tests.sso_provider import local_path, sign_in_at, sso_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(world, settings, provider, client_for, data_scientist, risk_officer):
    """A pending request the risk officer signs; the risk officer signs in through the
    provider as subject "risk"."""
    sso_settings(settings, provider)
    use_case, version = world
    client_for(data_scientist).post(
        reverse("reviews:request-create", args=[version.pk]),
        {"kind": "promote", "justification": "Validated on the 2026 holdout."},
    )
    SsoIdentity.objects.create(user=risk_officer, issuer=provider.issuer, subject="risk")
    browser = requests.Session()
    client = Client()
    started = client.get("/oidc/authenticate/")
    assert (
        client.get(local_path(sign_in_at(browser, started["Location"], "risk", APP))).status_code
        == 302
    )
    assert int(client.session["_auth_user_id"]) == risk_officer.pk
    return PromotionRequest.objects.get(), client, browser


def start_signing(client, req, meaning="approved", reason=""):
    response = client.post(
        reverse("reviews:request-sign", args=[req.pk]), {"meaning": meaning, "reason": reason}
    )
    assert response.status_code == 302, response.content[:400]
    return response["Location"]


def test_the_dialog_asks_no_password_and_signs_through_the_provider(pending, provider):
    req, client, browser = pending
    dialog = client.get(reverse("reviews:request-sign", args=[req.pk]))
    assert dialog.status_code == 200 and b'name="password"' not in dialog.content
    assert b"Sign in again at Test provider" in dialog.content
    to_provider = start_signing(client, req)
    query = parse_qs(urlsplit(to_provider).query)
    assert to_provider.startswith(provider.issuer)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    back = local_path(sign_in_at(browser, to_provider, "risk", APP))
    signed = client.get(back)
    assert signed.status_code == 302 and signed["Location"] == f"/reviews/requests/{req.pk}/"
    signature = Signature.objects.get()
    assert signature.auth_method == "provider re-authentication"
    assert signature.meaning == "approved" and signature.slot == "model-acceptance"
    event = AuditEvent.objects.get(action="signature.reauthenticated")
    assert event.changes["subject"] == [None, "risk"]
    # The same answer again (a replayed state and code): refused, nothing more signed.
    replay = client.get(back)
    assert replay.status_code == 400 and b"already used" in replay.content
    assert Signature.objects.count() == 1


def test_another_subject_at_the_provider_signs_nothing(pending):
    req, client, browser = pending
    back = local_path(sign_in_at(browser, start_signing(client, req), "lead", APP))
    refused = client.get(back)
    assert refused.status_code == 403
    assert b"signed in &#x27;lead&#x27;, not you" in refused.content
    assert not Signature.objects.exists()
    assert AuditEvent.objects.filter(action="signature.refused").exists()


def test_an_old_auth_time_signs_nothing(pending, monkeypatch, settings):
    req, client, browser = pending
    back = local_path(sign_in_at(browser, start_signing(client, req), "risk", APP))
    # The answer arrives after the window: the clock the service judges by moves on.
    later = time.time() + settings.OIDC_STEPUP_MAX_AGE_SECONDS + 5
    monkeypatch.setattr(stepup, "now", lambda: later)
    refused = client.get(back)
    assert refused.status_code == 403 and b"seconds old" in refused.content
    assert not Signature.objects.exists()


def test_a_re_authentication_cannot_be_used_for_another_pending_signature(pending):
    req, client, browser = pending
    first = start_signing(client, req, meaning="rejected", reason="No rollback plan.")
    second = start_signing(client, req, meaning="approved")
    back_first = urlsplit(sign_in_at(browser, first, "risk", APP))
    back_second = urlsplit(sign_in_at(browser, second, "risk", APP))
    # The code of the rejection with the state of the approval.
    code = parse_qs(back_first.query)["code"][0]
    state = parse_qs(back_second.query)["state"][0]
    crossed = client.get(reverse("sso-stepup-callback"), {"code": code, "state": state})
    assert crossed.status_code == 400 and b"nothing was signed" in crossed.content
    assert not Signature.objects.exists()


def test_an_sso_signer_posting_a_password_is_refused(pending):
    req, client, _ = pending
    response = client.post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "reason": "", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert b"not with a password" in response.content
    assert not Signature.objects.exists()


def test_the_api_refuses_a_password_from_an_sso_signer(pending):
    req, client, _ = pending
    response = client.post(
        f"/api/v1/promotion-requests/{req.pk}/sign/",
        {"meaning": "approved", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 403 and "not with a password" in response.json()["detail"]
    assert not Signature.objects.exists()


def test_a_local_signer_cannot_sign_with_a_password_when_local_sign_in_is_off(
    world, settings, client_for, data_scientist, approver
):
    use_case, version = world
    client_for(data_scientist).post(
        reverse("reviews:request-create", args=[version.pk]),
        {"kind": "promote", "justification": "Validated on the 2026 holdout."},
    )
    req = PromotionRequest.objects.get()
    settings.LOCAL_LOGIN_ENABLED = False
    response = client_for(approver).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "reason": "", "password": PASSWORD},
    )
    assert response.status_code == 403 and b"Local accounts are switched off" in response.content
    assert not Signature.objects.exists()
