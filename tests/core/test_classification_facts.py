"""Pure checks of Step 1 answers against the data, and requirement states (issue 12)."""

from core import classification_facts as facts
from core import regulation_rules as reg


def test_pii_columns_contradict_uses_pii_no():
    found = facts.contradictions(
        answers={}, uses_pii=False, pii_columns={"loans": ["national_id"], "other": []}
    )
    assert [c.code for c in found] == ["pii-undeclared"]
    assert "loans: national_id" in found[0].message and found[0].question == "uses_pii"


def test_declared_pii_or_no_pii_columns_is_consistent():
    assert facts.contradictions(answers={}, uses_pii=True, pii_columns={"a": ["x"]}) == []
    assert facts.contradictions(answers={}, uses_pii=False, pii_columns={"a": []}) == []


def test_an_article_5_practice_is_a_contradiction_named_by_its_label():
    found = facts.contradictions(
        answers={facts.PROHIBITED_QUESTION: ["social_scoring"]},
        uses_pii=True,
        pii_columns={},
        prohibited_labels={"social_scoring": "Social scoring"},
    )
    assert [c.code for c in found] == ["prohibited-practice"]
    assert "Social scoring" in found[0].message


def test_annex_iii_implies_the_eu_ai_act_unless_declared():
    answers = {facts.ANNEX_III_QUESTION: ["employment"]}
    assert list(facts.implied_regulations(answers, ["gdpr"])) == ["eu-ai-act"]
    assert facts.implied_regulations(answers, ["eu-ai-act"]) == {}
    assert facts.implied_regulations({facts.ANNEX_III_QUESTION: []}, []) == {}


def test_requirement_state_is_its_weakest_part():
    minimums = {"human-signoff": "medium", "transparency": "medium"}
    accepted = {"level": "strict", "status": "accepted"}
    assert (
        reg.requirement_state(minimums, {"human-signoff": accepted, "transparency": accepted})[0]
        == reg.MET
    )
    waived = {"level": "medium", "status": "waived"}
    assert (
        reg.requirement_state(minimums, {"human-signoff": accepted, "transparency": waived})[0]
        == reg.WAIVED
    )
    open_ = {"level": "medium", "status": "evidence_submitted"}
    assert (
        reg.requirement_state(minimums, {"human-signoff": open_, "transparency": waived})[0]
        == reg.OPEN
    )
    light = {"level": "light", "status": "accepted"}
    state, parts = reg.requirement_state(minimums, {"human-signoff": light})
    assert state == reg.MISSING and [p.state for p in parts] == [reg.MISSING, reg.MISSING]
