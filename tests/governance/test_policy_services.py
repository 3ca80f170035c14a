"""Step 4 policies: the default content, drafts, publishing rules, immutability (in
the services and in the models), diffs and the merge with regulations' requirements."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core import policy_rules
from governance.models import (
    Consideration,
    Measure,
    PolicyCell,
    PolicyVersion,
    Requirement,
)
from governance.selectors import (
    policy_default,
    policy_published_latest,
    policy_requirements_for,
    policy_version_cells,
    policy_version_diff,
)
from governance.services import (
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
)
from inventory.choices import RiskTier
from tests.governance.four_eyes import other_lead, policy_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return policy_default()


@pytest.fixture
def draft(policy, governance_lead):
    return policy_draft_create(policy=policy, by=governance_lead)


# --- Default content ------------------------------------------------------------------


def test_nine_considerations_with_four_measures_each():
    codes = list(Consideration.objects.values_list("code", flat=True))
    assert codes == list(policy_rules.CONSIDERATIONS)
    for consideration in Consideration.objects.all():
        levels = set(consideration.measures.values_list("level", flat=True))
        assert levels == set(policy_rules.LEVELS), consideration.code
    for measure in Measure.objects.select_related("consideration"):
        assert measure.text.strip()
        measure.full_clean()  # parameters fit the schema


SIGNATURES = {"blocks": [], "evidence": "signatures", "carry_over": False}


def test_default_measure_parameters():
    def params(code, level):
        return Measure.objects.get(consideration__code=code, level=level).parameters

    assert params("human-signoff", "strict") == {
        "signoffs_per_move": 2,
        "environments": ["qa", "preprod", "prod"],
        "independent_validation": True,  # issue 12: High and Critical by default
        **SIGNATURES,
    }
    assert params("human-signoff", "medium") == {
        "signoffs_per_move": 1,
        "environments": ["prod"],
        "independent_validation": False,
        **SIGNATURES,
    }
    # Issue 12: every measure says what it blocks and what satisfies it.
    assert params("bias-harm-testing", "medium")["blocks"] == ["preprod", "prod"]
    assert params("production-monitoring", "strict")["evidence"] == "monitoring-config"
    bias = params("bias-harm-testing", "medium")
    assert bias["automated_bias_checks"] is True
    assert (bias["disparate_impact_min"], bias["equalized_odds_max_diff"]) == (0.8, 0.1)
    assert params("production-monitoring", "medium")["input_drift_cadence"] == "weekly"
    assert params("production-monitoring", "medium")["psi_max"] == 0.2
    strict = params("production-monitoring", "strict")
    assert strict["input_drift_cadence"] == "daily" and strict["real_time_alerting"] is True
    assert params("audit-documentation", "medium")["periodic_review_days"] == 365


def test_default_policy_v1_is_published_and_complete():
    """v1 is the default policy shipped with the product; v2 (issue 12) republished it
    with the gate parameters, v3 with the independent validation parameter; same
    levels."""
    version = policy_published_latest()
    assert version.number == 3 and version.status == PolicyVersion.Status.PUBLISHED
    assert version.published_by is None and version.based_on.number == 2
    v2 = version.based_on
    assert v2.published_by is None and v2.based_on.number == 1
    assert v2.based_on.change_note == "Default policy shipped with the product"
    assert policy_version_cells(version) == policy_version_cells(v2.based_on)
    cells = policy_version_cells(version)
    assert len(cells) == 36
    problems = policy_rules.validate_matrix(
        cells,
        tiers=RiskTier.choices,
        considerations=Consideration.objects.values_list("code", "name"),
    )
    assert problems == []
    assert cells[(RiskTier.CRITICAL, "human-signoff")] == "strict"
    assert cells[(RiskTier.HIGH, "human-signoff")] == "strict"
    assert cells[(RiskTier.MEDIUM, "human-signoff")] == "medium"
    assert cells[(RiskTier.LOW, "human-signoff")] == "none"
    assert [cells[(t, "bias-harm-testing")] for t in RiskTier.values] == [
        "none",
        "medium",
        "medium",
        "strict",
    ]
    assert [cells[(t, "production-monitoring")] for t in RiskTier.values] == [
        "light",
        "medium",
        "medium",
        "strict",
    ]
    # Stricter tiers never ask for less.
    for code in policy_rules.CONSIDERATIONS:
        ranks = [policy_rules.level_rank(cells[(t, code)]) for t in RiskTier.values]
        assert ranks == sorted(ranks), code


def test_requirements_catalogue_covers_every_regulation():
    codes = set(Requirement.objects.values_list("regulation__code", flat=True))
    assert codes == {
        "sr-11-7",
        "pra-ss1-23",
        "pra-ss3-18",
        "gxp",
        "fda-21-cfr-part-11",
        "gdpr",
        "gdpr-art-22",
        "ccpa",
        "eu-ai-act",
        "eu-trustworthy-ai",
    }
    assert Requirement.objects.filter(regulation__code="eu-trustworthy-ai").count() == 7
    alcoa = Requirement.objects.get(code="gxp-alcoa")
    assert {(m.consideration.code, m.min_level) for m in alcoa.minimums.all()} == {
        ("audit-documentation", "strict"),
        ("reproducibility", "strict"),
    }


# --- Drafts and publishing -------------------------------------------------------------


def test_draft_copies_the_latest_published_version(draft, governance_lead):
    assert draft.status == PolicyVersion.Status.DRAFT and draft.number is None
    assert draft.created_by == governance_lead and draft.based_on.number == 3
    assert policy_version_cells(draft) == policy_version_cells(draft.based_on)


def test_only_one_draft_at_a_time(draft, policy, governance_lead):
    with pytest.raises(ValidationError, match="already has a draft"):
        policy_draft_create(policy=policy, by=governance_lead)


def test_only_governance_leads_change_policies(policy, draft, risk_officer, data_scientist):
    with pytest.raises(PermissionDenied):
        policy_draft_create(policy=policy, by=risk_officer)
    with pytest.raises(PermissionDenied):
        policy_cells_set(version=draft, cells={(1, "transparency"): "strict"}, by=data_scientist)
    with pytest.raises(PermissionDenied):
        policy_publish(version=draft, by=risk_officer, note="x")


def test_publish_numbers_and_attributes_the_version(draft, governance_lead):
    policy_cells_set(version=draft, cells={(1, "transparency"): "medium"}, by=governance_lead)
    published = policy_publish(version=draft, by=governance_lead, note="Explain low-tier models.")
    published.refresh_from_db()
    assert (published.status, published.number) == ("published", 4)
    # Published by the second lead whose signature made it take effect.
    assert published.published_by == other_lead() and published.published_at is not None
    assert published.change_note == "Explain low-tier models."
    assert policy_published_latest() == published
    # The next draft starts from v4 and publishes as v5.
    again = policy_draft_create(policy=published.policy, by=governance_lead)
    assert again.based_on == published
    assert policy_publish(version=again, by=governance_lead, note="No change").number == 5


def test_publishing_needs_a_note(draft, governance_lead):
    with pytest.raises(ValidationError) as exc:
        policy_publish(version=draft, by=governance_lead, note="  ")
    assert "note" in exc.value.message_dict


def test_publishing_an_empty_policy_is_refused(draft, governance_lead):
    draft.cells.all().delete()
    with pytest.raises(ValidationError, match="empty"):
        policy_publish(version=draft, by=governance_lead, note="Empty")
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.DRAFT and draft.number is None


def test_publishing_an_incomplete_policy_names_the_missing_cells(draft, governance_lead):
    PolicyCell.objects.filter(
        version=draft, tier=RiskTier.HIGH, consideration__code="transparency"
    ).delete()
    with pytest.raises(ValidationError) as exc:
        policy_publish(version=draft, by=governance_lead, note="Incomplete")
    assert exc.value.message_dict["cells"] == [
        "High × Transparency and explainability: the cell names no measure."
    ]


def test_bad_cells_are_refused_and_nothing_is_written(draft, governance_lead):
    before = policy_version_cells(draft)
    with pytest.raises(ValidationError) as exc:
        policy_cells_set(
            version=draft,
            cells={
                (1, "transparency"): "strict",  # valid, but must not be written
                (2, "human-signoff"): "",
                (3, "astrology"): "strict",
                (4, "transparency"): "extreme",
                (7, "transparency"): "light",
            },
            by=governance_lead,
        )
    errors = exc.value.message_dict["cells"]
    assert "Medium × Human-in-the-loop sign-off: the cell names no measure." in errors
    assert "Unknown consideration 'astrology'." in errors
    assert any("unknown measure level 'extreme'" in e for e in errors)
    assert any("Unknown risk tier 7" in e for e in errors)
    assert policy_version_cells(draft) == before


def test_a_published_version_cannot_be_edited_through_services(policy, governance_lead):
    v1 = policy_published_latest()
    with pytest.raises(ValidationError, match="published"):
        policy_cells_set(version=v1, cells={(1, "transparency"): "strict"}, by=governance_lead)
    with pytest.raises(ValidationError, match="published"):
        policy_publish(version=v1, by=governance_lead, note="Again")
    with pytest.raises(ValidationError, match="published"):
        policy_draft_discard(version=v1, by=governance_lead)


def test_models_refuse_to_change_a_published_version():
    v1 = policy_published_latest()
    cell = v1.cells.first()
    cell.level = "strict" if cell.level != "strict" else "none"
    with pytest.raises(ValidationError):
        cell.save()
    with pytest.raises(ValidationError):
        cell.delete()
    with pytest.raises(ValidationError):
        PolicyCell(version=v1, tier=1, consideration=cell.consideration, level="none").save()
    v1.change_note = "Rewritten history"
    with pytest.raises(ValidationError):
        v1.save()
    with pytest.raises(ValidationError):
        v1.delete()
    v1.refresh_from_db()
    assert "published by the system migration" in v1.change_note


def test_a_draft_can_be_discarded(draft, governance_lead):
    policy_draft_discard(version=draft, by=governance_lead)
    assert not PolicyVersion.objects.filter(pk=draft.pk).exists()
    assert not PolicyCell.objects.filter(version_id=draft.pk).exists()


def test_diff_of_two_versions(draft, governance_lead):
    policy_cells_set(
        version=draft,
        cells={(1, "transparency"): "medium", (4, "transparency"): "strict"},
        by=governance_lead,
    )
    v2 = policy_publish(version=draft, by=governance_lead, note="More transparency")
    changes = policy_version_diff(old=policy_published_latest().based_on, new=v2)
    assert [
        (c["tier_label"], c["consideration"], c["before"]["level"], c["after"]["level"])
        for c in changes
    ] == [
        ("Low", "transparency", "light", "medium"),
        ("Critical", "transparency", "medium", "strict"),
    ]
    assert changes[0]["after"]["text"].startswith("Explainability tools")


# --- Requirements for a tier and regulations ------------------------------------------


def test_requirements_without_regulations_are_the_policy_row():
    result = policy_requirements_for(tier=RiskTier.LOW, regulation_codes=[])
    assert list(result) == list(policy_rules.CONSIDERATIONS)
    signoff = result["human-signoff"]
    assert signoff.level == "none" and signoff.why == "Policy v3, Low tier requires none."
    assert result["production-monitoring"].parameters["infrastructure_alerts"] is True


def test_regulations_raise_levels_and_say_why():
    result = policy_requirements_for(tier=RiskTier.LOW, regulation_codes=["gdpr", "gxp"])
    signoff = result["human-signoff"]
    assert signoff.level == "medium"
    assert signoff.parameters == {
        "signoffs_per_move": 1,
        "environments": ["prod"],
        "independent_validation": False,
        **SIGNATURES,
    }
    assert "raised to medium" in signoff.why
    assert "gdpr-automated-decisions" in signoff.why and "gxp-accountability" in signoff.why
    assert result["audit-documentation"].level == "strict"
    assert "gxp-alcoa" in result["audit-documentation"].why
    assert result["transparency"].level == "medium"


def test_the_policy_wins_when_it_is_already_stricter():
    result = policy_requirements_for(tier=RiskTier.CRITICAL, regulation_codes=["gdpr"])
    assert result["human-signoff"].level == "strict"
    assert result["human-signoff"].why == "Policy v3, Critical tier requires strict."
    assert result["human-signoff"].parameters["signoffs_per_move"] == 2


def test_eu_ai_act_minimums_for_a_low_tier():
    result = policy_requirements_for(tier=RiskTier.LOW, regulation_codes=["eu-ai-act"])
    levels = {code: r.level for code, r in result.items()}
    assert levels["bias-harm-testing"] == "medium"
    assert levels["transparency"] == "medium"
    assert levels["audit-documentation"] == "strict"
    assert levels["human-signoff"] == "medium"
    assert result["bias-harm-testing"].parameters["disparate_impact_min"] == 0.8


def test_published_versions_keep_the_measure_text_and_parameters_they_were_published_with(
    governance_lead,
):
    """Editing the measure catalogue later never changes what a published version
    requires (a published version is immutable in substance, not only in levels)."""
    from governance.models import Measure
    from governance.selectors import policy_published_latest, policy_requirements_for

    v1 = policy_published_latest()
    before = policy_requirements_for(tier=4, version=v1)["human-signoff"]
    measure = Measure.objects.get(consideration__code="human-signoff", level=before.level)
    measure.text = "Rewritten"
    measure.parameters = {**measure.parameters, "signoffs_per_move": 3}
    measure.save()
    after = policy_requirements_for(tier=4, version=v1)["human-signoff"]
    assert (after.text, after.parameters) == (before.text, before.parameters)
    assert after.parameters["signoffs_per_move"] == 2
