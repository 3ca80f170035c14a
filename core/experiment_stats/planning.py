"""Planning a pre-registered experiment from the protocol a form or the API sends:
``plan_protocol`` checks the input fields, validates the protocol (``validate_protocol``)
and sizes it (``sample_size``), refusing plans too large to run. It returns the
``Plan`` or the field errors, keyed by the protocol field at fault (``alpha``,
``split``, ``split.champion``, ``guardrails[0].name``...), so that a caller can turn
them into its own errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.experiment_stats.base import ProtocolError
from core.experiment_stats.protocol import Protocol, validate_protocol
from core.experiment_stats.sizing import SampleSize, sample_size

# Protocol fields a draft's form or API may set (design and metric kind are columns).
PROTOCOL_INPUT_FIELDS = (
    "alpha",
    "power",
    "minimum_effect",
    "alternative",
    "higher_is_better",
    "baseline_proportion",
    "standard_deviation",
    "discordant_proportion",
    "split",
    "daily_traffic",
    "interim_looks",
    "spending",
    "srm_alpha",
    "max_missing_share",
    "max_duplicate_share",
    "mcnemar_exact",
    "guardrails",
    "non_inferiority_margin",
)
MAX_PLANNED_UNITS = 1_000_000_000
MAX_PLANNED_DAYS = 3_650


@dataclass(frozen=True)
class Plan:
    """A validated protocol and the sample size and duration it needs."""

    protocol: Protocol
    sample_size: SampleSize


def input_fields(protocol: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a stored protocol (``Protocol.to_dict()``) that a draft may set."""
    return {k: v for k, v in protocol.items() if k in PROTOCOL_INPUT_FIELDS}


def plan_protocol(
    *,
    design: str,
    metric_kind: str,
    protocol: Any,
    max_units: int = MAX_PLANNED_UNITS,
    max_days: int = MAX_PLANNED_DAYS,
) -> tuple[Plan | None, dict[str, str]]:
    """``(plan, {})`` for a valid protocol, ``(None, {field: message})`` otherwise.

    ``protocol`` holds the ``PROTOCOL_INPUT_FIELDS`` (a None value means "the
    default"); a shadow design's split is ignored (both models score every unit). The
    first problem found is reported: a protocol that is not a mapping, an unknown field,
    an invalid field (``ProtocolError``), no computable sample size, more than
    ``max_units`` units or, at the protocol's daily traffic, more than ``max_days`` days.
    """
    if not isinstance(protocol, dict):
        return None, {"protocol": "The protocol must be an object of its fields."}
    unknown = sorted(set(protocol) - set(PROTOCOL_INPUT_FIELDS))
    if unknown:
        return None, {unknown[0]: "Unknown protocol field."}
    raw = {k: v for k, v in protocol.items() if v is not None}
    if design == "shadow":
        raw.pop("split", None)  # both models score every unit: there is no split
    try:
        checked = validate_protocol({"design": design, "metric_kind": metric_kind, **raw})
        size = sample_size(checked)
    except ProtocolError as exc:
        return None, {exc.field: exc.message}
    except (ValueError, ArithmeticError) as exc:
        return None, {"minimum_effect": f"No sample size for this protocol: {exc}"}
    if size.total > max_units:
        return None, {
            "minimum_effect": f"Needs {size.total:,} units: the minimum effect is too small."
        }
    if size.duration_days_ceil is not None and size.duration_days_ceil > max_days:
        return None, {
            "daily_traffic": f"At this traffic the experiment would run "
            f"{size.duration_days_ceil:,} days (more than {max_days:,})."
        }
    return Plan(checked, size), {}
