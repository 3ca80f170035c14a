"""Governance KPIs and key risk indicators (issue 16, Step 8), pure: no Django.

- ``kri_level``: where a value stands against a KRI's warning and breach levels;
- ``threshold_errors``: a KRI's levels checked together (a breach beyond the warning);
- ``median``: the median of a list of numbers (None for none);
- ``measure_of``: the measure a sign-off waiver's blocking item is about;
- ``CONSIDERATION_OF_SOURCE``: the policy consideration a finding's source falls under,
  to count findings per policy cell in the framework review;
- ``series``: one indicator's values over a list of snapshots, for the trend charts;
- ``demo_trend``: a deterministic, plausible history that ends at today's real figure.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

OK, WARNING, BREACH, UNKNOWN = "ok", "warning", "breach", "unknown"
LEVELS = (OK, WARNING, BREACH)
ABOVE, BELOW = "above", "below"
COMPARISONS = (ABOVE, BELOW)

# Findings have no consideration of their own: the policy consideration whose measures
# their source tests (issue 16: "waivers and findings per policy cell"). A manual or
# experiment finding falls under no single consideration ("other").
CONSIDERATION_OF_SOURCE = {
    "validation": "preproduction-verification",
    "bias": "bias-harm-testing",
    "monitoring": "production-monitoring",
    "review": "audit-documentation",
    "audit": "audit-documentation",
}
OTHER = "other"


def kri_level(value: float | None, *, comparison: str, warning: float | None, breach: float) -> str:
    """``breach`` when ``value`` reaches the breach level (above it or equal for
    "above", below or equal for "below"), ``warning`` when it reaches the warning level,
    ``ok`` otherwise; ``unknown`` when there is no value (e.g. no approval in the period)."""
    if value is None:
        return UNKNOWN

    def reached(level: float) -> bool:
        return value >= level if comparison == ABOVE else value <= level

    if reached(breach):
        return BREACH
    if warning is not None and reached(warning):
        return WARNING
    return OK


def threshold_errors(
    *, comparison: str, warning: float | None, breach: float | None
) -> dict[str, str]:
    """{field: message} of a KRI's levels: a known comparison, a breach level, and a
    warning level (optional) on the safe side of the breach level."""
    errors: dict[str, str] = {}
    if comparison not in COMPARISONS:
        errors["comparison"] = f"Choose one of: {', '.join(COMPARISONS)}."
    if breach is None:
        errors["breach_level"] = "Give the level at which the indicator is in breach."
    if errors or warning is None:
        return errors
    if comparison == ABOVE and warning > breach:
        errors["warning_level"] = "For 'above', the warning level cannot exceed the breach level."
    if comparison == BELOW and warning < breach:
        errors["warning_level"] = "For 'below', the warning level cannot be under the breach level."
    return errors


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    value = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return round(float(value), 1)


def measure_of(code: str) -> str:
    """A blocking item's code as the measure it waives: ``obligation:<consideration>``
    is that consideration's measure; others by their kind (``finding``, ``raci``...)."""
    kind, _, rest = code.partition(":")
    return rest if kind == "obligation" and rest else kind


def tally(keys: Iterable[str], *, prefix: str) -> dict[str, int]:
    """{prefix + key: count} of ``keys``."""
    out: dict[str, int] = {}
    for key in keys:
        out[f"{prefix}{key}"] = out.get(f"{prefix}{key}", 0) + 1
    return out


def series(
    snapshots: Sequence[tuple[date, Mapping[str, Any]]], key: str
) -> tuple[list[str], list[float | None]]:
    """(days as ISO strings, values) of one indicator across ``snapshots`` (oldest
    first); a day whose snapshot lacks the key has None (a gap in the line)."""
    days = [day.isoformat() for day, _ in snapshots]
    values = [indicators.get(key) for _, indicators in snapshots]
    return days, values


def demo_trend(final: float, *, days: int, seed: int, drift: float = 0.35) -> list[float]:
    """``days`` values of a plausible history ending at ``final`` (today's real figure):
    a random walk from about ``final * (1 + drift)`` towards it, never negative, the
    same for the same seed. For the demo's year of snapshots."""
    rng = random.Random(seed)
    start = max(0.0, final * (1 + drift) + rng.uniform(0, 2))
    out = []
    for i in range(days):
        share = i / max(1, days - 1)
        trend = start + (final - start) * share
        noise = 0.0 if i == days - 1 else rng.gauss(0, max(0.5, abs(trend) * 0.06))
        out.append(max(0.0, trend + noise))
    return out
