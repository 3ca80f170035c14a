"""Issue 12 in the demo: every version moved by the demo has its own version-scope
evidence, and the production versions still answer ``allowed`` at the gate, except the
two the demo blocks on purpose: a revoked approval and an overdue periodic review. The
monitored version's real drift alert opened a finding after its approval was signed:
not part of what was signed, so it stays ``allowed`` and the answer names the finding
as a warning (item 8: routine work no longer turns production red)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from demo.monitoring import USE_CASE as MONITORED
from demo.reviews import IN_PRODUCTION_DAYS, REVOKED
from governance.models import Obligation
from inventory.models import ModelVersion
from reviews.models import Finding
from reviews.selectors.gate import gate_decision
from tests.factories import api_token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]

BLOCKED_ON_PURPOSE = {REVOKED: "approval-revoked", "IFRS 9 probability of default": None}


def test_production_versions_are_allowed():
    assert "IFRS 9 probability of default" in IN_PRODUCTION_DAYS
    in_prod = ModelVersion.objects.filter(environment="prod").select_related("model__use_case")
    assert in_prod.count() >= 3
    for version in in_prod:
        decision = gate_decision(version, "prod")
        name = version.model.use_case.name
        if name == MONITORED:
            assert decision.allowed, (name, decision.reasons)
            # The drift alert's finding (and the findings of the bias summary the
            # monitoring's scored data fed), each raised by the system after approval.
            sources = set()
            for warning in decision.warnings:
                finding = Finding.objects.get(pk=warning["finding"])
                assert warning["code"] == "finding-opened-after-approval"
                assert finding.status == "open" and warning["opened_by"] == "system"
                assert warning["request"] == decision.request.pk
                assert finding.opened_at > decision.request.decided_at
                sources.add(finding.source)
            assert "monitoring" in sources, decision.warnings
            continue
        if name in BLOCKED_ON_PURPOSE:
            assert not decision.allowed
            codes = {r["code"] for r in decision.reasons}
            assert codes <= {"approval-revoked", "periodic-review-overdue"}, (name, codes)
            continue
        assert decision.allowed, (name, decision.reasons)


def test_production_evidence_was_produced_for_the_version_in_production():
    for version in ModelVersion.objects.filter(environment="prod"):
        accepted = Obligation.objects.filter(
            model_version=version, active=True, status="accepted", evidence_sha256=""
        ).exclude(evidence_link="")
        assert accepted.exists(), version
        for ob in accepted:
            assert ob.evidence_version_id == version.pk
            assert ob.evidence_artifact_sha256 == version.artifact_sha256


def test_high_and_critical_versions_past_qa_were_independently_validated():
    """Issue 12: the policy asks High and Critical versions for a signed validation
    before preprod; the demo's validator is outside every team."""
    from reviews.selectors.validation import validation_current, validator_refusal

    past_qa = ModelVersion.objects.filter(
        environment__in=["preprod", "prod"], model__use_case__risk_tier__gte=3
    ).select_related("model__use_case")
    assert past_qa.exists()
    for version in past_qa:
        validation = validation_current(version)
        assert validation is not None and validation.approves, version
        assert validation.validator.username == "model.validator"
        assert validator_refusal(validation.validator, version) is None, version
    conditional = Finding.objects.filter(validation__isnull=False)
    assert conditional.count() == 1
    assert conditional.get().acceptances.exists()


def test_the_pipeline_asking_about_the_monitored_version_is_allowed_with_the_warning():
    """Asked as the demo's pipeline would (its team's token, by SHA-256), the
    monitored version answers ``allowed``; the warning is in the answer and in the gate
    log the auditor reads."""
    version = ModelVersion.objects.get(environment="prod", model__use_case__name=MONITORED)
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_for(User.objects.get(username='credit.modeller'))}"
    )
    answer = api.post(
        "/api/v1/gate/",
        {"artifact_sha256": version.artifact_sha256, "environment": "prod"},
        format="json",
    ).json()
    assert answer["allowed"] is True, answer["reasons"]
    assert answer["warnings"]
    assert {w["code"] for w in answer["warnings"]} == {"finding-opened-after-approval"}
    auditor = Client()
    auditor.force_login(User.objects.get(username="auditor"))
    log = auditor.get(reverse("reviews:gate-log"), {"version": version.pk})
    assert log.status_code == 200 and b"finding-opened-after-approval" in log.content
