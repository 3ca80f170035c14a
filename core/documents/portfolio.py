"""The sections of the portfolio report for senior management (no Django imports): the
facts ``documents.selectors.portfolio`` gathers as of one day, turned into blocks.
An empty list is said in words (nothing overdue is news too), never left blank."""

from __future__ import annotations

from core.documents.content import Block, Facts, SectionSpec, chart, facts, missing, table, text

PORTFOLIO_REPORT = "portfolio_report"
TITLE = "Portfolio model-risk report"


def _summary(f: Facts) -> list[Block]:
    inventory = f["inventory"]
    prod = dict(inventory["versions_by_environment"]).get("prod", 0)
    return [
        facts(
            [
                ("As of", f["as_of"]),
                ("Use cases in the inventory", inventory["use_cases"]),
                ("Not classified yet", inventory["unclassified"]),
                ("Model versions in production", prod),
                ("Past their periodic review", len(f["reviews_overdue"])),
                ("Open findings", len(f["findings_open"])),
                ("Overdue obligations", len(f["obligations_overdue"])),
                ("Open drift alerts", len(f["drift_alerts"])),
            ]
        )
    ]


def _inventory(f: Facts) -> list[Block]:
    inventory = f["inventory"]
    blocks = [
        table(["Risk tier", "Use cases"], inventory["by_tier"]),
        chart(
            "portfolio_heatmap",
            "Use cases by criticality level and risk tier",
            "Heatmap of the number of use cases by criticality level and risk tier",
        ),
        table(["Environment", "Model versions"], inventory["versions_by_environment"]),
    ]
    if inventory["unclassified"]:
        blocks.append(
            missing(
                f"{inventory['unclassified']} use case(s) have not been classified yet: "
                "their tier is unknown."
            )
        )
    return blocks


def _reviews(f: Facts) -> list[Block]:
    rows = f["reviews_overdue"]
    if not rows:
        return [text("Every model version in production is within its periodic review date.")]
    return [table(["Use case", "Model version", "Review due", "Days overdue", "Past grace"], rows)]


def _findings(f: Facts) -> list[Block]:
    rows = f["findings_open"]
    blocks = [table(["Age", "Low", "Medium", "High", "Critical", "All"], f["findings_by_age"])]
    if rows:
        blocks.append(
            table(
                [
                    "Use case and version",
                    "Finding",
                    "Severity",
                    "Status",
                    "Owner",
                    "Age (days)",
                    "Due",
                    "Overdue",
                ],
                rows,
            )
        )
    else:
        blocks.append(text("No finding is open."))
    return blocks


def _obligations(f: Facts) -> list[Block]:
    rows = f["obligations_overdue"]
    if not rows:
        return [text("No obligation is past its due date.")]
    return [table(["Use case", "Risk tier", "Consideration", "Owner", "Due", "Days late"], rows)]


def _drift(f: Facts) -> list[Block]:
    rows = f["drift_alerts"]
    if not rows:
        return [text("No drift or performance alert is open.")]
    return [
        table(["Use case", "Model version", "Feature", "Kind", "Status", "Opened", "Windows"], rows)
    ]


PORTFOLIO_SECTIONS = {
    s.key: s
    for s in (
        SectionSpec("summary", "Summary", "The portfolio's model risk in figures.", _summary),
        SectionSpec(
            "inventory",
            "Inventory by risk tier and criticality",
            "Use cases by their current classification, and versions by environment.",
            _inventory,
        ),
        SectionSpec(
            "periodic_reviews",
            "Models past their periodic review",
            "Versions in production whose review interval (from the policy) has passed.",
            _reviews,
        ),
        SectionSpec(
            "findings",
            "Open findings by severity and age",
            "Findings neither verified nor closed (open, planned, remediated, or their risk "
            "accepted), raised by validation, bias summaries, monitoring, experiments, "
            "reviews and audits.",
            _findings,
        ),
        SectionSpec(
            "obligations",
            "Overdue obligations",
            "Measures the policy requires whose due date has passed without accepted evidence.",
            _obligations,
        ),
        SectionSpec(
            "drift",
            "Drift alerts",
            "Open and acknowledged monitoring alerts.",
            _drift,
        ),
    )
}
