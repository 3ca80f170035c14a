"""``summarise``: the JSON-safe bias summary of ``GroupCounts``, overall, per attribute
and per intersection of attributes, with the notes that say how it is computed."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.fairness.counts import GRID_BINS, SCHEMA_VERSION, GroupCounts, _reduce
from core.fairness.disparities import (
    DISPARITIES,
    _against,
    _between,
    _breaches,
    _equalized_odds,
    _parse_thresholds,
    _pick_reference,
)
from core.fairness.labels import MISSING_LABEL
from core.fairness.rates import RATES, Z95, _rate, roc_auc_from_histogram

INTERSECTION_SEP = " x "
GROUP_SEP = " | "


def _group(values, n, w, w2, counts: GroupCounts, hmask, min_group_size: int) -> dict:
    weighted = counts.weighted
    count = int(n.sum())
    group = {
        "label": GROUP_SEP.join(values),
        "values": list(values),
        "count": count,
        "weighted_count": float(w.sum()),
        "small_group": count < min_group_size,
        "metrics": {name: _rate(name, n, w, w2, weighted) for name in RATES},
        "roc_auc": None,
    }
    if counts.scored:
        hist = counts.h_w if weighted else counts.h_n
        value = roc_auc_from_histogram(
            counts.h_score[hmask], hist[hmask, 0].astype(float), hist[hmask, 1].astype(float)
        )
        group["roc_auc"] = {
            "value": value,
            "approximate": counts.score_grid,
            "reason": None if value is not None else "the group lacks positives or negatives",
        }
    return group


def summarise(
    counts: GroupCounts,
    *,
    reference: str | Mapping[str, str] = "best",
    min_group_size: int = 30,
    thresholds: Mapping[str, Any] | None = None,
) -> dict:
    """The JSON-safe bias summary of `counts`; `notes` in the result say how it is computed.

    `reference` is "best" (the compared group with the highest selection rate), a group
    label, or a mapping attribute name -> label. Raises ValueError on bad arguments.
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
        raise ValueError("min_group_size must be an integer")
    if min_group_size < 0:
        raise ValueError("min_group_size must be >= 0")
    used, ignored = _parse_thresholds(thresholds)
    counts = counts.canonical()
    m = len(counts.attributes)
    n = counts.n
    w = counts.w if counts.weighted else n.astype(np.float64)
    w2 = counts.w2 if counts.weighted else w
    every = np.ones(len(counts.h_score), bool)
    overall = _group(["all"], n.sum(0), w.sum(0), w2.sum(0), counts, every, 0)
    overall.pop("small_group")
    subsets = [(a,) for a in range(m)]
    if m > 1:
        subsets += [c for k in range(2, m + 1) for c in itertools.combinations(range(m), k)]
    blocks = []
    for subset in subsets:
        block = _block(counts, subset, (n, w, w2), reference, min_group_size)
        block["breaches"] = _breaches(block, used)
        blocks.append(block)
    return {
        "schema_version": SCHEMA_VERSION,
        "rows": counts.rows,
        "weighted": counts.weighted,
        "total_weight": float(w.sum()),
        "attributes": list(counts.attributes),
        "min_group_size": min_group_size,
        "reference": dict(reference) if isinstance(reference, Mapping) else reference,
        "confidence_interval": {"method": "wilson", "level": 0.95, "z": Z95},
        "roc_auc": {
            "available": counts.scored,
            "approximate": counts.score_grid,
            "grid_points": GRID_BINS if counts.score_grid else None,
        },
        "overall": overall,
        "by_attribute": blocks,
        "thresholds": used,
        "thresholds_ignored": ignored,
        "breaches": [b for block in blocks for b in block["breaches"]],
        "notes": _notes(counts, min_group_size),
    }


def _block(
    counts: GroupCounts,
    subset: tuple[int, ...],
    sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    reference: str | Mapping[str, str],
    min_group_size: int,
) -> dict:
    """The summary of one attribute or intersection of attributes (`subset`, indices
    into `counts.attributes`) without its breaches; `sums` are the per-cell counts,
    weights and squared weights."""
    n, w, w2 = sums
    cols = [counts.attributes[a] for a in subset]
    name = INTERSECTION_SEP.join(cols)
    keys, (gn, gw, gw2) = _reduce(counts.cells[:, list(subset)], [n, w, w2])
    hkeys = counts.h_cells[:, list(subset)]
    groups = []
    for i, key in enumerate(keys):
        values = [counts.labels[a][c] for a, c in zip(subset, key, strict=True)]
        hmask = (hkeys == key).all(axis=1)
        groups.append(_group(values, gn[i], gw[i], gw2[i], counts, hmask, min_group_size))
    groups.sort(key=lambda g: [(v == MISSING_LABEL, v) for v in g["values"]])
    compared = [g for g in groups if not g["small_group"]]
    between = {d: _between(compared, metric, min_group_size) for d, metric in DISPARITIES.items()}
    between["equalized_odds"] = _equalized_odds(
        between["equal_opportunity"], between["false_positive_rate_parity"]
    )
    wanted = reference.get(name, "best") if isinstance(reference, Mapping) else reference
    ref, ref_info = _pick_reference(groups, compared, wanted, name, min_group_size)
    return {
        "name": name,
        "columns": cols,
        "intersection": len(subset) > 1,
        "groups": groups,
        "compared_groups": [g["label"] for g in compared],
        "excluded_small_groups": [g["label"] for g in groups if g["small_group"]],
        "between_groups": between,
        "reference": ref_info,
        "against_reference": [] if ref is None else [_against(g, ref) for g in compared],
    }


def _notes(counts: GroupCounts, min_group_size: int) -> list[str]:
    notes = [
        "Each rate carries a 95% Wilson score interval. Its n is the number of rows in the "
        "rate's denominator (all rows; actual positives for TPR/FNR; actual negatives for "
        "FPR; predicted positives for precision)"
        + (
            "; with weights the rate is the weighted proportion and n is Kish's effective "
            "sample size (sum of w)^2 / (sum of w^2) over those rows."
            if counts.weighted
            else "."
        ),
        f"Groups with fewer than {min_group_size} rows are reported but flagged small_group "
        "and left out of every disparity comparison.",
        "A rate whose denominator is empty is null with a reason; groups with an undefined "
        "rate are left out of the disparities on that rate.",
        "Between groups (as fairlearn): difference = max - min and ratio = min / max over "
        "the compared groups; equalized odds takes the larger of the TPR and FPR "
        "differences and the smaller of their ratios. Disparate impact is the selection-rate "
        "ratio to the reference group; the four-fifths rule flags ratios below 0.8.",
        f"Missing sensitive values (empty, null, NaN) form the group {MISSING_LABEL!r}.",
    ]
    if counts.score_grid:
        notes.append(
            f"ROC AUC is approximate: more than {counts.score_cap} distinct scores, so scores "
            f"were rounded to a grid of {GRID_BINS} points on [0, 1]."
        )
    return notes
