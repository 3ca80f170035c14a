"""Experiment statistics agree with statsmodels and scipy; bad protocols name their field (#7)."""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import NormalIndPower, TTestPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from core import experiment_stats as es
from core.experiment_stats import (
    NO_DIFFERENCE,
    REJECT_BETTER,
    REJECT_WORSE,
    BinomialCounts,
    Guardrail,
    MeanSummary,
    PairedBinaryCounts,
    Protocol,
    ProtocolError,
)

TOL = 1e-9
ALTERNATIVES = ["two-sided", "larger", "smaller"]
SCIPY_ALTERNATIVE = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}


def close(a, b, tol=TOL):
    """Equal to `tol`, relative to the size of the numbers (absolute below 1)."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def dumps(obj):
    return json.dumps(obj.to_dict(), allow_nan=False)


AB_PROPORTION = {
    "design": "ab",
    "metric_kind": "proportion",
    "baseline_proportion": 0.10,
    "minimum_effect": 0.01,
    "alpha": 0.05,
    "power": 0.8,
    "split": {"champion": 50, "challenger": 50},
    "daily_traffic": 4000,
}
SHADOW_MEAN = {
    "design": "shadow",
    "metric_kind": "mean",
    "standard_deviation": 2.0,
    "minimum_effect": 0.25,
    "daily_traffic": 500,
}


# ------------------------------------------------------------------------- protocol


def test_valid_protocol_round_trips_through_json():
    protocol = es.validate_protocol(
        {
            **AB_PROPORTION,
            "interim_looks": [0.25, 0.5, 0.75],
            "guardrails": [
                {
                    "name": "latency_ms",
                    "metric_kind": "mean",
                    "tolerance": 5.0,
                    "higher_is_better": False,
                }
            ],
        }
    )
    assert protocol.split == {"champion": 50.0, "challenger": 50.0}
    assert protocol.information_fractions == (0.25, 0.5, 0.75, 1.0)
    assert protocol.sequential and not protocol.paired
    assert protocol.guardrails == (Guardrail("latency_ms", "mean", 5.0, False),)
    again = es.validate_protocol(json.loads(json.dumps(protocol.to_dict())))
    assert again == protocol
    assert es.validate_protocol(again) == protocol


def test_interim_looks_ending_at_one_are_not_doubled():
    protocol = es.validate_protocol({**AB_PROPORTION, "interim_looks": [0.5, 1.0]})
    assert protocol.information_fractions == (0.5, 1.0)
    assert es.validate_protocol(AB_PROPORTION).information_fractions == (1.0,)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": -0.05}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"alpha": "0.05"}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"power": 0.0}, "power"),
        ({"power": 0.04}, "power"),  # not above alpha
        ({"minimum_effect": 0.0}, "minimum_effect"),
        ({"minimum_effect": -0.01}, "minimum_effect"),
        ({"minimum_effect": 0.95}, "minimum_effect"),  # 0.10 + 0.95 leaves (0, 1)
        ({"design": "bandit"}, "design"),
        ({"metric_kind": "median"}, "metric_kind"),
        ({"alternative": "larger"}, "alternative"),
        ({"baseline_proportion": 1.0}, "baseline_proportion"),
        ({"baseline_proportion": 0.0}, "baseline_proportion"),
        ({"baseline_proportion": None}, "baseline_proportion"),
        ({"split": {"champion": 50, "challenger": 40}}, "split"),
        ({"split": {"champion": 0.5, "challenger": 0.5}}, "split"),  # fractions, not percent
        ({"split": {"champion": 100, "challenger": 0}}, "split.champion"),
        ({"split": {"champion": 50, "challenger": "50"}}, "split.challenger"),
        ({"split": {"champion": 50, "shadow": 50}}, "split"),
        ({"split": None}, "split"),
        ({"interim_looks": [0.5, 0.5]}, "interim_looks"),
        ({"interim_looks": [0.6, 0.3]}, "interim_looks"),
        ({"interim_looks": [0.0, 0.5]}, "interim_looks"),
        ({"interim_looks": [0.5, 1.2]}, "interim_looks"),
        ({"interim_looks": "0.5"}, "interim_looks"),
        ({"spending": "haybittle"}, "spending"),
        ({"daily_traffic": 0}, "daily_traffic"),
        ({"srm_alpha": 0}, "srm_alpha"),
        ({"max_missing_share": 1.0}, "max_missing_share"),
        ({"higher_is_better": "yes"}, "higher_is_better"),
        ({"guardrails": [{"name": "x", "tolerance": -1}]}, "guardrails[0].tolerance"),
        ({"guardrails": [{"name": "x", "metric_kind": "ratio"}]}, "guardrails[0].metric_kind"),
        ({"guardrails": [{"name": "x"}, {"name": "x"}]}, "guardrails[1].name"),
        ({"guardrails": [{"name": ""}]}, "guardrails[0].name"),
        ({"guardrails": [{"name": "x", "limit": 1}]}, "guardrails[0].limit"),
        ({"sample_size": 1000}, "sample_size"),
    ],
)
def test_bad_protocol_names_the_field(changes, field):
    with pytest.raises(ProtocolError) as caught:
        es.validate_protocol({**AB_PROPORTION, **changes})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("base", "changes", "field"),
    [
        (SHADOW_MEAN, {"standard_deviation": 0.0}, "standard_deviation"),
        (SHADOW_MEAN, {"standard_deviation": -1.0}, "standard_deviation"),
        (SHADOW_MEAN, {"standard_deviation": None}, "standard_deviation"),
        (SHADOW_MEAN, {"split": {"champion": 50, "challenger": 50}}, "split"),
        (
            {**SHADOW_MEAN, "metric_kind": "proportion", "baseline_proportion": 0.8},
            {"minimum_effect": 0.02},
            "discordant_proportion",
        ),
        (
            {**SHADOW_MEAN, "metric_kind": "proportion", "baseline_proportion": 0.8},
            {"minimum_effect": 0.02, "discordant_proportion": 0.01},
            "discordant_proportion",
        ),
        (
            {**SHADOW_MEAN, "metric_kind": "proportion", "baseline_proportion": 0.8},
            {"minimum_effect": 0.02, "discordant_proportion": 1.5},
            "discordant_proportion",
        ),
        ({"metric_kind": "mean", "minimum_effect": 1}, {}, "design"),
    ],
)
def test_bad_paired_protocol_names_the_field(base, changes, field):
    with pytest.raises(ProtocolError) as caught:
        es.validate_protocol({**base, **changes})
    assert caught.value.field == field


def test_lower_is_better_moves_the_target_down():
    ok = es.validate_protocol({**AB_PROPORTION, "higher_is_better": False, "minimum_effect": 0.05})
    assert ok.test_alternative == "two-sided"
    with pytest.raises(ProtocolError, match="minimum_effect"):
        es.validate_protocol({**AB_PROPORTION, "higher_is_better": False, "minimum_effect": 0.1})
    one = es.validate_protocol(
        {**AB_PROPORTION, "alternative": "one-sided", "higher_is_better": False}
    )
    assert one.test_alternative == "smaller"


# ---------------------------------------------------------------------- sample size

POWER_CASES = [
    # alpha, power, split (champion, challenger), alternative
    (0.05, 0.8, (50, 50), "two-sided"),
    (0.05, 0.9, (80, 20), "two-sided"),
    (0.01, 0.8, (30, 70), "two-sided"),
    (0.05, 0.8, (50, 50), "one-sided"),
    (0.10, 0.95, (90, 10), "one-sided"),
]


def solve_statsmodels(effect_size, alpha, power, ratio, alternative):
    return NormalIndPower().solve_power(
        effect_size=effect_size, alpha=alpha, power=power, ratio=ratio, alternative=alternative
    )


@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize(("baseline", "lift"), [(0.10, 0.01), (0.5, 0.05), (0.03, 0.004)])
@pytest.mark.parametrize(("alpha", "power", "split", "alternative"), POWER_CASES)
def test_proportion_sample_size_equals_normal_ind_power(
    baseline, lift, alpha, power, split, alternative, higher_is_better
):
    protocol = es.validate_protocol(
        {
            **AB_PROPORTION,
            "baseline_proportion": baseline,
            "minimum_effect": lift,
            "alpha": alpha,
            "power": power,
            "split": dict(zip(es.ARMS, split, strict=True)),
            "alternative": alternative,
            "higher_is_better": higher_is_better,
        }
    )
    size = es.sample_size(protocol)
    target = baseline + lift if higher_is_better else baseline - lift
    h = proportion_effectsize(target, baseline)
    ratio = split[1] / split[0]
    alt = protocol.test_alternative
    assert close(size.effect_size, h, 1e-12)
    n1 = size.exact["champion"]
    # the exact n solves statsmodels' own power equation ...
    assert close(NormalIndPower().power(h, n1, alpha, ratio, alt), power, 1e-12)
    assert close(es.normal_power(h, n1, alpha, ratio, alt), power, 1e-12)
    # ... and statsmodels' root finder (xtol 1e-5) lands on it
    reference = solve_statsmodels(h, alpha, power, ratio, alt)
    assert abs(n1 - reference) < 1e-4
    assert close(size.exact["challenger"], n1 * ratio, 1e-15)
    assert size.required == {
        "champion": math.ceil(reference),
        "challenger": math.ceil(reference * ratio),
    }
    assert size.maximum == size.required and size.inflation_factor == 1.0
    dumps(size)


@pytest.mark.parametrize(("alpha", "power", "split", "alternative"), POWER_CASES)
@pytest.mark.parametrize("higher_is_better", [True, False])
def test_mean_sample_size_equals_normal_ind_power(
    alpha, power, split, alternative, higher_is_better
):
    protocol = es.validate_protocol(
        {
            "design": "ab",
            "metric_kind": "mean",
            "standard_deviation": 12.5,
            "minimum_effect": 1.5,
            "alpha": alpha,
            "power": power,
            "split": dict(zip(es.ARMS, split, strict=True)),
            "alternative": alternative,
            "higher_is_better": higher_is_better,
        }
    )
    size = es.sample_size(protocol)
    d = (1.5 if higher_is_better else -1.5) / 12.5
    ratio = split[1] / split[0]
    assert close(size.effect_size, d, 1e-15)
    n1 = size.exact["champion"]
    assert close(
        NormalIndPower().power(d, n1, alpha, ratio, protocol.test_alternative), power, 1e-12
    )
    assert abs(n1 - solve_statsmodels(d, alpha, power, ratio, protocol.test_alternative)) < 1e-4


@pytest.mark.parametrize("alternative", ["two-sided", "one-sided"])
@pytest.mark.parametrize(("sd", "diff"), [(2.0, 0.25), (1.0, 0.8), (10.0, 0.5)])
def test_paired_mean_sample_size_equals_ttest_power(sd, diff, alternative):
    protocol = es.validate_protocol(
        {
            **SHADOW_MEAN,
            "standard_deviation": sd,
            "minimum_effect": diff,
            "alternative": alternative,
        }
    )
    size = es.sample_size(protocol)
    d = diff / sd
    n = size.exact["pairs"]
    alt = protocol.test_alternative
    assert close(TTestPower().power(d, n, 0.05, alternative=alt), 0.8, 1e-10)
    assert close(es.ttest_power(d, n, 0.05, alt), TTestPower().power(d, n, 0.05, alternative=alt))
    assert (
        abs(n - TTestPower().solve_power(effect_size=d, alpha=0.05, power=0.8, alternative=alt))
        < 1e-4
    )
    assert size.required == {"pairs": math.ceil(n)}


def test_huge_paired_effects_need_few_pairs():
    assert es.solve_ttest_nobs(5.0, 0.05, 0.4) == 2.0
    n = es.solve_ttest_nobs(5.0, 0.05, 0.8)  # NaN from scipy at fractional df: integer n
    reference = TTestPower().solve_power(effect_size=5.0, alpha=0.05, power=0.8)
    assert n == math.ceil(reference) == 3


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize(
    ("discordant", "lift", "alternative"), [(0.2, 0.05, "two-sided"), (0.1, 0.03, "one-sided")]
)
def test_mcnemar_sample_size_reaches_the_power_of_the_registered_test(
    discordant, lift, alternative, exact
):
    protocol = es.validate_protocol(
        {
            "design": "shadow",
            "metric_kind": "proportion",
            "baseline_proportion": 0.7,
            "minimum_effect": lift,
            "discordant_proportion": discordant,
            "alternative": alternative,
            "mcnemar_exact": exact,
        }
    )
    size = es.sample_size(protocol)
    alt = protocol.test_alternative
    a = 0.05 / 2 if alt == "two-sided" else 0.05
    za, zb = stats.norm.isf(a), stats.norm.isf(0.2)
    connor = (za * math.sqrt(discordant) + zb * math.sqrt(discordant - lift**2)) ** 2 / lift**2
    assert close(size.exact["pairs"], connor, 1e-12)
    n = size.required["pairs"]
    assert es.mcnemar_power(n, discordant, lift, 0.05, alt, exact) >= 0.8
    assert es.mcnemar_power(n - 1, discordant, lift, 0.05, alt, exact) < 0.8
    # the continuity-corrected and exact tests are conservative: more pairs than Connor
    assert n > connor


def test_duration_follows_the_slowest_arm():
    protocol = es.validate_protocol({**AB_PROPORTION, "split": {"champion": 80, "challenger": 20}})
    size = es.sample_size(protocol)
    days = max(size.maximum[a] / (4000 * protocol.split[a] / 100) for a in es.ARMS)
    assert size.duration_days == pytest.approx(days, rel=1e-15)
    assert size.duration_days == size.maximum["challenger"] / 800
    assert size.duration_days_ceil == math.ceil(days)
    shadow = es.sample_size(es.validate_protocol(SHADOW_MEAN))
    assert shadow.duration_days == shadow.maximum["pairs"] / 500
    no_traffic = es.sample_size(es.validate_protocol({**SHADOW_MEAN, "daily_traffic": None}))
    assert no_traffic.duration_days is None and no_traffic.duration_days_ceil is None


def test_sequential_design_inflates_the_maximum_sample_size():
    fixed = es.sample_size(es.validate_protocol(AB_PROPORTION))
    obf = es.sample_size(
        es.validate_protocol({**AB_PROPORTION, "interim_looks": [0.25, 0.5, 0.75]})
    )
    pocock = es.sample_size(
        es.validate_protocol(
            {**AB_PROPORTION, "interim_looks": [0.25, 0.5, 0.75], "spending": "pocock"}
        )
    )
    assert obf.required == fixed.required
    assert 1.0 < obf.inflation_factor < 1.05 < pocock.inflation_factor < 1.25
    for arm in es.ARMS:
        assert obf.maximum[arm] == math.ceil(fixed.exact[arm] * obf.inflation_factor)
    assert obf.duration_days > fixed.duration_days


# ---------------------------------------------------------------------------- tests

PROPORTION_DATA = [
    # (champion successes, n), (challenger successes, n)
    ((120, 1000), (150, 1000)),
    ((480, 5000), (500, 4000)),
    ((31, 200), (18, 190)),
    ((7, 50), (7, 50)),
    ((9000, 90000), (1100, 10000)),
]


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("champion", "challenger"), PROPORTION_DATA)
def test_two_proportion_ztest_equals_statsmodels(champion, challenger, alternative):
    a, b = BinomialCounts(*champion), BinomialCounts(*challenger)
    result = es.two_proportion_ztest(a, b, alpha=0.05, alternative=alternative)
    count, nobs = [b.successes, a.successes], [b.n, a.n]
    z, p = proportions_ztest(count, nobs, alternative=alternative)
    assert close(result.statistic, z) and close(result.p_value, p)
    assert close(result.estimate, b.proportion - a.proportion, 1e-15)
    ci_alpha = 0.05 if alternative == "two-sided" else 0.10
    low, high = confint_proportions_2indep(
        b.successes, b.n, a.successes, a.n, method="wald", compare="diff", alpha=ci_alpha
    )
    if alternative != "smaller":
        assert close(result.ci_low, low)
    if alternative != "larger":
        assert close(result.ci_high, high)
    assert close(float(es.two_proportion_z(*champion, *challenger)), z)
    assert result.n == {"champion": a.n, "challenger": b.n}
    dumps(result)


def test_two_proportion_ztest_without_any_variation_finds_nothing():
    result = es.two_proportion_ztest(BinomialCounts(0, 500), BinomialCounts(0, 400))
    assert (result.statistic, result.p_value, result.decision) == (0.0, 1.0, NO_DIFFERENCE)
    assert result.notes


def normal_samples(seed, n1, n2, shift=0.3):
    rng = np.random.default_rng(seed)
    return rng.normal(10.0, 2.0, n1), rng.normal(10.0 + shift, 3.5, n2)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("seed", "n1", "n2"), [(1, 40, 40), (2, 300, 75), (3, 12, 900), (4, 5, 6)])
def test_welch_ttest_equals_statsmodels_and_scipy(seed, n1, n2, alternative):
    champion, challenger = normal_samples(seed, n1, n2)
    result = es.welch_ttest(
        MeanSummary.from_values(champion),
        MeanSummary.from_values(challenger),
        alternative=alternative,
    )
    t, p, df = ttest_ind(challenger, champion, alternative=alternative, usevar="unequal")
    assert close(result.statistic, t) and close(result.p_value, p) and close(result.df, df)
    sp = stats.ttest_ind(
        challenger, champion, equal_var=False, alternative=SCIPY_ALTERNATIVE[alternative]
    )
    assert close(result.statistic, sp.statistic) and close(result.p_value, sp.pvalue)
    assert close(result.estimate, challenger.mean() - champion.mean())
    cm = CompareMeans(DescrStatsW(challenger), DescrStatsW(champion))
    low, high = cm.tconfint_diff(alpha=0.05, alternative=alternative, usevar="unequal")
    assert close(result.ci_low, low) and close(result.ci_high, high)
    raw = es.welch_ttest_from_arrays(champion, challenger, alternative=alternative)
    assert raw == result
    # from reported moments (n, mean, sd) as a pipeline would send them
    moments = es.welch_ttest(
        MeanSummary.from_moments(n1, champion.mean(), champion.std(ddof=1)),
        MeanSummary.from_moments(n2, challenger.mean(), challenger.std(ddof=1)),
        alternative=alternative,
    )
    ref = stats.ttest_ind_from_stats(
        challenger.mean(),
        challenger.std(ddof=1),
        n2,
        champion.mean(),
        champion.std(ddof=1),
        n1,
        equal_var=False,
        alternative=SCIPY_ALTERNATIVE[alternative],
    )
    assert close(moments.statistic, ref.statistic) and close(moments.p_value, ref.pvalue)


def test_merged_batches_give_the_same_welch_test():
    champion, challenger = normal_samples(9, 1000, 800)
    merged = [MeanSummary.from_values([]), MeanSummary.from_values([])]
    for arm, values in enumerate((champion, challenger)):
        for batch in np.array_split(values, 7):
            merged[arm] = merged[arm].merge(MeanSummary.from_values(batch))
    whole = es.welch_ttest(MeanSummary.from_values(champion), MeanSummary.from_values(challenger))
    batched = es.welch_ttest(*merged)
    for name in ("statistic", "p_value", "estimate", "ci_low", "ci_high", "df"):
        assert close(getattr(batched, name), getattr(whole, name), 1e-12)
    assert merged[0].n == 1000 and close(merged[0].sd, champion.std(ddof=1), 1e-12)


MCNEMAR_TABLES = [
    PairedBinaryCounts(both=400, champion_only=25, challenger_only=45, neither=30),
    PairedBinaryCounts(both=80, champion_only=3, challenger_only=11, neither=6),
    PairedBinaryCounts(both=10, champion_only=7, challenger_only=7, neither=10),  # b == c
    PairedBinaryCounts(both=9000, champion_only=510, challenger_only=430, neither=60),
    PairedBinaryCounts(both=5, champion_only=0, challenger_only=4, neither=1),
]


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("table", MCNEMAR_TABLES)
def test_mcnemar_equals_statsmodels(table, exact):
    result = es.mcnemar_test(table, exact=exact)
    # rows: champion right / wrong; columns: challenger right / wrong
    grid = [[table.both, table.champion_only], [table.challenger_only, table.neither]]
    ref = mcnemar(grid, exact=exact, correction=True)
    assert close(result.statistic, ref.statistic) and close(result.p_value, ref.pvalue)
    assert close(result.estimate, (table.challenger_only - table.champion_only) / table.n, 1e-15)
    # the paired Wald interval is the z interval of the mean of the -1/0/1 differences
    d = np.repeat(
        [1.0, -1.0, 0.0], [table.challenger_only, table.champion_only, table.both + table.neither]
    )
    half = stats.norm.isf(0.025) * d.std(ddof=0) / math.sqrt(d.size)
    assert close(result.ci_low, d.mean() - half) and close(result.ci_high, d.mean() + half)
    dumps(result)


@pytest.mark.parametrize("alternative", ["larger", "smaller"])
@pytest.mark.parametrize("table", MCNEMAR_TABLES)
def test_one_sided_mcnemar(table, alternative):
    b, c = table.champion_only, table.challenger_only
    exact = es.mcnemar_test(table, exact=True, alternative=alternative)
    ref = stats.binomtest(
        c, b + c, 0.5, alternative="greater" if alternative == "larger" else "less"
    )
    assert close(exact.p_value, ref.pvalue)
    corrected = es.mcnemar_test(table, exact=False, alternative=alternative)
    two = es.mcnemar_test(table, exact=False)
    points_to_alternative = (c > b) if alternative == "larger" else (c < b)
    if points_to_alternative:  # half the two-sided chi-square p-value
        assert close(corrected.p_value, two.p_value / 2)
    else:
        assert corrected.p_value > 0.5


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("seed", "n", "shift"), [(5, 30, 0.2), (6, 500, 0.05), (7, 8, -1.0)])
def test_paired_ttest_equals_scipy_and_statsmodels(seed, n, shift, alternative):
    rng = np.random.default_rng(seed)
    champion = rng.normal(0.0, 1.0, n)
    challenger = champion + rng.normal(shift, 0.4, n)
    diff = challenger - champion
    result = es.paired_ttest(MeanSummary.from_values(diff), alternative=alternative)
    ref = stats.ttest_rel(challenger, champion, alternative=SCIPY_ALTERNATIVE[alternative])
    assert close(result.statistic, ref.statistic) and close(result.p_value, ref.pvalue)
    assert result.df == n - 1
    low, high = DescrStatsW(diff).tconfint_mean(alpha=0.05, alternative=alternative)
    assert close(result.ci_low, low) and close(result.ci_high, high)
    assert es.paired_ttest_from_arrays(champion, challenger, alternative=alternative) == result
    t, p, df = DescrStatsW(diff).ttest_mean(0.0, alternative=alternative)
    assert close(result.statistic, t) and close(result.p_value, p)


def test_paired_ttest_with_identical_differences():
    same = es.paired_ttest(MeanSummary.from_values([0.0] * 10))
    assert (same.statistic, same.p_value, same.decision) == (0.0, 1.0, NO_DIFFERENCE)
    shifted = es.paired_ttest(MeanSummary.from_values([0.5] * 10))
    assert shifted.statistic == math.inf and shifted.decision == REJECT_BETTER
    assert json.loads(dumps(shifted))["statistic"] is None


def test_decision_rule():
    better = es.two_proportion_ztest(BinomialCounts(100, 1000), BinomialCounts(150, 1000))
    assert better.decision == REJECT_BETTER and better.rejected
    assert better.ci_low > 0 and better.confidence == 0.95
    worse = es.two_proportion_ztest(BinomialCounts(150, 1000), BinomialCounts(100, 1000))
    assert worse.decision == REJECT_WORSE
    # lower is better (an error rate): a rise is worse
    errors = es.two_proportion_ztest(
        BinomialCounts(100, 1000), BinomialCounts(150, 1000), higher_is_better=False
    )
    assert errors.decision == REJECT_WORSE
    # a one-sided registration ("challenger better") never concludes "worse"
    one = es.two_proportion_ztest(
        BinomialCounts(150, 1000), BinomialCounts(100, 1000), alternative="larger"
    )
    assert one.decision == NO_DIFFERENCE and one.p_value > 0.99 and one.ci_high == math.inf
    close_call = es.two_proportion_ztest(BinomialCounts(100, 1000), BinomialCounts(115, 1000))
    assert close_call.decision == NO_DIFFERENCE and close_call.p_value > 0.05
    strict = es.two_proportion_ztest(
        BinomialCounts(100, 1000), BinomialCounts(150, 1000), alpha=1e-6
    )
    assert strict.decision == NO_DIFFERENCE and strict.alpha == 1e-6


def test_primary_test_runs_the_registered_test():
    ab = es.validate_protocol({**AB_PROPORTION, "alternative": "one-sided"})
    result = es.primary_test(
        ab, champion=BinomialCounts(100, 1000), challenger=BinomialCounts(130, 1000)
    )
    z, p = proportions_ztest([130, 100], [1000, 1000], alternative="larger")
    assert result.test.startswith("two-proportion") and close(result.p_value, p)
    shadow = es.validate_protocol(SHADOW_MEAN)
    diffs = MeanSummary.from_values(np.linspace(-1, 2, 50))
    assert es.primary_test(shadow, paired=diffs) == es.paired_ttest(diffs)
    binary = es.validate_protocol(
        {
            **SHADOW_MEAN,
            "metric_kind": "proportion",
            "baseline_proportion": 0.8,
            "minimum_effect": 0.02,
            "discordant_proportion": 0.1,
            "mcnemar_exact": False,
        }
    )
    table = MCNEMAR_TABLES[0]
    assert es.primary_test(binary, paired=table) == es.mcnemar_test(table, exact=False)
    with pytest.raises(es.ExperimentDataError):
        es.primary_test(ab, champion=BinomialCounts(1, 10))


def test_bad_data_is_refused():
    with pytest.raises(es.ExperimentDataError):
        BinomialCounts(11, 10)
    with pytest.raises(es.ExperimentDataError):
        es.welch_ttest(MeanSummary.from_values([1.0]), MeanSummary.from_values([1.0, 2.0]))
    with pytest.raises(es.ExperimentDataError):
        PairedBinaryCounts(1, -1, 0, 0)
    with pytest.raises(es.ExperimentDataError):
        MeanSummary.from_values([1.0, float("nan")])
    with pytest.raises(ValueError, match="alternative"):
        es.paired_ttest(MeanSummary.from_values([1.0, 2.0]), alternative="greater")


def test_paired_counts_from_outcomes():
    champion = np.array([1, 1, 0, 0, 1, 0], bool)
    challenger = np.array([1, 0, 1, 0, 1, 1], bool)
    assert PairedBinaryCounts.from_outcomes(champion, challenger) == PairedBinaryCounts(2, 1, 2, 1)


def test_equivalent_z():
    welch = es.welch_ttest(*(MeanSummary.from_values(x) for x in normal_samples(3, 30, 30)))
    z = es.equivalent_z(welch)
    assert close(stats.norm.sf(z), stats.t.sf(welch.statistic, welch.df))
    ztest = es.two_proportion_ztest(BinomialCounts(100, 1000), BinomialCounts(130, 1000))
    assert es.equivalent_z(ztest) == ztest.statistic
    table = MCNEMAR_TABLES[3]  # challenger worse
    for exact in (True, False):
        result = es.mcnemar_test(table, exact=exact)
        z = es.equivalent_z(result)
        assert z < 0 and close(2 * stats.norm.sf(abs(z)), result.p_value)
        one = es.mcnemar_test(table, exact=exact, alternative="smaller")
        assert close(stats.norm.cdf(es.equivalent_z(one)), one.p_value)
    tie = es.mcnemar_test(MCNEMAR_TABLES[2], exact=False)
    assert tie.statistic > 0 and es.equivalent_z(tie) == 0.0


# --------------------------------------------------------------------- data quality


@pytest.mark.parametrize(
    ("observed", "split"),
    [
        ({"champion": 5000, "challenger": 5000}, {"champion": 50, "challenger": 50}),
        ({"champion": 5100, "challenger": 4900}, {"champion": 50, "challenger": 50}),
        ({"champion": 9100, "challenger": 900}, {"champion": 90, "challenger": 10}),
        ({"champion": 700, "challenger": 310}, {"champion": 70, "challenger": 30}),
    ],
)
def test_sample_ratio_mismatch_equals_scipy_chisquare(observed, split):
    result = es.sample_ratio_mismatch(observed, split)
    total = sum(observed.values())
    f_obs = [observed[a] for a in es.ARMS]
    f_exp = [total * split[a] / 100 for a in es.ARMS]
    ref = stats.chisquare(f_obs, f_exp)
    assert close(result.statistic, ref.statistic) and close(result.p_value, ref.pvalue)
    assert result.mismatch == (ref.pvalue < 0.001)
    dumps(result)


def test_sample_ratio_mismatch_flags_at_the_registered_alpha():
    observed = {"champion": 5200, "challenger": 4800}  # p ~ 6e-5
    assert es.sample_ratio_mismatch(observed, {"champion": 50, "challenger": 50}).mismatch
    assert not es.sample_ratio_mismatch(observed, {"champion": 50, "challenger": 50}, 1e-5).mismatch
    assert not es.sample_ratio_mismatch(
        {"champion": 5060, "challenger": 4940}, {"champion": 50, "challenger": 50}
    ).mismatch


def test_unit_check():
    clean = es.unit_check(
        assigned={"champion": 1000, "challenger": 1000},
        with_outcome={"champion": 995, "challenger": 998},
    )
    assert clean.problems == () and clean.missing == {"champion": 5, "challenger": 2}
    messy = es.unit_check(
        assigned={"champion": 1000, "challenger": 1000},
        with_outcome={"champion": 950, "challenger": 1000},
        duplicated={"challenger": 3},
        unknown=2,
    )
    assert messy.missing_share == 0.025 and messy.duplicate_share == 0.0015
    assert len(messy.problems) == 3
    with pytest.raises(es.ExperimentDataError):
        es.unit_check(assigned={"pairs": 10}, with_outcome={"pairs": 11})
    with pytest.raises(es.ExperimentDataError):
        es.unit_check(assigned={"pairs": 10}, with_outcome={"other": 1})


def test_guardrails():
    latency = Guardrail("latency_ms", "mean", tolerance=5.0, higher_is_better=False)
    fast = MeanSummary.from_moments(5000, 120.0, 30.0)
    slower = MeanSummary.from_moments(5000, 127.0, 30.0)
    breached = es.guardrail_check(latency, fast, slower)
    assert breached.breached and close(breached.deterioration, 7.0) and not breached.non_inferior
    fine = es.guardrail_check(latency, fast, MeanSummary.from_moments(5000, 121.0, 30.0))
    assert not fine.breached and fine.non_inferior
    # the worst case is the one-sided Welch bound, itself checked against statsmodels
    bound = es.welch_ttest(fast, slower, alternative="smaller").ci_high
    assert close(breached.worst_case, bound)
    complaints = Guardrail("complaint_rate", "proportion", tolerance=0.001, higher_is_better=False)
    worse = es.guardrail_check(
        complaints, BinomialCounts(100, 100_000), BinomialCounts(250, 100_000)
    )
    assert worse.breached and close(worse.estimate, 0.0015)
    se = math.sqrt(0.001 * 0.999 / 1e5 + 0.0025 * 0.9975 / 1e5)
    assert close(worse.worst_case, 0.0015 + stats.norm.isf(0.05) * se)
    with pytest.raises(es.ExperimentDataError):
        es.guardrail_check(complaints, fast, slower)


def test_data_quality_report_collects_every_problem():
    protocol = es.validate_protocol(
        {
            **AB_PROPORTION,
            "guardrails": [
                {
                    "name": "latency_ms",
                    "metric_kind": "mean",
                    "tolerance": 5.0,
                    "higher_is_better": False,
                },
                {"name": "errors", "tolerance": 0.01},
            ],
        }
    )
    report = es.data_quality(
        protocol,
        arm_counts={"champion": 5200, "challenger": 4800},
        units={
            "assigned": {"champion": 5200, "challenger": 4800},
            "with_outcome": {"champion": 5200, "challenger": 4600},
        },
        guardrail_data={
            "latency_ms": (
                MeanSummary.from_moments(5200, 120.0, 30.0),
                MeanSummary.from_moments(4800, 130.0, 30.0),
            ),
            "surprise": (BinomialCounts(1, 10), BinomialCounts(1, 10)),
        },
    )
    assert not report.passed
    text = " ".join(report.problems)
    for needle in (
        "sample-ratio mismatch",
        "no outcome",
        "'latency_ms' breached",
        "'errors' has no data",
        "'surprise' was not registered",
    ):
        assert needle in text
    assert json.loads(dumps(report))["passed"] is False
    ok = es.data_quality(
        dataclasses.replace(protocol, guardrails=()),
        arm_counts={"champion": 5000, "challenger": 5010},
    )
    assert ok.passed and ok.srm is not None and ok.units is None


# ------------------------------------------------------------------ group sequential


def test_obrien_fleming_matches_published_boundaries():
    design = es.sequential_boundaries([0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.05)
    published = [4.877, 3.357, 2.680, 2.290, 2.031]  # Lan-DeMets OBF, gsDesign / ldbounds
    assert np.allclose(design.boundaries, published, atol=1e-3)
    one_sided = es.sequential_boundaries(
        [0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.025, alternative="larger"
    )
    assert np.allclose(one_sided.boundaries, design.boundaries, atol=1e-9)
    dumps(design)


@pytest.mark.parametrize("spending", es.SPENDING_FUNCTIONS)
@pytest.mark.parametrize(
    ("alpha", "alternative"),
    [(0.05, "two-sided"), (0.01, "two-sided"), (0.025, "larger"), (0.05, "smaller")],
)
def test_single_look_is_the_fixed_sample_test(spending, alpha, alternative):
    design = es.sequential_boundaries(
        [1.0], alpha=alpha, spending=spending, alternative=alternative
    )
    fixed = stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha)
    assert design.boundaries == (fixed,)
    assert close(design.cumulative_alpha[-1], alpha, 1e-15)


def mvn_cumulative_alpha(fractions, boundaries, two_sided):
    """1 - P(no crossing through look k), from scipy's multivariate normal CDF with the
    canonical covariance sqrt(t_i / t_j): an integration independent of the recursion."""
    t = np.asarray(fractions)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    c = np.asarray(boundaries)
    out = []
    for k in range(1, len(t) + 1):
        mvn = stats.multivariate_normal(
            mean=np.zeros(k), cov=cov[:k, :k], seed=7, maxpts=500_000 * k, abseps=1e-8, releps=0
        )
        lower = -c[:k] if two_sided else np.full(k, -np.inf)
        out.append(1.0 - mvn.cdf(c[:k], lower_limit=lower))
    return np.array(out)


@pytest.mark.parametrize(
    ("fractions", "spending", "alternative"),
    [
        ((0.2, 0.4, 0.6, 0.8, 1.0), "obrien-fleming", "two-sided"),
        ((0.3, 0.7, 1.0), "pocock", "two-sided"),
        ((0.1, 0.35, 1.0), "pocock", "larger"),
        ((0.25, 0.5, 0.75, 1.0), "obrien-fleming", "smaller"),
        ((0.5, 0.51, 1.0), "obrien-fleming", "two-sided"),
    ],
)
def test_alpha_spent_at_each_look_equals_the_spending_function(fractions, spending, alternative):
    alpha = 0.05
    design = es.sequential_boundaries(
        fractions, alpha=alpha, spending=spending, alternative=alternative
    )
    two = alternative == "two-sided"
    side = alpha / 2 if two else alpha
    target = es.spending_function(fractions, side, spending) * (2 if two else 1)
    assert np.allclose(design.cumulative_alpha, target, atol=1e-12)
    spent = mvn_cumulative_alpha(fractions, design.boundaries, two)
    assert np.max(np.abs(spent - target)) < 1e-6
    upper, lower = es.sequential_exit_probabilities(design)
    assert np.max(np.abs(np.cumsum(upper + lower) - target)) < 1e-9


def test_spending_functions():
    t = np.array([0.1, 0.5, 1.0])
    assert np.allclose(
        es.spending_function(t, 0.025, "obrien-fleming"),
        2 * stats.norm.sf(stats.norm.isf(0.0125) / np.sqrt(t)),
        rtol=1e-15,
    )
    assert np.allclose(
        es.spending_function(t, 0.025, "pocock"), 0.025 * np.log(1 + (np.e - 1) * t), rtol=1e-14
    )
    with pytest.raises(ValueError):
        es.spending_function(t, 0.025, "linear")
    with pytest.raises(ValueError):
        es.sequential_boundaries([0.5, 0.9])
    with pytest.raises(ValueError):
        es.sequential_boundaries([0.5, 0.5, 1.0])


def test_sequential_test_stops_at_the_first_crossing():
    design = es.sequential_boundaries([0.25, 0.5, 0.75, 1.0], alpha=0.05)
    protocol = es.validate_protocol({**AB_PROPORTION, "interim_looks": [0.25, 0.5, 0.75]})
    assert es.sequential_design(protocol) == design
    assert es.sequential_design(es.validate_protocol(AB_PROPORTION)) is None
    early = es.sequential_test(design, [1.0])
    assert early.decision == es.CONTINUE and early.stopped_at is None
    stop = es.sequential_test(design, [1.0, 3.5, 0.1])
    assert stop.stopped_at == 2 and stop.decision == REJECT_BETTER and len(stop.z_values) == 2
    assert es.sequential_test(design, [1.0, -3.5]).decision == REJECT_WORSE
    assert es.sequential_test(design, [1.0, -3.5], higher_is_better=False).decision == REJECT_BETTER
    final = es.sequential_test(design, [0.5, 1.0, 1.5, 1.99])  # above 1.96, below the boundary
    assert final.decision == NO_DIFFERENCE and final.stopped_at is None
    assert es.sequential_test(design, [0.5, 1.0, 1.5, 2.1]).stopped_at == 4
    one = es.sequential_boundaries([0.5, 1.0], alpha=0.025, alternative="larger")
    assert es.sequential_test(one, [-5.0, -5.0]).decision == NO_DIFFERENCE
    with pytest.raises(ValueError):
        es.sequential_test(design, [1, 1, 1, 1, 1])
    dumps(stop)


def test_inflation_factor_gives_the_power_at_the_maximum_sample_size():
    design = es.sequential_boundaries([0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.05)
    factor = es.sequential_inflation_factor(design, 0.9)
    theta = (stats.norm.isf(0.025) + stats.norm.isf(0.1)) * math.sqrt(factor)
    upper, lower = es.sequential_exit_probabilities(design, drift=theta)
    fixed_lower = stats.norm.cdf(-stats.norm.isf(0.025) - theta / math.sqrt(factor))
    assert abs(upper.sum() + lower.sum() - 0.9) < 1e-6 + fixed_lower
    assert es.sequential_inflation_factor(es.sequential_boundaries([1.0]), 0.9) == 1.0


# ------------------------------------------------------------------------ assignment


def test_assignment_is_deterministic_and_salted():
    split = {"champion": 50, "challenger": 50}
    arms = [es.assign_arm("exp-1", f"customer-{i}", split) for i in range(2000)]
    assert arms == [es.assign_arm("exp-1", f"customer-{i}", split) for i in range(2000)]
    other = [es.assign_arm("exp-2", f"customer-{i}", split) for i in range(2000)]
    changed = sum(a != b for a, b in zip(arms, other, strict=True))
    assert 900 < changed < 1100  # a new salt re-randomises independently
    digest = __import__("hashlib").sha256(b"exp-1\x1fcustomer-0").digest()
    assert es.assignment_point("exp-1", "customer-0") == int.from_bytes(digest[:8], "big") / 2**64
    assert es.assignment_point("ab", "c") != es.assignment_point("a", "bc")


@pytest.mark.parametrize("share", [50, 90, 12.5])
def test_assignment_matches_the_planned_split(share):
    split = {"champion": share, "challenger": 100 - share}
    keys = [f"user-{i:06d}" for i in range(100_000)]  # a fixed key set: deterministic
    points = np.array([es.assignment_point("salt-7", k) for k in keys])
    assert points.min() >= 0.0 and points.max() < 1.0
    n_champion = sum(es.assign_arm("salt-7", k, split) == "champion" for k in keys)
    assert n_champion == int(np.sum(points < share / 100))
    result = es.sample_ratio_mismatch(
        {"champion": n_champion, "challenger": len(keys) - n_champion}, split
    )
    assert result.p_value > 0.01
    # and the points are uniform, not only balanced: Kolmogorov-Smirnov against U(0, 1)
    assert stats.kstest(points, "uniform").pvalue > 0.01


def test_assignment_refuses_a_bad_split():
    with pytest.raises(ProtocolError):
        es.assign_arm("s", "k", {"champion": 60, "challenger": 60})


def test_protocol_dataclass_is_the_validated_form():
    raw = Protocol(
        design="ab",
        metric_kind="mean",
        minimum_effect=1,
        standard_deviation=3,
        split={"champion": 50, "challenger": 50},
    )
    valid = es.validate_protocol(raw)
    assert valid.minimum_effect == 1.0 and isinstance(valid.minimum_effect, float)
