"""The demo's Step 2 content: an approved position and use-case answers that explain,
but do not change, the demo's tiers."""

import pytest

from demo import ethics as demo_ethics
from governance.models import EthicsAnswerSet
from governance.selectors import ethics_critical_aspects_for, ethics_position_current
from inventory.models import UseCase
from tests.demo.conftest import seed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]

RULE = "Touches an aspect the organisation holds critical"


def test_demo_position_and_answers():
    position = ethics_position_current()
    assert position.answers["critical_aspects"] == ["privacy", "bias"]
    assert position.answered_by.username == "governance.lead"
    assert position.approval.approved_by.username == "ethics.lead"
    for name in demo_ethics.USE_CASE_ANSWERS:
        use_case = UseCase.objects.get(name=name)
        latest = use_case.classifications.first()
        rules = [r["rule"] for r in latest.reasons]
        if ethics_critical_aspects_for(use_case=use_case):
            assert use_case.risk_tier >= 3 and RULE in rules, name
        else:
            assert RULE not in rules, name
    counts = EthicsAnswerSet.objects.count()
    seed()
    assert EthicsAnswerSet.objects.count() == counts == len(demo_ethics.USE_CASE_ANSWERS) + 1


def test_demo_position_results_from_an_approved_proposal_and_a_proposal_is_pending():
    from governance.models import FrameworkChange

    position = ethics_position_current()
    change = FrameworkChange.objects.get(answer_set=position)
    decision = change.decision
    assert (decision.outcome, decision.auth_method) == ("approved", "seeded")
    assert decision.by != change.proposed_by
    pending = FrameworkChange.objects.filter(decision__isnull=True)
    assert [c.kind for c in pending] == ["risk_rule_edit"]
    assert pending.get().proposed_by.username == "governance.lead"
    seed()
    assert FrameworkChange.objects.count() == 2


def test_demo_deviations_name_the_use_cases_below_the_position():
    from governance.models import EthicsDeviation

    open_rows = EthicsDeviation.objects.filter(closed_at=None).select_related("use_case", "owner")
    by_use_case = {}
    for row in open_rows:
        by_use_case.setdefault(row.use_case.name, set()).add(row.code)
    assert by_use_case["Next-best-offer recommender"] == {"transparency"}
    assert by_use_case["Agent reply assistant"] == {"psychology:deception"}
    assert "Retail credit application scoring" not in by_use_case
    # Owned by the Accountable of model acceptance wherever the RACI names one (the
    # agent reply assistant is still an idea, with no RACI yet).
    assert all(row.owner is not None for row in open_rows if row.use_case.status != "idea")


def test_demo_production_deviations_are_accepted_and_the_prohibited_harm_blocks():
    """The production use cases' deviations are accepted by their Accountable (signed,
    180 days); the idea declaring deception would be stopped past QA."""
    from demo.ethics import ACCEPTED
    from governance.models import EthicsDeviation
    from governance.selectors.ethics import ethics_blocking
    from inventory.models import UseCase

    for name, (code, _reason) in ACCEPTED.items():
        row = EthicsDeviation.objects.get(use_case__name=name, code=code, closed_at=None)
        acceptance = row.acceptances.get()
        assert acceptance.accepted_by == row.owner
        assert acceptance.accepted_by.username == "risk.officer"
        assert ethics_blocking(row.use_case, "prod") == []
    idea = UseCase.objects.get(name="Agent reply assistant")
    assert [code for code, _ in ethics_blocking(idea, "prod")] == ["ethics:psychology:deception"]
    assert ethics_blocking(idea, "qa") == []
