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
