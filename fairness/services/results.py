"""What a finished summary stores and opens: the result computed from the merged
counts and the summary's options (pure), and one finding per attribute and metric that
breaches the policy's thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import fairness
from fairness.models import BiasSummary
from inventory.models import ModelVersion
from reviews.models import Finding
from reviews.services.findings import finding_open


def _flip_predictions(counts: fairness.GroupCounts) -> fairness.GroupCounts:
    """The same counts with prediction 0 and 1 swapped (TN<->FP, FN<->TP)."""
    flipped = counts.canonical()
    swap = [1, 0, 3, 2]
    flipped.n = flipped.n[:, swap]
    if flipped.weighted:
        flipped.w, flipped.w2 = flipped.w[:, swap], flipped.w2[:, swap]
    return flipped


def summarise_counts(counts: fairness.GroupCounts, options: Mapping[str, Any]) -> dict:
    """The stored result for counts and a summary's options. Pure.

    With ``favourable_prediction`` 0 (prediction 1 is the adverse decision, e.g. "higher
    risk"), disparate impact and the four-fifths rule compare the rates of the
    favourable prediction (0) with the reference group's, as the rule intends; every
    other rate keeps the file's meaning (selection rate = rate of prediction 1).
    """
    reference = options["reference"]
    mgs = options["min_group_size"]
    thresholds = dict(options["thresholds"])
    if options.get("favourable_prediction", 1) == 1:
        result = fairness.summarise(
            counts, reference=reference, min_group_size=mgs, thresholds=thresholds
        )
        result["favourable_prediction"] = 1
        return result
    di = {k: v for k, v in thresholds.items() if k == "disparate_impact_min"}
    rest = {k: v for k, v in thresholds.items() if k != "disparate_impact_min"}
    fav = fairness.summarise(
        _flip_predictions(counts), reference=reference, min_group_size=mgs, thresholds=di
    )
    # the group with the best favourable rate (or the named one) is the reference of both
    refs: dict[str, str] = {}
    for block in fav["by_attribute"]:
        wanted = (
            reference.get(block["name"], "best") if isinstance(reference, Mapping) else reference
        )
        refs[block["name"]] = block["reference"]["group"] or wanted
    result = fairness.summarise(counts, reference=refs, min_group_size=mgs, thresholds=rest)
    for block, fblock in zip(result["by_attribute"], fav["by_attribute"], strict=True):
        block["reference"] = fblock["reference"]
        for row, frow in zip(block["against_reference"], fblock["against_reference"], strict=True):
            row["favourable_rate"] = frow["selection_rate"]
            row["disparate_impact"] = frow["disparate_impact"]
            row["four_fifths_rule_breached"] = frow["four_fifths_rule_breached"]
        for breach in fblock["breaches"]:
            breach["message"] = (
                breach["message"].rstrip(".")
                + " (rates of the favourable prediction, 0, are compared)."
            )
        block["breaches"] = block["breaches"] + fblock["breaches"]
    result["reference"] = dict(reference) if isinstance(reference, Mapping) else reference
    result["thresholds"] = {**result["thresholds"], **fav["thresholds"]}
    result["breaches"] = [b for block in result["by_attribute"] for b in block["breaches"]]
    result["favourable_prediction"] = 0
    result["notes"].append(
        "Prediction 1 is the adverse decision here: disparate impact and the four-fifths "
        "rule compare each group's rate of prediction 0 (the favourable one) with the "
        "reference group's; the other rates keep the file's meaning."
    )
    return result


def _open_findings(summary: BiasSummary, result: dict, version: ModelVersion) -> int:
    by_key: dict[str, list[dict]] = {}
    for breach in result["breaches"]:
        key = f"bias:{summary.pk}:{breach['attribute']}:{breach['metric']}"
        by_key.setdefault(key, []).append(breach)
    opened = 0
    for key, breaches in by_key.items():
        worst = (
            min(breaches, key=lambda b: b["value"])
            if breaches[0]["metric"] == "disparate_impact"
            else max(breaches, key=lambda b: b["value"])
        )
        title = worst["message"]
        if len(breaches) > 1:
            title += f" ({len(breaches) - 1} more group(s) breach it too.)"
        _, created = finding_open(
            version=version,
            by=None,
            title=title[:300],
            source=Finding.Source.BIAS,
            severity=Finding.Severity.HIGH,
            detail={
                "summary": summary.pk,
                "dataset": summary.dataset_id,
                "dataset_sha256": summary.dataset.sha256,
                "breaches": breaches,
            },
            key=key[:200],
        )
        opened += created
    return opened
