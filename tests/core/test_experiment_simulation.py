"""Simulated experiments: the locked procedure keeps its false-positive rate at alpha,
peeking without a sequential design does not, and the planned sample sizes deliver the
registered power (#7).

Every simulation is vectorised with numpy and seeded, so each test is deterministic;
the repetitions are enough for the binomial (Clopper-Pearson) interval of a rate to
decide the question.
"""

import math

import numpy as np
import pytest
from scipy import stats

from core import experiment_stats as es

ALPHA = 0.05
FIVE_LOOKS = (0.2, 0.4, 0.6, 0.8, 1.0)
REPS = 40_000


def rate_interval(hits, reps, confidence=0.999):
    """Clopper-Pearson interval of a simulated rate."""
    ci = stats.binomtest(int(hits), int(reps)).proportion_ci(confidence_level=confidence)
    return ci.low, ci.high


def proportion_z_at_looks(rng, *, reps, n_per_arm, fractions, p_champion, p_challenger):
    """Pooled two-proportion z (challenger minus champion) at each look, shape (reps, K):
    each look adds a block of units to both arms, as outcomes accrue."""
    cumulative = np.round(np.asarray(fractions) * n_per_arm).astype(int)
    block = np.diff(cumulative, prepend=0)
    champion = np.cumsum(rng.binomial(block, p_champion, size=(reps, block.size)), axis=1)
    challenger = np.cumsum(rng.binomial(block, p_challenger, size=(reps, block.size)), axis=1)
    return es.two_proportion_z(champion, cumulative, challenger, cumulative)


def crosses(z, design):
    """Whether each simulated experiment stops for efficacy at some look."""
    c = np.asarray(design.boundaries)
    if design.alternative == "two-sided":
        return np.abs(z) >= c
    return (z if design.alternative == "larger" else -z) >= c


@pytest.fixture(scope="module")
def aa_z():
    """40,000 A/A experiments (both arms convert at 20%), 10,000 units per arm, five
    equally spaced looks."""
    rng = np.random.default_rng(20_240_607)
    return proportion_z_at_looks(
        rng, reps=REPS, n_per_arm=10_000, fractions=FIVE_LOOKS, p_champion=0.2, p_challenger=0.2
    )


def test_fixed_horizon_false_positive_rate_stays_at_alpha(aa_z):
    fixed = es.sequential_boundaries([1.0], alpha=ALPHA)
    hits = np.sum(np.abs(aa_z[:, -1]) >= fixed.boundaries[0])
    low, high = rate_interval(hits, REPS)
    assert low <= ALPHA <= high
    # the same decisions as the full two-proportion test on one experiment's final counts
    assert fixed.boundaries[0] == stats.norm.isf(ALPHA / 2)


@pytest.mark.parametrize("spending", es.SPENDING_FUNCTIONS)
def test_group_sequential_false_positive_rate_stays_at_alpha(aa_z, spending):
    design = es.sequential_boundaries(FIVE_LOOKS, alpha=ALPHA, spending=spending)
    crossed = crosses(aa_z, design)
    stopped_by = np.logical_or.accumulate(crossed, axis=1).sum(axis=0)  # per look
    low, high = rate_interval(stopped_by[-1], REPS)
    assert low <= ALPHA <= high
    # and the rejections accrue as the spending function plans, look by look
    for k in range(len(FIVE_LOOKS)):
        low, high = rate_interval(stopped_by[k], REPS)
        assert low <= design.cumulative_alpha[k] <= high


def test_peeking_with_the_fixed_critical_value_inflates_false_positives(aa_z):
    naive = np.any(np.abs(aa_z) >= stats.norm.isf(ALPHA / 2), axis=1)
    low, high = rate_interval(naive.sum(), REPS)
    # Armitage, McPherson and Rowe (1969): 14.2% for five equally spaced looks
    assert low <= 0.142 <= high
    assert low > 2.5 * ALPHA


def test_one_sided_sequential_design_keeps_alpha():
    rng = np.random.default_rng(11)
    z = proportion_z_at_looks(
        rng, reps=REPS, n_per_arm=8_000, fractions=(0.3, 0.6, 1.0), p_champion=0.1, p_challenger=0.1
    )
    design = es.sequential_boundaries((0.3, 0.6, 1.0), alpha=0.025, alternative="larger")
    low, high = rate_interval(np.any(crosses(z, design), axis=1).sum(), REPS)
    assert low <= 0.025 <= high


def test_welch_false_positive_rate_with_unequal_variances_and_split():
    rng = np.random.default_rng(5)
    reps, n1, n2 = REPS, 40, 12  # small, unbalanced, very different variances
    champion = rng.normal(3.0, 1.0, size=(reps, n1))
    challenger = rng.normal(3.0, 4.0, size=(reps, n2))
    p = np.array(
        [
            es.welch_ttest(es.MeanSummary.from_values(a), es.MeanSummary.from_values(b)).p_value
            for a, b in zip(champion[:4000], challenger[:4000], strict=True)
        ]
    )
    reference = stats.ttest_ind(challenger[:4000], champion[:4000], axis=1, equal_var=False)
    assert np.allclose(p, reference.pvalue, rtol=1e-9, atol=1e-12)
    # vectorised over every repetition with scipy, the same test the module computes
    rejected = stats.ttest_ind(challenger, champion, axis=1, equal_var=False).pvalue <= ALPHA
    low, high = rate_interval(rejected.sum(), reps)
    assert low <= ALPHA <= high


