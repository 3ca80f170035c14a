"""``summarise``: the JSON-safe bias summary of ``GroupCounts``, overall, per attribute
and per intersection of attributes, with the notes that say how it is computed."""

from __future__ import annotations

import itertools
import math
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
from core.fairness.rates import (
    RATES,
    Z95,
    _rate,
    roc_auc_ascending,
    roc_auc_from_histogram,
)
from core.fairness.stored import grid_points

_DENSE_AUC = 1 << 22  # groups x distinct scores up to which a block's AUCs use one bincount
INTERSECTION_SEP = " x "
GROUP_SEP = " | "


def _group(values, n, w, w2, counts: GroupCounts, auc, min_group_size: int) -> dict:
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
        group["roc_auc"] = {
            "value": auc,
            "approximate": counts.score_grid,
            "reason": None if auc is not None else "the group lacks positives or negatives",
        }
    return group


def _score_ranks(counts: GroupCounts) -> tuple[np.ndarray, int]:
    """Each histogram row's score as an integer in the scores' order, and the number of
    ranks: the grid index on the grid (no sort), else the rank among distinct scores."""
    k = grid_points(counts.h_score, GRID_BINS) if counts.score_grid else None
    if k is not None:
        return k, GRID_BINS
    su, inv = np.unique(counts.h_score, return_inverse=True)
    return inv.reshape(-1), len(su)


def _aucs(counts: GroupCounts, subset, keys: np.ndarray, ranks) -> list[float | None]:
    """ROC AUC of each group (`keys`: rows of codes of the `subset` attributes, sorted)
    from the histogram rows of its cells, with the arithmetic of
    `roc_auc_from_histogram` on the same rows in the same order (so the same bits): one
    bincount per block instead of a mask and a sort per group (issue 18)."""
    if not counts.scored or not len(keys):
        return [None] * len(keys)
    hist = counts.h_w if counts.weighted else counts.h_n
    neg, pos = hist[:, 0].astype(float), hist[:, 1].astype(float)
    dims = [len(counts.labels[a]) for a in subset]
    if math.prod(dims) >= 2**62:  # codes too wide to number: a mask per group
        hkeys = counts.h_cells[:, list(subset)]
        masks = [(hkeys == key).all(axis=1) for key in keys]
        return [roc_auc_from_histogram(counts.h_score[m], neg[m], pos[m]) for m in masks]
    if subset:
        flat = np.ravel_multi_index(tuple(keys.T), dims)
        hflat = np.ravel_multi_index(tuple(counts.h_cells[:, list(subset)].T), dims)
        g = np.minimum(np.searchsorted(flat, hflat), len(flat) - 1)
        mine = flat[g] == hflat  # (every row's cell is one of the groups')
        g, rows = g[mine], np.flatnonzero(mine)
    else:
        g, rows = np.zeros(len(counts.h_score), np.int64), slice(None)
    rank, width = ranks
    groups = len(keys)
    if groups * width > _DENSE_AUC:  # one group's rows at a time, in their order
        order = np.argsort(g, kind="stable")
        at = np.asarray(rows if subset else np.arange(len(g)))[order]
        cuts = np.searchsorted(g[order], np.arange(groups + 1))
        parts = [at[cuts[i] : cuts[i + 1]] for i in range(groups)]
        return [roc_auc_from_histogram(counts.h_score[p], neg[p], pos[p]) for p in parts]
    slot = g * width + rank[rows]
    size = groups * width
    negs = np.bincount(slot, weights=neg[rows], minlength=size).reshape(groups, width)
    poss = np.bincount(slot, weights=pos[rows], minlength=size).reshape(groups, width)
    seen = np.bincount(slot, minlength=size).reshape(groups, width) > 0
    return [roc_auc_ascending(negs[i][seen[i]], poss[i][seen[i]]) for i in range(groups)]


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
    ranks = _score_ranks(counts) if counts.scored else (np.zeros(0, np.int64), 0)
    everyone = np.zeros((1, 0), np.int64)
    auc = _aucs(counts, (), everyone, ranks)[0]
    overall = _group(["all"], n.sum(0), w.sum(0), w2.sum(0), counts, auc, 0)
    overall.pop("small_group")
    subsets = [(a,) for a in range(m)]
    if m > 1:
        subsets += [c for k in range(2, m + 1) for c in itertools.combinations(range(m), k)]
    blocks = []
    for subset in subsets:
        block = _block(counts, subset, (n, w, w2), reference, min_group_size, ranks)
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
    ranks: tuple[np.ndarray, int],
) -> dict:
    """The summary of one attribute or intersection of attributes (`subset`, indices
    into `counts.attributes`) without its breaches; `sums` are the per-cell counts,
    weights and squared weights; `ranks` those of `_score_ranks`."""
    n, w, w2 = sums
    cols = [counts.attributes[a] for a in subset]
    name = INTERSECTION_SEP.join(cols)
    keys, (gn, gw, gw2) = _reduce(counts.cells[:, list(subset)], [n, w, w2])
    aucs = _aucs(counts, subset, keys, ranks)
    groups = []
    for i, key in enumerate(keys):
        values = [counts.labels[a][c] for a, c in zip(subset, key, strict=True)]
        groups.append(_group(values, gn[i], gw[i], gw2[i], counts, aucs[i], min_group_size))
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
