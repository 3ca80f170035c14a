"""The pure rules of the policy matrix: levels, parameter schemas, matrix validation,
diffs and the merge of policy cells with regulations' minimums."""

import pytest

from core import policy_rules as rules
from core.policy_rules import CellChange, Minimum

TIERS = [(1, "Low"), (2, "Medium")]
CONSIDERATIONS = [("human-signoff", "Human sign-off"), ("transparency", "Transparency")]


def full(level="medium"):
    return {(t, c): level for t, _ in TIERS for c, _ in CONSIDERATIONS}


def test_levels_are_ranked_none_to_strict():
    assert rules.LEVELS == ("none", "light", "medium", "strict")
    assert rules.stricter("light", "strict") == "strict"
    assert rules.stricter("medium", "light") == "medium"
    with pytest.raises(ValueError):
        rules.level_rank("extreme")


def test_every_consideration_has_a_schema():
    assert set(rules.PARAMETER_SCHEMAS) == set(rules.CONSIDERATIONS)
    assert len(rules.CONSIDERATIONS) == 9


def test_valid_parameters_pass():
    assert (
        rules.validate_parameters(
            "human-signoff",
            {
                "signoffs_per_move": 2,
                "environments": ["qa", "preprod", "prod"],
                "independent_validation": True,
                "blocks": [],
                "evidence": "signatures",
                "carry_over": False,
            },
        )
        == []
    )


def test_bad_parameters_are_named():
    errors = rules.validate_parameters(
        "human-signoff", {"signoffs_per_move": "two", "environments": ["moon"], "extra": 1}
    )
    assert any("extra" in e for e in errors)
    assert any("signoffs_per_move" in e and "whole number" in e for e in errors)
    assert any("environments" in e for e in errors)
    assert rules.validate_parameters("human-signoff", {}) == [
        "signoffs_per_move: missing.",
        "environments: missing.",
        "independent_validation: missing.",
        "blocks: missing.",
        "evidence: missing.",
        "carry_over: missing.",
    ]
    errors = rules.validate_parameters(
        "bias-harm-testing",
        {
            "automated_bias_checks": True,
            "disparate_impact_min": 1.5,
            "equalized_odds_max_diff": None,
            "red_team_testing": "yes",
            "blocks": ["prod"],
            "evidence": "document",
            "carry_over": False,
        },
    )
    assert errors == [
        "disparate_impact_min: must be at most 1.",
        "red_team_testing: must be true or false.",
    ]
    assert rules.validate_parameters("nope", {}) == ["Unknown consideration 'nope'."]
    assert rules.validate_parameters("transparency", []) == ["Parameters must be an object."]


def test_schema_as_data_is_plain():
    data = rules.schema_as_data("production-monitoring")
    assert data["input_drift_cadence"]["choices"] == ["daily", "weekly", "monthly"]
    assert data["psi_max"]["nullable"] is True


def test_complete_matrix_is_valid():
    assert rules.validate_matrix(full(), tiers=TIERS, considerations=CONSIDERATIONS) == []


def test_empty_matrix_is_refused():
    (error,) = rules.validate_matrix({}, tiers=TIERS, considerations=CONSIDERATIONS)
    assert "empty" in error


def test_missing_blank_and_unknown_cells_are_named():
    cells = full()
    del cells[(1, "transparency")]
    cells[(2, "human-signoff")] = ""
    cells[(2, "transparency")] = "extreme"
    cells[(9, "human-signoff")] = "light"
    cells[(1, "astrology")] = "light"
    errors = rules.validate_matrix(cells, tiers=TIERS, considerations=CONSIDERATIONS)
    assert "Low × Transparency: the cell names no measure." in errors
    assert "Medium × Human sign-off: the cell names no measure." in errors
    assert "Medium × Transparency: unknown measure level 'extreme'." in errors
    assert "Unknown risk tier 9." in errors
    assert "Unknown consideration 'astrology'." in errors


def test_diff_lists_changed_cells_in_order():
    old = {(1, "transparency"): "light", (1, "human-signoff"): "none", (2, "human-signoff"): "x"}
    new = {(1, "transparency"): "medium", (1, "human-signoff"): "none", (3, "human-signoff"): "y"}
    assert rules.diff_matrices(old, new) == [
        CellChange(1, "transparency", "light", "medium"),
        CellChange(2, "human-signoff", "x", None),
        CellChange(3, "human-signoff", None, "y"),
    ]
    assert rules.diff_matrices(old, old) == []


def test_merge_takes_the_stricter_level_and_says_why():
    merged = rules.merge_requirements(
        {"human-signoff": "none", "transparency": "strict"},
        [
            Minimum("human-signoff", "medium", "GDPR (gdpr-automated-decisions)"),
            Minimum("human-signoff", "light", "CCPA"),
            Minimum("transparency", "medium", "EU AI Act"),
            Minimum("bias-harm-testing", "medium", "EU AI Act (risk management)"),
        ],
        policy_label="Policy v1, Low tier",
    )
    assert merged["human-signoff"].level == "medium"
    assert "raised to medium by GDPR (gdpr-automated-decisions)" in merged["human-signoff"].why
    assert "CCPA" not in merged["human-signoff"].why
    assert merged["transparency"] == ("strict", "Policy v1, Low tier requires strict.")
    assert merged["bias-harm-testing"].level == "medium"
    assert merged["bias-harm-testing"].why.startswith("The policy sets no level")


def test_merge_keeps_the_policy_on_a_tie():
    merged = rules.merge_requirements(
        {"transparency": "medium"}, [Minimum("transparency", "medium", "GDPR")], policy_label="P"
    )
    assert merged["transparency"].why == "P requires medium."
