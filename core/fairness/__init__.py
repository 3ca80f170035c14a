"""Subgroup fairness from mergeable counts (issue #5). Pure: numpy only, no Django.

`GroupCounts` holds, for every observed combination of sensitive-attribute values (a
"cell"), the unweighted row counts and (optionally) the weighted sums of TN, FP, FN and
TP, plus per-cell score histograms for ROC AUC. One batch is accumulated with a single
vectorised pass (cell code * 4 + 2 * y + yhat, then `np.bincount`); partial results from
different batches, files or workers merge exactly (integer counts) or to rounding
(weighted sums). Every attribute's groups and every intersection of two or more
attributes are marginals of the cell table, so they all come from the same pass.

`summarise` turns counts into the JSON-safe summary the product stores: per-group rates
with Wilson intervals, disparities between groups (as fairlearn computes them) and against
a reference group, and the breaches of the policy's thresholds.

The code is split by sub-domain: ``labels`` (group labels and encoding), ``counts``
(``GroupCounts``, ``accumulate``), ``rates`` (rates, Wilson intervals, ROC AUC),
``disparities`` (between groups, against a reference, threshold breaches),
``summary`` (``summarise``) and ``stored`` (the stored form of counts: arrays packed,
the lists stored before still read). Everything else is re-exported here.
"""

from __future__ import annotations

from core.fairness.counts import (
    DEFAULT_SCORE_CAP,
    GRID_BINS,
    SCHEMA_VERSION,
    GroupCounts,
    accumulate,
)
from core.fairness.disparities import DISPARITIES, FOUR_FIFTHS, THRESHOLDS
from core.fairness.labels import MISSING_LABEL, EncodedColumn, encode, label_for
from core.fairness.rates import FN, FP, RATES, TN, TP, Z95, roc_auc_from_histogram, wilson_interval
from core.fairness.summary import GROUP_SEP, INTERSECTION_SEP, summarise

__all__ = [
    "DEFAULT_SCORE_CAP",
    "DISPARITIES",
    "EncodedColumn",
    "FN",
    "FOUR_FIFTHS",
    "FP",
    "GRID_BINS",
    "GROUP_SEP",
    "GroupCounts",
    "INTERSECTION_SEP",
    "MISSING_LABEL",
    "RATES",
    "SCHEMA_VERSION",
    "THRESHOLDS",
    "TN",
    "TP",
    "Z95",
    "accumulate",
    "encode",
    "label_for",
    "roc_auc_from_histogram",
    "summarise",
    "wilson_interval",
]
