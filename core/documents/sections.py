"""The sections of the three governance documents and how each is filled from the
records' facts (no Django imports): the EU AI Act Annex IV technical documentation,
the model validation report (SR 11-7 / PRA SS1/23) and the model card (Mitchell et
al.). Each builder returns blocks (``core.documents.content``); what the records do
not provide is a ``missing`` block in place, never a silent gap.

The facts are the plain data ``documents.selectors.facts`` gathers for one version:
``use_case``, ``classification``, ``version``, ``dataset``, ``versions``,
``validation``, ``findings``, ``bias``, ``monitoring``, ``experiments``,
``obligations``, ``requests``, ``signatures``, ``regulations``, ``ethics``, ``raci``,
``periodic_reviews``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents import portfolio
from core.documents.content import Block, Facts, SectionSpec, facts, missing, table, text
from core.documents.shared import (
    bias_blocks,
    classification_blocks,
    dataset_blocks,
    ethics_blocks,
    experiments_blocks,
    findings_blocks,
    get_fact,
    identity_blocks,
    metrics_blocks,
    monitoring_blocks,
    obligations_blocks,
    purpose_blocks,
    signatures_blocks,
)

ANNEX_IV = "annex_iv"
VALIDATION_REPORT = "validation_report"
MODEL_CARD = "model_card"
TITLES = {
    ANNEX_IV: "Technical documentation (EU AI Act, Annex IV)",
    VALIDATION_REPORT: "Model validation report",
    MODEL_CARD: "Model card",
    portfolio.PORTFOLIO_REPORT: portfolio.TITLE,
}


# --- Annex IV ---------------------------------------------------------------------------


def _annex_general(f: Facts) -> list[Block]:
    return identity_blocks(f) + purpose_blocks(f)


def _annex_development(f: Facts) -> list[Block]:
    return dataset_blocks(f) + [text("Validation:")] + _validation_summary(f)


def _validation_summary(f: Facts) -> list[Block]:
    v = get_fact(f, "validation")
    if v is None:
        return [missing("No independent validation has been recorded for this version.")]
    return [
        facts(
            [
                ("Validation", f"#{v['id']} by {v['validator']}"),
                ("Conclusion", v["conclusion"]),
                ("Signed", v["signed_at"] or "not signed yet"),
            ]
        )
    ]


def _annex_monitoring(f: Facts) -> list[Block]:
    raci = f.get("raci") or []
    oversight = (
        [table(["Task", "Accountable", "Responsible"], raci)]
        if raci
        else [missing("The RACI names nobody for the use case's tasks (human oversight).")]
    )
    return monitoring_blocks(f) + [text("Human oversight (RACI):")] + oversight


def _annex_performance(f: Facts) -> list[Block]:
    return metrics_blocks(f) + bias_blocks(f)


def _annex_risk(f: Facts) -> list[Block]:
    return classification_blocks(f) + ethics_blocks(f) + [text("Findings:")] + findings_blocks(f)


def _annex_lifecycle(f: Facts) -> list[Block]:
    versions = f.get("versions") or []
    blocks = [table(["Version", "Environment", "Registered", "Artifact SHA-256"], versions)]
    requests = f.get("requests") or []
    if requests:
        blocks.append(table(["Request", "From", "To", "Status", "Asked", "Decided"], requests))
    else:
        blocks.append(text("No promotion has been requested for this version."))
    return blocks


def _annex_standards(f: Facts) -> list[Block]:
    rows = f.get("regulations") or []
    applied = (
        [table(["Regulation", "Requirement", "Measure it sets"], rows)]
        if rows
        else [missing("No regulation or standard is recorded as applying to the use case.")]
    )
    return [*applied, text("Obligations under the policy:"), *obligations_blocks(f)]


def _annex_declaration(f: Facts) -> list[Block]:
    return [
        text(
            "The signatures below bind this version's artifact, evidence and obligations "
            "(each manifest's SHA-256)."
        )
    ] + signatures_blocks(f, ("approved", "reviewed", "validated"))


def _annex_post_market(f: Facts) -> list[Block]:
    reviews = f.get("periodic_reviews") or []
    blocks = (
        [table(["Periodic review", "Reviewed", "Outcome", "Next due"], reviews)]
        if reviews
        else [missing("No periodic review has been recorded yet.")]
    )
    return monitoring_blocks(f)[:1] + blocks + experiments_blocks(f)


ANNEX_IV_SECTIONS = {
    s.key: s
    for s in (
        SectionSpec(
            "general",
            "1. General description and intended purpose",
            "Annex IV(1): the system's intended purpose, who provides it, its version and "
            "how it relates to other systems.",
            _annex_general,
        ),
        SectionSpec(
            "development",
            "2. Elements of the system and its development process",
            "Annex IV(2): design choices, the data (provenance, scope, characteristics, "
            "labelling, cleaning), validation and testing procedures.",
            _annex_development,
        ),
        SectionSpec(
            "monitoring",
            "3. Monitoring, functioning and control",
            "Annex IV(3): capabilities and limitations in performance, human oversight "
            "measures, input data specifications.",
            _annex_monitoring,
        ),
        SectionSpec(
            "performance",
            "4. Performance metrics",
            "Annex IV(4): the appropriateness of the performance metrics, including for "
            "groups of persons.",
            _annex_performance,
        ),
        SectionSpec(
            "risk",
            "5. Risk management system",
            "Annex IV(5) and Article 9: risks identified, estimated and addressed.",
            _annex_risk,
        ),
        SectionSpec(
            "lifecycle",
            "6. Changes through the lifecycle",
            "Annex IV(6): relevant changes made by the provider through the lifecycle.",
            _annex_lifecycle,
        ),
        SectionSpec(
            "standards",
            "7. Standards and specifications applied",
            "Annex IV(7): harmonised standards applied, or the solutions adopted to meet the "
            "requirements.",
            _annex_standards,
        ),
        SectionSpec(
            "declaration",
            "8. Declaration and sign-offs",
            "Annex IV(8): a copy of the declaration of conformity; here, the signed "
            "approvals of the version.",
            _annex_declaration,
        ),
        SectionSpec(
            "post_market",
            "9. Post-market monitoring plan",
            "Annex IV(9) and Article 72: how performance is evaluated in production.",
            _annex_post_market,
        ),
    )
}


# --- Validation report ------------------------------------------------------------------


def _validation_text(field: str, absent: str):
    def build(f: Facts) -> list[Block]:
        v = get_fact(f, "validation")
        if v is None:
            return [missing("No independent validation has been recorded for this version.")]
        return [text(v[field])] if v.get(field) else [missing(absent)]

    return build


def _val_scope(f: Facts) -> list[Block]:
    return identity_blocks(f) + _validation_text("scope", "The validation records no scope.")(f)


def _val_data(f: Facts) -> list[Block]:
    own = _validation_text("data", "The validation says nothing of the data.")
    return own(f) + dataset_blocks(f)


def _val_outcomes(f: Facts) -> list[Block]:
    own = _validation_text("outcomes_analysis", "The validation records no outcomes analysis.")
    return own(f) + metrics_blocks(f) + bias_blocks(f) + experiments_blocks(f)


def _val_conclusion(f: Facts) -> list[Block]:
    v = get_fact(f, "validation")
    if v is None:
        return [missing("No independent validation has been recorded for this version.")]
    blocks = [facts([("Conclusion", v["conclusion"]), ("Validator", v["validator"])])]
    signature = v.get("signature")
    if signature:
        blocks.append(_manifestation(signature, "The validation record"))
    else:
        blocks.append(missing("The validation has not been signed."))
    return blocks


def _manifestation(signature: Mapping[str, Any], what: str) -> Block:
    """21 CFR 11.50: the printed name, the date and time, and the meaning."""
    return facts(
        [
            ("Signed by", signature["printed_name"]),
            ("Signed at (UTC)", signature["signed_at"]),
            ("Meaning", signature["meaning_display"]),
            (f"{what}'s signature hash", signature["manifest_hash"]),
        ]
    )


VALIDATION_SECTIONS = {
    s.key: s
    for s in (
        SectionSpec(
            "scope",
            "1. Scope",
            "SR 11-7 / SS1/23: what was validated and what was not.",
            _val_scope,
        ),
        SectionSpec(
            "soundness",
            "2. Conceptual soundness",
            "The design, theory and logic of the model, and the choices made.",
            _validation_text("conceptual_soundness", "The validation records no assessment."),
        ),
        SectionSpec(
            "data",
            "3. Data",
            "Relevance, quality, representativeness, leakage.",
            _val_data,
        ),
        SectionSpec(
            "outcomes",
            "4. Outcomes analysis",
            "Performance, bias and experiments: does the model do what it should?",
            _val_outcomes,
        ),
        SectionSpec(
            "limitations",
            "5. Limitations",
            "Known weaknesses and where the model must not be relied on.",
            _validation_text("limitations", "The validation records no limitations."),
        ),
        SectionSpec(
            "findings",
            "6. Findings and their status",
            "Every finding raised on the version, open or closed.",
            findings_blocks,
        ),
        SectionSpec(
            "conclusion",
            "7. Conclusion",
            "The validator's conclusion and signature.",
            _val_conclusion,
        ),
    )
}


# --- Model card -------------------------------------------------------------------------


def _card_factors(f: Facts) -> list[Block]:
    bias = get_fact(f, "bias")
    blocks = []
    if bias:
        blocks.append(facts([("Groups evaluated", [a["name"] for a in bias["attributes"]])]))
    else:
        blocks.append(missing("No evaluation by group (no bias summary)."))
    data = get_fact(f, "dataset")
    if data:
        blocks.append(facts([("Personal-data columns", [c[0] for c in data["columns"] if c[1]])]))
    return blocks


def _card_metrics(f: Facts) -> list[Block]:
    bias = get_fact(f, "bias")
    thresholds = [facts([("Fairness thresholds", bias["thresholds"])])] if bias else []
    return metrics_blocks(f) + thresholds


def _card_evaluation(f: Facts) -> list[Block]:
    bias = get_fact(f, "bias")
    if bias is None:
        return [missing("No evaluation dataset is attached (scored data).")]
    return [
        facts(
            [
                ("Evaluation data", bias["dataset"]),
                ("Rows", bias["rows"]),
                ("SHA-256", bias["sha256"]),
            ]
        )
    ]


def _card_caveats(f: Facts) -> list[Block]:
    v = get_fact(f, "validation")
    blocks = (
        [text(v["limitations"])]
        if v and v.get("limitations")
        else [missing("No limitations are recorded (validation).")]
    )
    open_findings = [r for r in f.get("findings") or [] if r.get("open", True)]
    if open_findings:
        blocks.append(
            table(
                ["Open finding", "Severity", "Source", "Status"],
                [
                    [r["title"], r.get("severity", ""), r["source"], r["status"]]
                    for r in open_findings
                ],
            )
        )
    return blocks


MODEL_CARD_SECTIONS = {
    s.key: s
    for s in (
        SectionSpec("details", "Model details", "Who made it, when, what it is.", identity_blocks),
        SectionSpec(
            "intended_use", "Intended use", "Primary uses and out-of-scope uses.", purpose_blocks
        ),
        SectionSpec(
            "factors", "Factors", "Groups and conditions the evaluation covers.", _card_factors
        ),
        SectionSpec("metrics", "Metrics", "Performance measures and thresholds.", _card_metrics),
        SectionSpec(
            "evaluation_data", "Evaluation data", "What it was evaluated on.", _card_evaluation
        ),
        SectionSpec("training_data", "Training data", "What it was trained on.", dataset_blocks),
        SectionSpec(
            "quantitative",
            "Quantitative analyses",
            "Results by group, with intervals.",
            bias_blocks,
        ),
        SectionSpec(
            "ethical",
            "Ethical considerations",
            "The classification's reasons and the ethical questionnaire.",
            lambda f: classification_blocks(f) + ethics_blocks(f),
        ),
        SectionSpec("caveats", "Caveats and recommendations", "Known limitations.", _card_caveats),
    )
}


SECTIONS = {
    ANNEX_IV: ANNEX_IV_SECTIONS,
    VALIDATION_REPORT: VALIDATION_SECTIONS,
    MODEL_CARD: MODEL_CARD_SECTIONS,
    portfolio.PORTFOLIO_REPORT: portfolio.PORTFOLIO_SECTIONS,
}


def default_template(kind: str) -> list[dict[str, Any]]:
    """The built-in template of a kind: every section, in order, with its guidance."""
    return [
        {"key": s.key, "title": s.title, "guidance": s.guidance, "included": True}
        for s in SECTIONS[kind].values()
    ]
