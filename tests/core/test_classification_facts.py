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


def test_sector_and_purpose_imply_their_regulations_unless_declared():
    """Issue 12: regulations implied by the sector and purpose (DOMAIN.md, Step 1)."""
    q = facts.SECTOR_QUESTION
    implied = facts.implied_regulations({q: ["bank_credit"]}, ["pra-ss1-23"])
    assert list(implied) == ["sr-11-7"] and "SR 11-7" in implied["sr-11-7"]
    assert set(facts.implied_regulations({q: ["bank_stress_test"]}, [])) == {
        "sr-11-7",
        "pra-ss1-23",
        "pra-ss3-18",
    }
    assert set(facts.implied_regulations({q: ["pharma_clinical"]}, ["gxp"])) == {
        "fda-21-cfr-part-11"
    }
    labels = {"automated_individual_decisions": "Automated decisions"}
    why = facts.implied_regulations({q: ["automated_individual_decisions"]}, [], None, labels)
    assert list(why) == ["gdpr-art-22"] and "“Automated decisions”" in why["gdpr-art-22"]
    assert facts.implied_regulations({q: []}, []) == {}
    assert facts.implied_regulations({q: ["unknown-option"]}, []) == {}
    # One answer implying what another already implies names it once.
    both = facts.implied_regulations({q: ["bank_credit", "bank_stress_test"]}, [])
    assert sorted(both) == ["pra-ss1-23", "pra-ss3-18", "sr-11-7"]


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
