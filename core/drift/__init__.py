"""Input, prediction and performance drift per time window (issue #6). Pure: numpy and
scipy, no Django, no pandas.

A **reference profile** is built once per reference dataset (`profile_build`, batch by
batch and merged with `profile_merge`) and reused for every window:

- numeric feature: the sorted distinct finite values with their counts (exact: what a
  two-sample Kolmogorov-Smirnov test needs, and smaller than the raw data when values
  repeat), the count of missing values (NaN, None, +-inf), and quantile bins: the inner
  edges are `np.quantile(values, [1/bins, ..., (bins-1)/bins])` of the reference, ties
  removed, outer bins open-ended; a bin is right-closed, (e[i-1], e[i]], so a heavily tied
  value (say 0 prior offences) fills the bin that ends at it;
- categorical feature: category counts, missing values (None, NaN, "") as the category
  "(missing)".

`drift_compare` profiles the window the same way and gives, per feature:

- PSI over the reference bins (categories for a categorical feature; a category unseen
  in the reference becomes its own bucket and is reported as new). Empty buckets follow
  Evidently's convention: a zero proportion becomes 1e-4, or (smallest non-zero
  proportion) / 1e6 when that is <= 1e-4, separately for each side. Natural logarithm.
- Jensen-Shannon distance over the same buckets, as Evidently computes it:
  `scipy.spatial.distance.jensenshannon(p_ref, p_cur)` (natural logarithm, so between 0
  and sqrt(ln 2)), on the proportions without the epsilon.
- numeric: the two-sample KS statistic and p-value, equal to
  `scipy.stats.ks_2samp(reference, current)` (method "auto") on the non-missing values;
  computed by merging the two empirical CDFs of the (value, count) lists, with the p-value
  from the same scipy routines and the same exact/asymptotic choice as `ks_2samp`.
- categorical: the chi-square test of homogeneity on the 2 x k table of reference and
  window category counts (`scipy.stats.chi2_contingency`, Yates-corrected when dof = 1)
  and Cramer's V (uncorrected statistic, as `scipy.stats.contingency.association`).

Missing values are left out of KS, PSI and JS (as Evidently drops them) and reported as
shares on each side; for a categorical feature "(missing)" is a category like any other.

The verdict (`DriftThresholds`): drift when the test's p-value < alpha AND its effect is
large enough (KS D >= ks_min_effect; Cramer's V >= cramers_v_min), or when PSI > psi_max.
With a million rows almost every difference is "significant"; the minimum effect keeps the
verdict about differences that matter.

A feature that is missing on one side, a window with no rows, a column whose values are
all missing or cannot be read as numbers: each feature gets a result with a `status` and a
readable `message`; nothing raises past `drift_compare`, so one bad feature or window does
not stop the others. `window_split` cuts rows into daily or weekly UTC windows;
`performance` gives accuracy, precision, recall and ROC AUC (equal to scikit-learn's)
overall and per sensitive group; `PerformanceAccumulator` gives the same overall figures
from rows given batch by batch (counts summed; only the AUC's scores kept). A reference
profile is stored column by column (`array_bytes`: a feature's distinct values and counts
as NumPy arrays), so a page reads only the column it draws.

The code is split by sub-domain: ``base`` (constants, statuses, thresholds),
``profiles`` (building and merging profiles), ``stattests`` (KS, chi-square, PSI, JS),
``comparison`` (``drift_compare``), ``metrics`` (``performance``) and ``windows``
(``window_split``). Everything is re-exported here. ``MAX_DISTINCT`` is defined here and
read from here at call time, so setting ``core.drift.MAX_DISTINCT`` applies everywhere.
"""

from __future__ import annotations

from core.drift.base import (
    ALL_MISSING,
    CADENCES,
    DEFAULT_BINS,
    INVALID,
    KS_MAX_AUTO_N,
    MISSING_IN_WINDOW,
    NO_ROWS,
    NOT_IN_REFERENCE,
    OK,
    PARALLEL_MIN_ROWS,
    PSI_EPSILON,
    SCHEMA_VERSION,
    DriftInputError,
    DriftThresholds,
    Kind,
)
from core.drift.comparison import _result as _result
from core.drift.comparison import drift_compare
from core.drift.metrics import PerformanceAccumulator, performance
from core.drift.profiles import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    Profile,
    array_bytes,
    array_from_bytes,
    categorical_counts,
    numeric_counts,
    profile_build,
    profile_merge,
)
from core.drift.stattests import (
    chi2_from_counts,
    chi2_goodness_of_fit,
    js_distance,
    ks_from_counts,
    psi,
)
from core.drift.windows import Window, WindowSplit, window_split
from core.drift.windows import _to_utc_ns as _to_utc_ns
from core.fairness import MISSING_LABEL

# Distinct values kept per numeric column. Up to this the profile is exact (KS equal to
# scipy); beyond it values are pooled into equal-mass buckets (ECDF off by < 1/cap), so a
# profile's memory stays bounded whatever the number of rows.
MAX_DISTINCT = 250_000

__all__ = [
    "ALL_MISSING",
    "CADENCES",
    "CategoricalProfile",
    "DEFAULT_BINS",
    "DriftInputError",
    "DriftThresholds",
    "FeatureProfile",
    "INVALID",
    "KS_MAX_AUTO_N",
    "Kind",
    "MAX_DISTINCT",
    "MISSING_IN_WINDOW",
    "MISSING_LABEL",
    "NOT_IN_REFERENCE",
    "NO_ROWS",
    "NumericProfile",
    "OK",
    "PARALLEL_MIN_ROWS",
    "PSI_EPSILON",
    "PerformanceAccumulator",
    "Profile",
    "SCHEMA_VERSION",
    "Window",
    "WindowSplit",
    "categorical_counts",
    "chi2_from_counts",
    "chi2_goodness_of_fit",
    "drift_compare",
    "js_distance",
    "ks_from_counts",
    "array_bytes",
    "array_from_bytes",
    "numeric_counts",
    "performance",
    "profile_build",
    "profile_merge",
    "psi",
    "window_split",
]
