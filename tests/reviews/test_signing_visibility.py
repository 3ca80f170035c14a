"""Only signers see signing (issue 18): the request page offers the decision dialog only
to those who may approve or reject one of its sign-offs, a review that decides nothing
to those who may only give that, nothing to anyone else; Approve is shown disabled with
the reason while blocking items are open. The server refuses a signature posted by
anyone the page offers nothing, whatever the page shows."""

import re

import pytest
from django.urls import reverse

from reviews.models import BlockingWaiver, PromotionRequest, Signature
from reviews.services import promotion as svc
from tests.reviews.signoff_world import PASSWORD, satisfy, with_password

pytestmark = pytest.mark.django_db


def page(client, req):
    return client.get(reverse("reviews:request-detail", args=[req.pk])).content.decode()


def dialog(client, req):
    return client.get(reverse("reviews:request-sign", args=[req.pk]))


def radio(html, meaning):
    """The meaning's radio input, or None when the dialog does not show it."""
    found = re.search(rf'<input type="radio" name="meaning" value="{meaning}"[^>]*>', html)
    return found.group(0) if found else None


@pytest.fixture
def req(world, data_scientist):
    _, version = world
    return svc.request_create(version=version, by=data_scientist, justification="Ready for QA.")


def test_only_the_signers_of_a_sign_off_see_the_decision_dialog(
    req, client_for, risk_officer, data_scientist, auditor, second_risk_officer
):
    signer = page(client_for(risk_officer), req)
    assert 'data-testid="sign-button"' in signer and "Review and sign as" in signer
    html = dialog(client_for(risk_officer), req).content.decode()
    assert radio(html, "approved") and "disabled" not in radio(html, "approved")
    assert radio(html, "rejected")

    for nobody in (data_scientist, auditor):  # the requester; a role that never signs
        shown = page(client_for(nobody), req)
        assert "sign-button" not in shown and "review-button" not in shown
        assert 'data-testid="why-not"' in shown  # why not, instead of a button
        refused = dialog(client_for(nobody), req)
        assert refused.status_code == 403 and 'name="meaning"' not in refused.content.decode()

    # Not Accountable for any sign-off: only a review that decides nothing.
    reviewer = page(client_for(second_risk_officer), req)
    assert "sign-button" not in reviewer and 'data-testid="review-button"' in reviewer
    html = dialog(client_for(second_risk_officer), req).content.decode()
    assert radio(html, "reviewed") and not radio(html, "approved") and not radio(html, "rejected")


def test_a_non_signer_posting_a_signature_directly_is_refused(
    req, client_for, data_scientist, auditor, second_risk_officer
):
    with_password(auditor)
    for who, meaning in (
        (auditor, "approved"),
        (data_scientist, "approved"),
        (second_risk_officer, "approved"),
        (second_risk_officer, "rejected"),
    ):
        response = client_for(who).post(
            reverse("reviews:request-sign", args=[req.pk]),
            {"meaning": meaning, "password": PASSWORD, "reason": "Trying anyway."},
        )
        assert response.status_code == 403, (who, meaning)
    assert not Signature.objects.exists()
    req.refresh_from_db()
    assert req.status == PromotionRequest.Status.PENDING


def test_approve_is_disabled_with_the_reason_while_blocking_items_are_open(
    world, client_for, data_scientist, risk_officer, governance_lead
):
    from inventory.services import model_version_move

    _, version = world
    model_version_move(version=version, to_environment="qa")
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"bias-harm-testing"})
    req = svc.request_create(version=version, by=data_scientist, justification="To preprod.")
    reason = "Blocking items must be resolved or waived before anyone approves."

    shown = page(client_for(risk_officer), req)
    assert 'data-testid="sign-button"' in shown
    assert f"Approve is not open to you yet: {reason} You may still reject it." in shown
    html = dialog(client_for(risk_officer), req).content.decode()
    assert "disabled" in radio(html, "approved")
    assert f'data-testid="why-disabled-approved">{reason}</span>' in html
    assert "disabled" not in radio(html, "rejected")
    # Posted anyway: refused before the password, nothing signed.
    refused = client_for(risk_officer).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": PASSWORD},
    )
    assert refused.status_code == 403
    assert not Signature.objects.filter(request=req).exists()

    client_for(governance_lead).post(
        reverse("reviews:request-waive", args=[req.pk]),
        {"code": "obligation:bias-harm-testing", "reason": "Summary attached offline."},
    )
    assert BlockingWaiver.objects.count() == 1
    html = dialog(client_for(risk_officer), req).content.decode()
    assert "disabled" not in radio(html, "approved") and "why-disabled" not in html
    assert "why-not" not in page(client_for(risk_officer), req)


def test_a_request_needing_no_sign_off_says_it_is_blocked_and_why(
    team, data_scientist, governance_lead, client_for
):
    """Issue 18: "Sign-offs: 0 of 0" on a pending request read as nothing to do."""
    from governance.services import obligations_recompute
    from inventory.choices import RiskTier
    from tests.factories import ModelVersionFactory, UseCaseFactory

    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.LOW, criticality=1)
    obligations_recompute(use_case=use_case)
    version = ModelVersionFactory(
        model__use_case=use_case, authors=[data_scientist], training_data_ref="snap://1"
    )
    req = svc.request_create(version=version, by=data_scientist, justification="Pilot.")
    assert req.status == "pending" and req.required_signoffs == 0
    shown = page(client_for(data_scientist), req)
    assert "0 of 0" not in shown and "Sign-offs: none required" in shown
    blocked = re.search(r'data-testid="blocked">(.*?)</div>', shown, re.S).group(1)
    assert re.search(r"Blocked</strong> by \d+ open blocking items?", blocked)
    assert "RACI" in blocked and "needs no sign-off, but it cannot go ahead" in blocked

    svc.blocking_waive(request=req, by=governance_lead, code="raci", reason="Team of one.")
    assert 'data-testid="blocked"' not in page(client_for(data_scientist), req)
