"""Statistics of pre-registered A/B tests and champion/challenger shadow scoring (issue #7).

Pure: numpy and scipy only, no Django. The book's Table 7-1 is the specification: fix the
protocol before (metric, population and split, alpha, power, minimum effect, hence the
sample size and duration), do not stop early, check the data and then run the registered
test. Every result is a frozen dataclass whose ``to_dict()`` is JSON-safe (non-finite
floats become ``None``).

Conventions, used everywhere below:

- Arms are ``"champion"`` (the version in production) and ``"challenger"``. Effects are
  always *challenger minus champion*. ``higher_is_better`` says which sign is good.
- A split is in **percent**: ``{"champion": 50, "challenger": 50}``, summing to 100.
- A protocol's ``alternative`` is ``"two-sided"`` or ``"one-sided"``; one-sided means the
  registered H1 is "the challenger is better". The low-level tests take statsmodels'
  ``"two-sided" | "larger" | "smaller"`` (about challenger minus champion) instead.
- Decisions: reject when ``p_value <= alpha``; the direction (better / worse) comes from
  the sign of the effect and ``higher_is_better``. A one-sided test never concludes
  "worse".
- Confidence intervals are dual to the registered alternative: two-sided at 1 - alpha,
  or a one-sided 1 - alpha bound (the other end infinite, ``None`` in JSON).

Sample sizes (see ``sample_size``): unpaired designs use statsmodels' ``NormalIndPower``
equation (Cohen's h for proportions, d = difference / sd for means), solved to machine
precision rather than statsmodels' root-finder tolerance (xtol 1e-5). Paired means use
the noncentral-t power of the one-sample t-test on the differences (statsmodels'
``TTestPower``), because the registered analysis is a paired t-test; paired binary
outcomes use Connor's (1987) normal-approximation formula for McNemar's test.

Group-sequential designs use Lan-DeMets alpha spending. With a two-sided alpha each side
spends alpha/2 through the one-sided spending function (gsDesign's and ldbounds'
convention, which gives the published 4.877, 3.357, 2.680, 2.290, 2.031 for five equal
looks); the boundaries come from the Armitage-McPherson-Rowe recursion integrated with
Simpson's rule on a fine grid.

The code is split by sub-domain: ``base`` (names, decisions, errors, JSON form),
``protocol`` (the protocol and its validation), ``sizing`` (power and sample size),
``summaries`` (mergeable sufficient statistics), ``significance`` (the registered tests),
``quality`` (SRM, unit and guardrail checks), ``sequential`` (group-sequential
boundaries), ``assignment`` (hashing units to arms) and ``planning`` (a draft's protocol
input checked and sized, with field errors). Everything is re-exported here,
so ``from core import experiment_stats as st; st.sample_size(...)`` is the way to use it.
"""

from __future__ import annotations

from core.experiment_stats.assignment import assign_arm, assignment_point
from core.experiment_stats.base import (
    ALTERNATIVES,
    ARMS,
    CONTINUE,
    DEFAULT_SRM_ALPHA,
    DESIGNS,
    METRIC_KINDS,
    NO_DIFFERENCE,
    NON_INFERIOR,
    NOT_NON_INFERIOR,
    REJECT_BETTER,
    REJECT_WORSE,
    SPENDING_FUNCTIONS,
    SUPPORTS_PROMOTION,
    TEST_ALTERNATIVES,
    ExperimentDataError,
    ProtocolError,
)
from core.experiment_stats.base import _jsonable as _jsonable
from core.experiment_stats.noninferiority import non_inferiority_test
from core.experiment_stats.planning import (
    MAX_PLANNED_DAYS,
    MAX_PLANNED_UNITS,
    PROTOCOL_INPUT_FIELDS,
    Plan,
    input_fields,
    plan_protocol,
)
from core.experiment_stats.protocol import Guardrail, Protocol, validate_protocol, validate_split
from core.experiment_stats.quality import (
    DataQualityReport,
    GuardrailResult,
    SrmResult,
    UnitCheck,
    data_quality,
    guardrail_check,
    sample_ratio_mismatch,
    unit_check,
)
from core.experiment_stats.sequential import (
    SequentialDesign,
    SequentialResult,
    sequential_boundaries,
    sequential_design,
    sequential_exit_probabilities,
    sequential_inflation_factor,
    sequential_test,
    spending_function,
)
from core.experiment_stats.significance import (
    TestResult,
    decide,
    equivalent_z,
    mcnemar_test,
    paired_ttest,
    paired_ttest_from_arrays,
    primary_test,
    two_proportion_z,
    two_proportion_ztest,
    welch_ttest,
    welch_ttest_from_arrays,
)
from core.experiment_stats.sizing import (
    SampleSize,
    cohens_h,
    mcnemar_power,
    mcnemar_required_pairs,
    mcnemar_sample_size,
    normal_power,
    sample_size,
    solve_normal_nobs1,
    solve_ttest_nobs,
    ttest_power,
)
from core.experiment_stats.summaries import BinomialCounts, MeanSummary, PairedBinaryCounts

__all__ = [
    "ALTERNATIVES",
    "ARMS",
    "BinomialCounts",
    "CONTINUE",
    "DEFAULT_SRM_ALPHA",
    "DESIGNS",
    "DataQualityReport",
    "ExperimentDataError",
    "Guardrail",
    "GuardrailResult",
    "MAX_PLANNED_DAYS",
    "MAX_PLANNED_UNITS",
    "METRIC_KINDS",
    "MeanSummary",
    "NO_DIFFERENCE",
    "NON_INFERIOR",
    "NOT_NON_INFERIOR",
    "PROTOCOL_INPUT_FIELDS",
    "PairedBinaryCounts",
    "Plan",
    "Protocol",
    "ProtocolError",
    "REJECT_BETTER",
    "REJECT_WORSE",
    "SPENDING_FUNCTIONS",
    "SUPPORTS_PROMOTION",
    "SampleSize",
    "SequentialDesign",
    "SequentialResult",
    "SrmResult",
    "TEST_ALTERNATIVES",
    "TestResult",
    "UnitCheck",
    "assign_arm",
    "assignment_point",
    "cohens_h",
    "data_quality",
    "decide",
    "equivalent_z",
    "guardrail_check",
    "input_fields",
    "mcnemar_power",
    "mcnemar_required_pairs",
    "mcnemar_sample_size",
    "mcnemar_test",
    "non_inferiority_test",
    "normal_power",
    "paired_ttest",
    "paired_ttest_from_arrays",
    "plan_protocol",
    "primary_test",
    "sample_ratio_mismatch",
    "sample_size",
    "sequential_boundaries",
    "sequential_design",
    "sequential_exit_probabilities",
    "sequential_inflation_factor",
    "sequential_test",
    "solve_normal_nobs1",
    "solve_ttest_nobs",
    "spending_function",
    "ttest_power",
    "two_proportion_z",
    "two_proportion_ztest",
    "unit_check",
    "validate_protocol",
    "validate_split",
    "welch_ttest",
    "welch_ttest_from_arrays",
]
