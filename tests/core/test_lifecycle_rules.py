"""core.lifecycle_rules: a use case's status follows its versions' environments."""

import pytest

from core.lifecycle_rules import lifecycle_allowed, lifecycle_check, lifecycle_derive


@pytest.mark.parametrize(
    ("envs", "allowed"),
    [
        ([], ("idea", "development", "retired")),
        (["dev"], ("development", "retired")),
        (["dev", "qa"], ("validation",)),
        (["preprod", "retired"], ("validation",)),
        (["prod", "dev", "qa"], ("production",)),
        (["retired", "retired"], ("retired",)),
    ],
)
def test_allowed_statuses_follow_the_environments(envs, allowed):
    assert lifecycle_allowed(envs)[0] == allowed


def test_a_contradicted_status_is_refused_with_the_reason():
    reason = lifecycle_check("production", ["dev"])
    assert "cannot be production" in reason and "development only" in reason
    assert lifecycle_check("retired", ["prod"]).startswith("The status cannot be retired")
    assert lifecycle_check("development", ["dev"]) is None


@pytest.mark.parametrize(
    ("current", "envs", "derived"),
    [
        ("development", ["prod"], "production"),
        ("production", ["preprod"], "validation"),
        ("validation", ["dev"], "development"),
        ("idea", ["dev"], "development"),
        ("retired", ["dev"], "retired"),
        ("production", ["retired"], "retired"),
        ("idea", [], "idea"),
    ],
)
def test_derive_keeps_an_allowed_status_and_follows_a_move(current, envs, derived):
    assert lifecycle_derive(current, envs) == derived
