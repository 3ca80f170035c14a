"""Independent validation (issue 12): the policy parameter that asks for it, the role's
place among the signers, and the validator's own path through the pages."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.middleware import idle_limit_minutes
from accounts.roles import Role
from inventory.choices import RiskTier
from reviews.models import Finding, Signature, Validation
from reviews.selectors.validation import validation_required
from tests.bypass.test_account_security import _groups, _user_form
from tests.factories import ModelVersionFactory, user_with_role
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.django_db

RECORD = {
    "scope": "The model and its hold-out evaluation.",
    "conceptual_soundness": "Sound for the purpose.",
    "data": "No leakage found.",
    "outcomes_analysis": "Back-tested on two quarters.",
    "limitations": "Not for small businesses.",
}


@pytest.mark.parametrize(
    ("tier", "required"),
    [
        (RiskTier.LOW, False),
        (RiskTier.MEDIUM, False),
        (RiskTier.HIGH, True),
        (RiskTier.CRITICAL, True),
    ],
)
def test_the_policy_asks_high_and_critical_versions_for_a_validation(tier, required):
    version = ModelVersionFactory(model__use_case__risk_tier=tier)
    assert validation_required(version) is required


def test_validators_are_signers_for_the_idle_timeout(db):
    validator = user_with_role(Role.VALIDATOR, username="val")
    assert idle_limit_minutes(validator) == settings.SESSION_IDLE_MINUTES_SIGNERS


def test_a_lead_cannot_make_someone_a_validator_alone(client_for, governance_lead, data_scientist):
    url = reverse("admin:auth_user_change", args=[data_scientist.pk])
    form = _user_form(data_scientist, groups=[Role.DATA_SCIENTIST, Role.VALIDATOR])
    response = client_for(governance_lead).post(url, form)
    assert response.status_code == 400
    assert "second governance lead" in response.content.decode()
    assert _groups(data_scientist) == {Role.DATA_SCIENTIST}


def test_an_independent_validator_records_and_signs_on_the_pages(world, client_for):
    _, version = world
    validator = with_password(user_with_role(Role.VALIDATOR, username="val"))
    page = client_for(validator)
    shown = page.get(reverse("reviews:validations", args=[version.pk]))
    assert shown.status_code == 200 and b'id="validation-form"' in shown.content
    missing = page.post(reverse("reviews:validations", args=[version.pk]), {**RECORD})
    assert missing.status_code == 400 and Validation.objects.count() == 0
    conditions = page.post(
        reverse("reviews:validations", args=[version.pk]),
        {**RECORD, "conclusion": "approve_with_conditions"},
    )
    assert conditions.status_code == 400 and b"names its conditions" in conditions.content
    made = page.post(
        reverse("reviews:validations", args=[version.pk]),
        {
            **RECORD,
            "conclusion": "approve_with_conditions",
            "findings": "Recalibrate the cut-off | on 2026 applications",
        },
    )
    assert made.status_code == 302
    validation = Validation.objects.get()
    assert not Finding.objects.exists()  # opened when signed
    dialog = page.get(reverse("reviews:validation-sign", args=[validation.pk]))
    assert dialog.status_code == 200 and b'id="sign-form"' in dialog.content
    signed = page.post(
        reverse("reviews:validation-sign", args=[validation.pk]), {"password": PASSWORD}
    )
    assert signed.status_code == 302
    validation.refresh_from_db()
    assert validation.is_signed
    signature = Signature.objects.get(validation=validation)
    assert signature.meaning == "validated" and signature.signer == validator
    assert signature.manifest["artifact_sha256"] == version.artifact_sha256
    finding = Finding.objects.get()
    assert (finding.source, finding.validation, finding.title) == (
        "validation",
        validation,
        "Recalibrate the cut-off",
    )
    detail = page.get(reverse("reviews:validation-detail", args=[validation.pk]))
    assert detail.status_code == 200 and b"never changed" in detail.content
    assert b'id="validation-form"' not in detail.content
