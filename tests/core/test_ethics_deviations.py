"""The ethical position applied (issue 12): pure comparison of a use case's ethics
answers with the organisation's position."""

from core import ethics_rules as er

SCALE = er.Question("transparency", "How transparent?", er.SCALE, scale_min=1, scale_max=5)
PSYCHOLOGY = er.Question(
    "psychology",
    "Psychology?",
    er.MULTI,
    options={"deception": "Deception", "manipulation": "Manipulation", "human_ai": "Human-AI"},
)
POSITION_QS = [SCALE]
USE_CASE_QS = [SCALE, PSYCHOLOGY]


def codes(found):
    return [(d.code, d.kind) for d in found]


def test_a_scale_answer_below_the_position_beyond_tolerance_deviates():
    found = er.deviations(POSITION_QS, {"transparency": 4}, USE_CASE_QS, {"transparency": 1})
    assert codes(found) == [("transparency", er.BELOW_POSITION)]
    assert (found[0].position_value, found[0].use_case_value) == (4, 1)
    assert "answered 1 of 5" in found[0].message and "tolerance 1" in found[0].message


def test_within_tolerance_or_above_does_not_deviate():
    for answer in (3, 4, 5):
        assert (
            er.deviations(POSITION_QS, {"transparency": 4}, USE_CASE_QS, {"transparency": answer})
            == []
        )
    assert (
        er.deviations(
            POSITION_QS, {"transparency": 4}, USE_CASE_QS, {"transparency": 2}, tolerance=2
        )
        == []
    )
    assert codes(
        er.deviations(
            POSITION_QS, {"transparency": 4}, USE_CASE_QS, {"transparency": 3}, tolerance=0
        )
    ) == [("transparency", er.BELOW_POSITION)]


def test_a_prohibited_harm_always_deviates():
    answers = {"transparency": 5, "psychology": ["human_ai", "manipulation"]}
    found = er.deviations(POSITION_QS, {"transparency": 1}, USE_CASE_QS, answers, tolerance=4)
    assert codes(found) == [("psychology:manipulation", er.PROHIBITED)]
    assert "Manipulation" in found[0].message


def test_nothing_without_both_answer_sets_or_with_different_scales():
    assert er.deviations(POSITION_QS, None, USE_CASE_QS, {"transparency": 1}) == []
    assert er.deviations(POSITION_QS, {"transparency": 5}, USE_CASE_QS, None) == []
    other_range = er.Question("transparency", "?", er.SCALE, scale_min=1, scale_max=10)
    assert er.deviations([other_range], {"transparency": 9}, USE_CASE_QS, {"transparency": 1}) == []
