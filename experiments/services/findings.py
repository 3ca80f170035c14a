"""A worse or inconclusive result is filed against the challenger (issue 14): a valid
result whose pre-registered decision does not say the challenger is better (or
non-inferior, for a non-inferiority design) opens a finding on the challenger version,
which blocks its promotion until it is resolved or waived, instead of being evidence
for it."""

from __future__ import annotations

from experiments import selectors as sel
from experiments.models import Experiment
from reviews.models import Finding
from reviews.services.findings import finding_open


def experiment_outcome_finding(experiment: Experiment) -> Finding | None:
    """Open (once: keyed by the experiment) the finding of a valid or overridden result
    that does not support the challenger's promotion; None when it supports it or is
    not valid (an invalid result concludes nothing). Runs in the caller's transaction."""
    if not sel.result_signable(experiment) or not sel.promotion_support_refusal(experiment):
        return None
    result = experiment.result or {}
    finding, _ = finding_open(
        version=experiment.challenger,
        by=None,
        title=f"Experiment #{experiment.pk} ({experiment.name}): {result.get('verdict', '')}; "
        "its result does not support promoting this version."[:300],
        source=Finding.Source.EXPERIMENT,
        severity=Finding.Severity.MEDIUM,
        detail={
            "experiment": experiment.pk,
            "decision": result.get("decision", ""),
            "result_sha256": experiment.result_sha256,
            "champion": experiment.champion_id,
        },
        key=f"experiment:{experiment.pk}",
    )
    return finding
