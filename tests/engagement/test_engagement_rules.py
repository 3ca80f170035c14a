"""The pure rules of Step 7 (core.engagement_rules)."""

from datetime import date

from core import engagement_rules as er

ROLES = ["risk-officer", "approver"]


def module(**overrides):
    content = {
        "roles": ["approver"],
        "validity_days": 365,
        "sections": [{"heading": "Why", "body": "Because."}],
        "questions": [{"text": "2+2?", "choices": ["3", "4"], "answer": 1}],
    }
    content.update(overrides)
    return content


def test_a_valid_module_has_no_problems():
    assert er.validate_module(module(), known_roles=ROLES) == []


def test_bad_modules_are_explained():
    problems = er.validate_module(
        module(
            roles=["pilot"],
            validity_days=7,
            sections=[{"heading": "", "body": "x"}],
            questions=[
                {"text": "Q", "choices": ["a", "a"], "answer": 0},
                {"text": "Q", "choices": ["a", "b"], "answer": 2},
                "not an object",
            ],
        ),
        known_roles=ROLES,
    )
    assert "Section 1 has no heading." in problems
    assert "Question 1 needs at least two distinct, non-empty choices." in problems
    assert "Question 2's answer must be the index of one of its choices." in problems
    assert "Question 3 must be an object with text, choices and an answer." in problems
    assert "Unknown roles: pilot." in problems
    assert any(p.startswith("Validity") for p in problems)
    assert er.validate_module(module(questions=[]), known_roles=ROLES) == [
        "A module needs at least one question to check understanding."
    ]


def test_quiz_passes_only_with_every_answer_right():
    questions = [
        {"text": "a", "choices": ["x", "y"], "answer": 1},
        {"text": "b", "choices": ["x", "y", "z"], "answer": 2},
    ]
    assert er.quiz_score(questions, {0: 1, 1: 2}).passed
    result = er.quiz_score(questions, {0: 1, 1: 0})
    assert (result.correct, result.total, result.wrong, result.passed) == (1, 2, (2,), False)
    assert er.quiz_score(questions, {}).wrong == (1, 2)


def test_attestation_lapses_the_day_after_it_is_due():
    due = date(2026, 12, 10)
    assert er.attestation_state(due_on=due, acknowledged=False, today=due) == er.DUE
    assert er.attestation_state(due_on=due, acknowledged=False, today=date(2026, 12, 11)) == (
        er.LAPSED
    )
    assert er.attestation_state(due_on=due, acknowledged=True, today=date(2027, 1, 1)) == er.DONE


def test_training_due_after_the_grace_then_lapsed_and_expiry():
    start = date(2026, 1, 1)
    due = er.training_status(applies_from=start, grace_days=30, expires_on=None, today=start)
    assert (due.state, due.due_on) == (er.DUE, date(2026, 1, 31))
    late = er.training_status(
        applies_from=start, grace_days=30, expires_on=None, today=date(2026, 2, 1)
    )
    assert late.state == er.LAPSED
    done = er.training_status(
        applies_from=start, grace_days=30, expires_on=date(2027, 1, 1), today=date(2026, 6, 1)
    )
    assert (done.state, done.expires_on) == (er.DONE, date(2027, 1, 1))
    expired = er.training_status(
        applies_from=start, grace_days=30, expires_on=date(2027, 1, 1), today=date(2027, 1, 1)
    )
    assert expired.state == er.LAPSED


def test_policy_settings_are_checked():
    assert (
        er.validate_engagement(
            attestation_days=14, training_grace_days=30, roles=ROLES, known_roles=ROLES
        )
        == {}
    )
    errors = er.validate_engagement(
        attestation_days=0, training_grace_days=True, roles=["x"], known_roles=ROLES
    )
    assert set(errors) == {"attestation_days", "training_grace_days", "attestation_roles"}
    assert er.validate_engagement(
        attestation_days=5, training_grace_days=5, roles=[], known_roles=ROLES
    ) == {"attestation_roles": ["Name at least one role that must acknowledge."]}
