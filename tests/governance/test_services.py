"""Classification services: the default questionnaire and rules, end to end."""

import pytest
from django.core.exceptions import ValidationError

from governance.models import Classification, RiskRule
from governance.services import (
    classification_submit,
    risk_rules_changed,
    use_case_facts,
    use_cases_reclassify,
)
from inventory.models import Regulation
from tests.factories import UseCaseFactory, full_answers
from tests.outbox import published

pytestmark = pytest.mark.django_db


def test_low_risk_ad_hoc_analysis_is_level_1_low_tier(risk_officer):
    use_case = UseCaseFactory()
    c = classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    assert (c.criticality, c.risk_tier) == (1, 1)
    assert c.reasons == []
    use_case.refresh_from_db()
    assert (use_case.criticality, use_case.risk_tier) == (1, 1)
    assert c.previous_criticality is None and c.classified_by == risk_officer


def test_regulations_and_pii_come_from_the_use_case(risk_officer):
    use_case = UseCaseFactory(uses_pii=True)
    use_case.regulations.set(Regulation.objects.filter(code__in=["eu-ai-act", "gdpr"]))
    # An answer for a derived question is ignored: the use case is the source of truth.
    c = classification_submit(
        use_case=use_case, answers=full_answers(regulations=[]), by=risk_officer
    )
    assert c.answers["regulations"] == ["eu-ai-act", "gdpr"]
    assert c.answers["uses_pii"] is True
    assert c.risk_tier == 4
    decisive = [r["rule"] for r in c.reasons if r["decisive"]]
    assert decisive == ["EU AI Act high-risk system"]
    assert use_case_facts(use_case) == {"regulations": ["eu-ai-act", "gdpr"], "uses_pii": True}


def test_long_lived_decisions_make_a_small_audience_project_high_risk(data_scientist, team):
    """The book's warning: a self-service project with long-term impact can be high risk."""
    use_case = UseCaseFactory(team=team)
    c = classification_submit(
        use_case=use_case, answers=full_answers(impact_lifetime="years"), by=data_scientist
    )
    assert (c.criticality, c.risk_tier) == (1, 3)
    assert c.reasons[0]["rule"] == "Long-lasting effects"
    assert c.reasons[0]["triggered_by"] == [
        {"question": "How long do the effects of its decisions last?", "answer": "Years"}
    ]


@pytest.mark.parametrize(
    ("availability", "level"),
    [("adhoc", 1), ("scheduled", 2), ("scheduled_monitored", 3), ("realtime", 4)],
)
def test_availability_sets_the_criticality_level(risk_officer, availability, level):
    c = classification_submit(
        use_case=UseCaseFactory(),
        answers=full_answers(availability=availability),
        by=risk_officer,
    )
    assert c.criticality == level


def test_reclassification_keeps_history_from_and_to(risk_officer):
    use_case = UseCaseFactory()
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    second = classification_submit(
        use_case=use_case, answers=full_answers(audience="public"), by=risk_officer, note="x"
    )
    assert (second.previous_criticality, second.previous_risk_tier) == (1, 1)
    assert second.risk_tier == 3 and second.changed
    assert Classification.objects.filter(use_case=use_case).count() == 2


def test_invalid_answers_write_nothing(risk_officer):
    use_case = UseCaseFactory()
    with pytest.raises(ValidationError) as exc:
        classification_submit(
            use_case=use_case,
            answers=full_answers(audience="martians", error_impact=["fun"], colour="red"),
            by=risk_officer,
        )
    assert set(exc.value.message_dict) == {"audience", "error_impact", "colour"}
    assert not Classification.objects.exists()
    use_case.refresh_from_db()
    assert use_case.risk_tier is None


def test_classifications_are_append_only(risk_officer):
    c = classification_submit(use_case=UseCaseFactory(), answers=full_answers(), by=risk_officer)
    c.note = "rewritten"
    with pytest.raises(ValidationError):
        c.save()
    with pytest.raises(ValidationError):
        c.delete()
    assert Classification.objects.get(pk=c.pk).note == "Questionnaire answered."


def test_rule_change_re_evaluates_only_stale_classifications(risk_officer, governance_lead):
    use_case = UseCaseFactory()
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    assert use_cases_reclassify(by=governance_lead, note="n", only_stale=True)["evaluated"] == 0

    rule = RiskRule.objects.get(name="Scheduled batch")
    condition = rule.conditions.get()
    condition.values = ["adhoc"]
    condition.save()
    counts = use_cases_reclassify(by=governance_lead, note="rule changed", only_stale=True)
    assert counts == {"evaluated": 1, "changed": 1, "needs_answers": 0}
    latest = Classification.objects.filter(use_case=use_case).first()
    assert latest.criticality == 2 and latest.classified_by == governance_lead
    # Idempotent: nothing is stale any more.
    assert use_cases_reclassify(by=governance_lead, note="again", only_stale=True)["evaluated"] == 0


def test_answers_that_no_longer_fit_are_reported_not_crashed(risk_officer, governance_lead):
    use_case = UseCaseFactory()
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    RiskRule.objects.get(name="Scheduled batch").conditions.get().question.options.filter(
        code="adhoc"
    ).delete()
    counts = use_cases_reclassify(by=governance_lead, note="n")
    assert counts["needs_answers"] == 1
    assert Classification.objects.filter(use_case=use_case).count() == 1


def test_rules_changed_enqueues_after_commit(governance_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        risk_rules_changed(by=governance_lead)
    [kwargs] = published("governance.tasks.use_cases_reclassify")
    assert kwargs["by_id"] == governance_lead.pk


def test_default_rules_are_valid():
    from governance.models import RiskRuleCondition

    for condition in RiskRuleCondition.objects.select_related("question"):
        condition.full_clean()