# ------------------------------------------------------------------------------ power


def test_ab_sample_size_delivers_the_registered_power():
    protocol = es.validate_protocol(
        {
            "design": "ab",
            "metric_kind": "proportion",
            "baseline_proportion": 0.2,
            "minimum_effect": 0.02,
            "alpha": ALPHA,
            "power": 0.8,
            "split": {"champion": 50, "challenger": 50},
        }
    )
    n = es.sample_size(protocol).required["champion"]
    rng = np.random.default_rng(3)
    z = proportion_z_at_looks(
        rng, reps=REPS, n_per_arm=n, fractions=(1.0,), p_champion=0.2, p_challenger=0.22
    )
    power = np.mean(np.abs(z[:, 0]) >= stats.norm.isf(ALPHA / 2))
    # Cohen's h makes the arcsine-scale calculation near exact: within 1.5 points
    assert abs(power - 0.8) < 0.015


def test_sequential_maximum_sample_size_delivers_the_registered_power():
    protocol = es.validate_protocol(
        {
            "design": "ab",
            "metric_kind": "proportion",
            "baseline_proportion": 0.2,
            "minimum_effect": 0.02,
            "alpha": ALPHA,
            "power": 0.8,
            "split": {"champion": 50, "challenger": 50},
            "interim_looks": [0.2, 0.4, 0.6, 0.8],
            "spending": "pocock",  # the larger inflation makes the check sharper
        }
    )
    size = es.sample_size(protocol)
    design = es.sequential_boundaries(FIVE_LOOKS, alpha=ALPHA, spending="pocock")
    rng = np.random.default_rng(4)

    def power_at(n):
        z = proportion_z_at_looks(
            rng, reps=REPS, n_per_arm=n, fractions=FIVE_LOOKS, p_champion=0.2, p_challenger=0.22
        )
        return np.mean(np.any(crosses(z, design), axis=1))

    assert abs(power_at(size.maximum["champion"]) - 0.8) < 0.015
    # without the inflation the sequential design falls clearly short
    assert power_at(size.required["champion"]) < 0.78


@pytest.mark.parametrize("exact", [True, False])
def test_mcnemar_exact_power_matches_simulation(exact):
    psi, delta = 0.15, 0.04
    n = es.mcnemar_required_pairs(psi, delta, ALPHA, 0.8, "two-sided", exact)
    rng = np.random.default_rng(8)
    m = rng.binomial(n, psi, REPS)  # discordant pairs, then challenger-only among them
    c = rng.binomial(m, (psi + delta) / (2 * psi))
    b = m - c
    p = np.array(
        [
            es.mcnemar_test(
                es.PairedBinaryCounts(0, int(bi), int(ci), n - int(bi + ci)), exact=exact
            ).p_value
            for bi, ci in zip(b[:2000], c[:2000], strict=True)
        ]
    )
    if exact:
        fast = np.minimum(1.0, 2 * stats.binom.cdf(np.minimum(b, c), m, 0.5))
    else:
        fast = stats.chi2.sf((np.abs(b - c) - 1.0) ** 2 / m, 1)
    assert np.allclose(p, fast[:2000], rtol=1e-12)
    low, high = rate_interval(np.sum(fast <= ALPHA), REPS)
    assert low <= es.mcnemar_power(n, psi, delta, ALPHA, "two-sided", exact) <= high
    # Connor's formula alone would leave the registered test short of its power
    connor = math.ceil(es.mcnemar_sample_size(psi, delta, ALPHA, 0.8))
    assert (
        es.mcnemar_power(connor, psi, delta, ALPHA, "two-sided", exact)
        < 0.8
        <= (es.mcnemar_power(n, psi, delta, ALPHA, "two-sided", exact))
    )


def test_paired_t_sample_size_delivers_the_registered_power():
    protocol = es.validate_protocol(
        {
            "design": "shadow",
            "metric_kind": "mean",
            "standard_deviation": 1.0,
            "minimum_effect": 0.4,
            "alternative": "one-sided",
        }
    )
    n = es.sample_size(protocol).required["pairs"]
    rng = np.random.default_rng(9)
    diffs = rng.normal(0.4, 1.0, size=(REPS, n))
    rejected = stats.ttest_1samp(diffs, 0.0, axis=1, alternative="greater").pvalue <= ALPHA
    low, high = rate_interval(rejected.sum(), REPS)
    assert low <= es.ttest_power(0.4, n, ALPHA, "larger") <= high
    assert es.ttest_power(0.4, n, ALPHA, "larger") >= 0.8
