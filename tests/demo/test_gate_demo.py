"""Issue 12 in the demo: every version moved by the demo has its own version-scope
evidence, and the production versions still answer ``allowed`` at the gate, except the
three the demo blocks on purpose: a revoked approval, an overdue periodic review, and
the monitored version whose real drift alert opened a finding after its approval (an
open finding is part of what a signature binds)."""

import pytest

from demo.monitoring import USE_CASE as MONITORED
from demo.reviews import IN_PRODUCTION_DAYS, REVOKED
from governance.models import Obligation
from inventory.models import ModelVersion
from reviews.selectors.gate import gate_decision

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
            assert {r["code"] for r in decision.reasons} == {"signature-mismatch"}
            changes = [c for r in decision.reasons for c in r["changes"]]
            assert changes and all(c["what"] == "finding" for c in changes), changes
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
    from reviews.models import Finding
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
