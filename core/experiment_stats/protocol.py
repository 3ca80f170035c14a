"""The pre-registration protocol (``Protocol``, ``Guardrail``) and its validation:
``validate_protocol`` normalises a protocol or its ``to_dict()`` form and raises
``ProtocolError(field, message)`` on the first problem; ``validate_split`` checks a
two-arm split in percent."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from core.experiment_stats.base import (
    ALTERNATIVES,
    ARMS,
    DEFAULT_SRM_ALPHA,
    DESIGNS,
    METRIC_KINDS,
    SPENDING_FUNCTIONS,
    ProtocolError,
    _Serialisable,
)


@dataclass(frozen=True)
class Guardrail(_Serialisable):
    """A metric the challenger must not make worse by more than ``tolerance`` (absolute,
    in the metric's unit: 0.005 = half a percentage point for a proportion)."""

    name: str
    metric_kind: str = "proportion"
    tolerance: float = 0.0
    higher_is_better: bool = True


@dataclass(frozen=True)
class Protocol(_Serialisable):
    """A pre-registered experiment. Build it with ``validate_protocol``.

    ``standard_deviation`` is the per-unit sd for an A/B mean metric and the sd of the
    paired differences for a shadow mean metric. ``discordant_proportion`` (shadow,
    proportion) is the expected share of requests on which the two models' outcomes
    differ. ``interim_looks`` are information fractions in (0, 1]; the final analysis at
    1 is implied. ``daily_traffic`` is eligible units (A/B) or scored requests (shadow)
    per day.
    """

    design: str
    metric_kind: str
    minimum_effect: float
    alpha: float = 0.05
    power: float = 0.8
    alternative: str = "two-sided"
    higher_is_better: bool = True
    baseline_proportion: float | None = None
    standard_deviation: float | None = None
    discordant_proportion: float | None = None
    split: Mapping[str, float] | None = None
    daily_traffic: float | None = None
    interim_looks: tuple[float, ...] = ()
    spending: str = "obrien-fleming"
    srm_alpha: float = DEFAULT_SRM_ALPHA
    max_missing_share: float = 0.01
    max_duplicate_share: float = 0.0
    mcnemar_exact: bool = True
    guardrails: tuple[Guardrail, ...] = ()
    non_inferiority_margin: float | None = None

    @property
    def paired(self) -> bool:
        return self.design == "shadow"

    @property
    def test_alternative(self) -> str:
        """The statsmodels alternative about challenger minus champion."""
        if self.alternative == "two-sided":
            return "two-sided"
        return "larger" if self.higher_is_better else "smaller"

    @property
    def information_fractions(self) -> tuple[float, ...]:
        looks = tuple(self.interim_looks)
        return looks if looks and looks[-1] == 1.0 else (*looks, 1.0)

    @property
    def sequential(self) -> bool:
        return len(self.information_fractions) > 1


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ProtocolError(name, f"must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ProtocolError(name, "must be finite")
    return value


def _open_unit(name: str, value: Any, what: str) -> float:
    value = _number(name, value)
    if not 0.0 < value < 1.0:
        raise ProtocolError(name, f"{what} must be strictly between 0 and 1, not {value}")
    return value


def _choice(name: str, value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ProtocolError(name, f"unknown value {value!r}; expected one of {list(options)}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(name, f"must be true or false, not {value!r}")
    return value


def validate_split(split: Any, name: str = "split") -> dict[str, float]:
    """A two-arm split in percent, each share in (0, 100), summing to 100 (to 1e-9)."""
    if not isinstance(split, Mapping) or set(split) != set(ARMS):
        raise ProtocolError(name, f"must give a share in percent for exactly {list(ARMS)}")
    shares = {arm: _number(f"{name}.{arm}", split[arm]) for arm in ARMS}
    for arm, share in shares.items():
        if not 0.0 < share < 100.0:
            raise ProtocolError(f"{name}.{arm}", f"share must be in (0, 100) percent: {share}")
    if abs(sum(shares.values()) - 100.0) > 1e-9:
        raise ProtocolError(name, f"shares sum to {sum(shares.values())}%, not 100%")
    return shares


def validate_protocol(protocol: Protocol | Mapping[str, Any]) -> Protocol:
    """Check a protocol (a ``Protocol`` or its ``to_dict()`` form) and return it normalised.

    Raises ``ProtocolError(field, message)`` on the first problem: alpha, power or the
    SRM alpha outside (0, 1), power not above alpha, a non-positive minimum effect,
    unknown design / metric kind / alternative / spending function, a baseline
    proportion outside (0, 1) or one the minimum effect pushes outside it, a
    non-positive standard deviation, a split that is missing, not two arms or not 100%
    (A/B) or present (shadow), interim looks not strictly increasing in (0, 1],
    non-positive traffic, bad guardrails.
    """
    raw = _raw_fields(protocol)
    defaults = Protocol(design="ab", metric_kind="mean", minimum_effect=1.0)
    get = lambda key: raw.get(key, getattr(defaults, key))  # noqa: E731

    design = _choice("design", get("design"), DESIGNS)
    kind = _choice("metric_kind", get("metric_kind"), METRIC_KINDS)
    alpha = _open_unit("alpha", get("alpha"), "alpha")
    power = _open_unit("power", get("power"), "power")
    if power <= alpha:
        raise ProtocolError("power", f"must exceed alpha ({alpha}): {power}")
    effect = _number("minimum_effect", get("minimum_effect"))
    if effect <= 0:
        raise ProtocolError("minimum_effect", f"must be a positive difference, not {effect}")
    alternative = _choice("alternative", get("alternative"), ALTERNATIVES)
    higher = _flag("higher_is_better", get("higher_is_better"))

    baseline = sd = discordant = None
    if kind == "proportion":
        baseline, discordant = _proportion_fields(get, design, effect, higher)
    else:
        sd = _standard_deviation(get("standard_deviation"))

    split = _split_field(get("split"), design)
    traffic = _daily_traffic(get("daily_traffic"))
    looks = _interim_looks(get("interim_looks"))
    spending = _choice("spending", get("spending"), SPENDING_FUNCTIONS)

    srm_alpha = _open_unit("srm_alpha", get("srm_alpha"), "the SRM alpha")
    shares = {}
    for key in ("max_missing_share", "max_duplicate_share"):
        shares[key] = _number(key, get(key))
        if not 0.0 <= shares[key] < 1.0:
            raise ProtocolError(key, f"must be in [0, 1), not {shares[key]}")
    mcnemar_exact = _flag("mcnemar_exact", get("mcnemar_exact"))

    guardrails = _guardrails(get("guardrails") or ())
    margin = _margin(get("non_inferiority_margin"), design, alternative, looks)

    return Protocol(
        design=design,
        metric_kind=kind,
        minimum_effect=effect,
        alpha=alpha,
        power=power,
        alternative=alternative,
        higher_is_better=higher,
        baseline_proportion=baseline,
        standard_deviation=sd,
        discordant_proportion=discordant,
        split=split,
        daily_traffic=traffic,
        interim_looks=looks,
        spending=spending,
        srm_alpha=srm_alpha,
        mcnemar_exact=mcnemar_exact,
        guardrails=tuple(guardrails),
        non_inferiority_margin=margin,
        **shares,
    )


def _margin(value: Any, design: str, alternative: str, looks: tuple[float, ...]) -> float | None:
    """The non-inferiority margin (issue 14): positive, in the metric's unit, for a
    one-sided, fixed-horizon A/B test."""
    if value is None:
        return None
    margin = _number("non_inferiority_margin", value)
    if margin <= 0:
        raise ProtocolError("non_inferiority_margin", f"must be positive, not {margin}")
    if design != "ab":
        raise ProtocolError("non_inferiority_margin", "a non-inferiority design is an A/B test")
    if alternative != "one-sided":
        raise ProtocolError("non_inferiority_margin", "a non-inferiority test is one-sided")
    if looks and tuple(looks) != (1.0,):
        raise ProtocolError("non_inferiority_margin", "a non-inferiority test has no interim looks")
    return margin


def _raw_fields(protocol: Protocol | Mapping[str, Any]) -> dict[str, Any]:
    """The protocol's fields as a dict; a mapping must name known fields and the three
    required ones."""
    if isinstance(protocol, Protocol):
        return {f.name: getattr(protocol, f.name) for f in fields(Protocol)}
    if isinstance(protocol, Mapping):
        known = {f.name for f in fields(Protocol)}
        for key in protocol:
            if key not in known:
                raise ProtocolError(str(key), "unknown protocol field")
        raw = dict(protocol)
        for key in ("design", "metric_kind", "minimum_effect"):
            if key not in raw:
                raise ProtocolError(key, "is required")
        return raw
    raise ProtocolError("protocol", "must be a Protocol or a mapping of its fields")


def _proportion_fields(
    get: Callable[[str], Any], design: str, effect: float, higher: bool
) -> tuple[float, float | None]:
    """(baseline proportion, discordant proportion or None) of a proportion metric."""
    if get("baseline_proportion") is None:
        raise ProtocolError("baseline_proportion", "is required for a proportion metric")
    baseline = _open_unit("baseline_proportion", get("baseline_proportion"), "a proportion")
    target = baseline + effect if higher else baseline - effect
    if not 0.0 < target < 1.0:
        raise ProtocolError(
            "minimum_effect", f"moves the baseline {baseline} to {target}, outside (0, 1)"
        )
    discordant = None
    if design == "shadow":
        if get("discordant_proportion") is None:
            raise ProtocolError(
                "discordant_proportion", "is required for a paired proportion metric"
            )
        discordant = _number("discordant_proportion", get("discordant_proportion"))
        if not effect < discordant <= 1.0:
            raise ProtocolError(
                "discordant_proportion",
                f"must be in (minimum_effect, 1] = ({effect}, 1], not {discordant}",
            )
    return baseline, discordant


def _standard_deviation(value: Any) -> float:
    if value is None:
        raise ProtocolError("standard_deviation", "is required for a mean metric")
    sd = _number("standard_deviation", value)
    if sd <= 0:
        raise ProtocolError("standard_deviation", f"must be positive, not {sd}")
    return sd


def _split_field(split: Any, design: str) -> dict[str, float] | None:
    if design == "ab":
        if split is None:
            raise ProtocolError("split", "an A/B design needs a split")
        return validate_split(split)
    if split is not None:
        raise ProtocolError("split", "a shadow design scores every request with both models")
    return split


def _daily_traffic(traffic: Any) -> float | None:
    if traffic is not None:
        traffic = _number("daily_traffic", traffic)
        if traffic <= 0:
            raise ProtocolError("daily_traffic", f"must be positive, not {traffic}")
    return traffic


def _interim_looks(looks: Any) -> tuple[float, ...]:
    if isinstance(looks, str | bytes) or not isinstance(looks, Sequence):
        raise ProtocolError("interim_looks", "must be a list of information fractions")
    looks = tuple(_number(f"interim_looks[{i}]", t) for i, t in enumerate(looks))
    for i, t in enumerate(looks):
        if not 0.0 < t <= 1.0:
            raise ProtocolError("interim_looks", f"look {i + 1} ({t}) is outside (0, 1]")
        if i and t <= looks[i - 1]:
            raise ProtocolError("interim_looks", "must be strictly increasing")
    return looks


def _guardrails(items: Any) -> list[Guardrail]:
    guardrails = []
    for i, g in enumerate(items):
        where = f"guardrails[{i}]"
        if isinstance(g, Mapping):
            unknown = set(g) - {f.name for f in fields(Guardrail)}
            if unknown:
                raise ProtocolError(f"{where}.{sorted(unknown)[0]}", "unknown guardrail field")
            g = Guardrail(**g)
        if not isinstance(g, Guardrail):
            raise ProtocolError(where, "must be a guardrail")
        if not isinstance(g.name, str) or not g.name.strip():
            raise ProtocolError(f"{where}.name", "is required")
        if any(other.name == g.name for other in guardrails):
            raise ProtocolError(f"{where}.name", f"duplicate guardrail {g.name!r}")
        _choice(f"{where}.metric_kind", g.metric_kind, METRIC_KINDS)
        tolerance = _number(f"{where}.tolerance", g.tolerance)
        if tolerance < 0:
            raise ProtocolError(f"{where}.tolerance", f"must be >= 0, not {tolerance}")
        _flag(f"{where}.higher_is_better", g.higher_is_better)
        guardrails.append(Guardrail(g.name, g.metric_kind, tolerance, g.higher_is_better))
    return guardrails
