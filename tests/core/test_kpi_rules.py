"""KRI levels, threshold checks, the median and the demo's trends (issue 16, Step 8):
pure functions, no database."""

import pytest

from core import kpi_rules as kr


@pytest.mark.parametrize(
    "value, comparison, warning, breach, level",
    [
        (None, "above", 1, 2, "unknown"),
        (0, "above", 1, 2, "ok"),
        (1, "above", 1, 2, "warning"),
        (2, "above", 1, 2, "breach"),
        (5, "above", None, 2, "breach"),
        (1, "above", None, 2, "ok"),
        (90, "below", 80, 70, "ok"),
        (80, "below", 80, 70, "warning"),
        (70, "below", 80, 70, "breach"),
    ],
)
def test_kri_level(value, comparison, warning, breach, level):
    assert kr.kri_level(value, comparison=comparison, warning=warning, breach=breach) == level


def test_threshold_errors():
    assert kr.threshold_errors(comparison="above", warning=1, breach=2) == {}
    assert "warning_level" in kr.threshold_errors(comparison="above", warning=3, breach=2)
    assert "warning_level" in kr.threshold_errors(comparison="below", warning=1, breach=2)
    assert "comparison" in kr.threshold_errors(comparison="sideways", warning=None, breach=2)
    assert "breach_level" in kr.threshold_errors(comparison="above", warning=None, breach=None)


def test_median_and_measures():
    assert kr.median([]) is None
    assert kr.median([4, 2]) == 3.0
    assert kr.median([5, 1, 3]) == 3.0
    assert kr.measure_of("obligation:bias-harm-testing") == "bias-harm-testing"
    assert kr.measure_of("finding:12") == "finding"
    assert kr.measure_of("raci") == "raci"


def test_series_leaves_gaps():
    import datetime as dt

    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    assert kr.series(list(zip(days, [{"a": 1}, {}], strict=True)), "a") == (
        ["2026-01-01", "2026-01-02"],
        [1, None],
    )


def test_demo_trend_is_fixed_ends_at_today_and_never_negative():
    walk = kr.demo_trend(7, days=365, seed=3)
    assert walk == kr.demo_trend(7, days=365, seed=3)
    assert len(walk) == 365 and walk[-1] == 7 and min(walk) >= 0
    assert kr.demo_trend(0, days=10, seed=1)[-1] == 0
