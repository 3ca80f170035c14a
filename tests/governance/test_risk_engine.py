"""The pure Step 1 rules engine: no database."""

import pytest

from core import risk_engine as e

QUESTIONS = [
    e.Question(
        "audience",
        "Who consumes the results?",
        e.SINGLE,
        {"public": "The public", "team": "One team"},
    ),
    e.Question(
        "impact",
        "What would an error affect?",
        e.MULTI,
        {"personal": "People", "financial": "Money"},
    ),
    e.Question("pii", "Uses PII?", e.BOOLEAN),
]


def rule(id, conditions, crit=None, tier=None):
    return e.Rule(
        id=id,
        name=f"rule {id}",
        explanation="why",
        conditions=tuple(conditions),
        min_criticality=crit,
        min_tier=tier,
    )


def test_baseline_when_no_rule_matches():
    result = e.evaluate(
        QUESTIONS,
        [rule(1, [e.Condition("audience", e.EQUALS, ("public",))], tier=3)],
        {"audience": "team", "impact": [], "pii": False},
    )
    assert (result.criticality, result.tier, result.reasons) == (1, 1, ())


def test_highest_floor_wins_and_decisive_reasons_come_first():
    rules = [
        rule(1, [e.Condition("pii", e.IS_TRUE)], tier=2),
        rule(2, [e.Condition("impact", e.INCLUDES_ANY, ("personal",))], tier=3, crit=2),
        rule(3, [e.Condition("audience", e.EQUALS, ("public",))], crit=4),
    ]
    result = e.evaluate(
        QUESTIONS, rules, {"audience": "public", "impact": ["personal"], "pii": True}
    )
    assert result.criticality == 4 and result.tier == 3
    assert [r.rule_id for r in result.reasons if r.decisive] == [2, 3]
    assert [r.rule_id for r in result.reasons][-1] == 1
    reason = next(r for r in result.reasons if r.rule_id == 2)
    assert reason.triggered_by == ({"question": "What would an error affect?", "answer": "People"},)


def test_all_conditions_of_a_rule_must_hold():
    both = rule(
        1,
        [
            e.Condition("audience", e.EQUALS, ("public",)),
            e.Condition("impact", e.INCLUDES_ANY, ("personal",)),
        ],
        tier=4,
    )
    assert (
        e.evaluate(QUESTIONS, [both], {"audience": "public", "impact": [], "pii": False}).tier == 1
    )
    assert (
        e.evaluate(
            QUESTIONS, [both], {"audience": "public", "impact": ["personal"], "pii": False}
        ).tier
        == 4
    )


@pytest.mark.parametrize(
    ("operator", "values", "answer", "expected"),
    [
        (e.EQUALS, ("public",), "public", True),
        (e.ANY_OF, ("public", "team"), "team", True),
        (e.ANY_OF, ("public",), "team", False),
        (e.INCLUDES_ANY, ("personal", "financial"), ["financial"], True),
        (e.INCLUDES_ALL, ("personal", "financial"), ["financial"], False),
        (e.INCLUDES_ALL, ("personal", "financial"), ["financial", "personal"], True),
        (e.IS_TRUE, (), True, True),
        (e.IS_FALSE, (), True, False),
        (e.EQUALS, ("public",), None, False),
    ],
)
def test_operators(operator, values, answer, expected):
    assert e._matches(e.Condition("q", operator, values), answer) is expected


def test_validate_answers_names_each_problem():
    errors = e.validate_answers(
        QUESTIONS,
        {"audience": "aliens", "impact": ["personal", "x"], "pii": "yes", "colour": "red"},
    )
    assert set(errors) == {"audience", "impact", "pii", "colour"}
    assert "aliens" in errors["audience"] and "x" in errors["impact"]


def test_validate_answers_requires_answers_but_accepts_an_empty_multi_choice():
    assert e.validate_answers(QUESTIONS, {}) == {
        "audience": "An answer is required.",
        "impact": "An answer is required.",
        "pii": "An answer is required.",
    }
    assert e.validate_answers(QUESTIONS, {"audience": "team", "impact": [], "pii": False}) == {}


def test_validate_condition():
    q = {x.code: x for x in QUESTIONS}
    assert e.validate_condition(e.Condition("audience", e.EQUALS, ("public",)), q["audience"]) == []
    assert e.validate_condition(e.Condition("audience", e.INCLUDES_ANY, ("public",)), q["audience"])
    assert e.validate_condition(e.Condition("audience", e.EQUALS, ("mars",)), q["audience"])
    assert e.validate_condition(
        e.Condition("audience", e.EQUALS, ("public", "team")), q["audience"]
    )
    assert e.validate_condition(e.Condition("pii", e.IS_TRUE, ("x",)), q["pii"])
    assert e.validate_condition(e.Condition("nope", e.IS_TRUE), None)


def test_fingerprint_ignores_order_but_not_content():
    a = rule(1, [e.Condition("audience", e.ANY_OF, ("public", "team"))], tier=3)
    b = rule(2, [e.Condition("pii", e.IS_TRUE)], tier=2)
    a_reordered = rule(1, [e.Condition("audience", e.ANY_OF, ("team", "public"))], tier=3)
    assert e.fingerprint([a, b]) == e.fingerprint([b, a_reordered])
    assert e.fingerprint([a, b]) != e.fingerprint(
        [a, rule(2, [e.Condition("pii", e.IS_TRUE)], tier=3)]
    )
