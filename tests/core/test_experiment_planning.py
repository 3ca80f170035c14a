"""Planning a draft's protocol (core.experiment_stats.plan_protocol): the plan of a valid
protocol, and the field errors of a bad one, without Django."""

import pytest

from core import experiment_stats as st

AB = {
    "alpha": 0.05,
    "power": 0.8,
    "minimum_effect": 0.02,
    "baseline_proportion": 0.1,
    "split": {"champion": 50, "challenger": 50},
    "daily_traffic": 1000,
}


def test_plan_of_a_valid_protocol():
    plan, errors = st.plan_protocol(design="ab", metric_kind="proportion", protocol=AB)
    assert errors == {}
    assert plan.protocol == st.validate_protocol(
        {"design": "ab", "metric_kind": "proportion", **AB}
    )
    assert plan.sample_size == st.sample_size(plan.protocol)
    assert plan.sample_size.total > 0 and plan.sample_size.duration_days_ceil > 0


def test_none_means_default_and_shadow_ignores_the_split():
    plan, errors = st.plan_protocol(
        design="ab", metric_kind="proportion", protocol={**AB, "spending": None}
    )
    assert errors == {} and plan.protocol.spending == "obrien-fleming"
    protocol = {**AB, "discordant_proportion": 0.2}
    plan, errors = st.plan_protocol(design="shadow", metric_kind="proportion", protocol=protocol)
    assert errors == {} and plan.protocol.split is None and plan.protocol.paired


@pytest.mark.parametrize(
    ("protocol", "errors"),
    [
        ([AB], {"protocol": "The protocol must be an object of its fields."}),
        ({**AB, "design": "ab", "zeta": 1}, {"design": "Unknown protocol field."}),
        ({**AB, "alpha": 1.5}, {"alpha": "alpha must be strictly between 0 and 1, not 1.5"}),
        (
            {**AB, "split": {"champion": 60, "challenger": 50}},
            {"split": "shares sum to 110.0%, not 100%"},
        ),
        (
            {**AB, "guardrails": [{"name": ""}]},
            {"guardrails[0].name": "is required"},
        ),
    ],
)
def test_field_errors(protocol, errors):
    assert st.plan_protocol(design="ab", metric_kind="proportion", protocol=protocol) == (
        None,
        errors,
    )


def test_limits_are_parameters():
    plan, _ = st.plan_protocol(design="ab", metric_kind="proportion", protocol=AB)
    total = plan.sample_size.total
    assert st.plan_protocol(
        design="ab", metric_kind="proportion", protocol=AB, max_units=total - 1
    ) == (None, {"minimum_effect": f"Needs {total:,} units: the minimum effect is too small."})
    assert (
        st.plan_protocol(design="ab", metric_kind="proportion", protocol=AB, max_units=total)[1]
        == {}
    )


def test_input_fields_of_a_stored_protocol():
    plan, _ = st.plan_protocol(design="ab", metric_kind="proportion", protocol=AB)
    stored = plan.protocol.to_dict()
    kept = st.input_fields(stored)
    assert set(kept) == set(st.PROTOCOL_INPUT_FIELDS)
    assert "design" in stored and "design" not in kept
    # a stored protocol plans to the same plan again
    assert st.plan_protocol(design="ab", metric_kind="proportion", protocol=kept) == (plan, {})


def test_too_large_to_run():
    tiny = {**AB, "minimum_effect": 0.000001}
    total = st.sample_size(
        st.validate_protocol({"design": "ab", "metric_kind": "proportion", **tiny})
    ).total
    assert total > st.MAX_PLANNED_UNITS
    assert st.plan_protocol(design="ab", metric_kind="proportion", protocol=tiny) == (
        None,
        {"minimum_effect": f"Needs {total:,} units: the minimum effect is too small."},
    )
    slow = {**AB, "daily_traffic": 0.5}
    days = st.sample_size(
        st.validate_protocol({"design": "ab", "metric_kind": "proportion", **slow})
    ).duration_days_ceil
    assert days > st.MAX_PLANNED_DAYS
    assert st.plan_protocol(design="ab", metric_kind="proportion", protocol=slow) == (
        None,
        {
            "daily_traffic": f"At this traffic the experiment would run {days:,} days "
            "(more than 3,650)."
        },
    )
