"""The non-inferiority design (issue 14): the protocol pre-registers a margin and the
test equals statsmodels' shifted-null tests, both directions of "better"."""

import numpy as np
import pytest
from statsmodels.stats.proportion import test_proportions_2indep as proportions_2indep
from statsmodels.stats.weightstats import ttest_ind

from core import experiment_stats as st

BASE = {"design": "ab", "alpha": 0.05, "power": 0.8, "alternative": "one-sided"}
SPLIT = {"champion": 50, "challenger": 50}


def protocol(kind, higher=True, margin=0.02, **kw):
    extra = {"baseline_proportion": 0.3} if kind == "proportion" else {"standard_deviation": 1.0}
    return st.validate_protocol(
        {
            **BASE,
            "metric_kind": kind,
            "minimum_effect": 0.02 if kind == "proportion" else 0.1,
            "higher_is_better": higher,
            "split": SPLIT,
            "non_inferiority_margin": margin,
            **extra,
            **kw,
        }
    )


@pytest.mark.parametrize("higher", [True, False])
@pytest.mark.parametrize(("c1", "c2"), [(3000, 2950), (3000, 2800), (3000, 3100)])
def test_proportions_equal_statsmodels(higher, c1, c2):
    n1, n2 = 10_000, 9_800
    p = protocol("proportion", higher=higher)
    result = st.primary_test(
        p, champion=st.BinomialCounts(c1, n1), challenger=st.BinomialCounts(c2, n2)
    )
    ref = proportions_2indep(
        c2,
        n2,
        c1,
        n1,
        value=-0.02 if higher else 0.02,
        method="wald",
        compare="diff",
        alternative="larger" if higher else "smaller",
    )
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    expected = st.NON_INFERIOR if ref.pvalue <= 0.05 else st.NOT_NON_INFERIOR
    assert result.decision == expected


@pytest.mark.parametrize("higher", [True, False])
@pytest.mark.parametrize("shift", [0.0, -0.15, 0.1])
def test_means_equal_statsmodels(higher, shift):
    rng = np.random.default_rng(11)
    x1 = rng.normal(5.0, 1.0, 800)
    x2 = rng.normal(5.0 + shift, 1.3, 700)
    p = protocol("mean", higher=higher, margin=0.1)
    result = st.primary_test(
        p,
        champion=st.MeanSummary.from_values(x1),
        challenger=st.MeanSummary.from_values(x2),
    )
    t, pv, df = ttest_ind(
        x2,
        x1,
        usevar="unequal",
        value=-0.1 if higher else 0.1,
        alternative="larger" if higher else "smaller",
    )
    assert result.statistic == pytest.approx(t, rel=1e-9)
    assert result.p_value == pytest.approx(pv, rel=1e-9, abs=1e-15)
    assert result.df == pytest.approx(df, rel=1e-9)


def test_a_clearly_worse_challenger_is_not_non_inferior():
    p = protocol("proportion")
    result = st.primary_test(
        p, champion=st.BinomialCounts(3000, 10_000), challenger=st.BinomialCounts(2500, 10_000)
    )
    assert result.decision == st.NOT_NON_INFERIOR and not result.rejected
    assert st.NOT_NON_INFERIOR not in st.SUPPORTS_PROMOTION


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"non_inferiority_margin": 0}, "positive"),
        ({"non_inferiority_margin": -0.1}, "positive"),
        ({"alternative": "two-sided"}, "one-sided"),
        ({"interim_looks": [0.5]}, "interim"),
    ],
)
def test_bad_non_inferiority_protocols_are_refused(change, message):
    with pytest.raises(st.ProtocolError, match=message) as exc:
        protocol("proportion", **change)
    assert exc.value.field == "non_inferiority_margin"


def test_a_shadow_design_has_no_non_inferiority_margin():
    with pytest.raises(st.ProtocolError, match="A/B"):
        st.validate_protocol(
            {
                "design": "shadow",
                "metric_kind": "mean",
                "minimum_effect": 0.1,
                "standard_deviation": 1.0,
                "alternative": "one-sided",
                "non_inferiority_margin": 0.1,
            }
        )
