"""Cross-checks of Step 1 answers against what the data says (issue 12, item 4), and
the EU AI Act screen. Pure: plain values in, plain values out.

- A use case whose datasets hold PII columns cannot declare "uses PII: no".
- An Article 5 practice (prohibited AI practices) blocks the use case outright.
- An Annex III area makes the system high-risk: the EU AI Act's regulation is implied
  (the service adds it to the use case, so its requirements and obligations follow).
- The sector and purpose imply their regulations (DOMAIN.md, Step 1: "sector:
  finance/MRM, pharma/GxP"): a bank's credit, risk or capital model is under SR 11-7
  and the PRA's SS1/23 (its stress-test models also under SS3/18); pharmaceutical and
  clinical records under GxP and FDA 21 CFR Part 11; solely automated decisions about
  individuals under GDPR Art. 22. A declared list that omits one is completed, with the
  reason (``SECTOR_REGULATIONS``).

Contradictions block (the service answers 400 with these sentences); implied
regulations raise (the service adds them and says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROHIBITED_QUESTION = "eu_ai_act_prohibited"
ANNEX_III_QUESTION = "eu_ai_act_annex_iii"
EU_AI_ACT = "eu-ai-act"
USES_PII_QUESTION = "uses_pii"
SECTOR_QUESTION = "sector_purpose"

# option of the sector and purpose question -> (regulation codes it implies, why)
SECTOR_REGULATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "bank_credit": (
        ("sr-11-7", "pra-ss1-23"),
        "a bank's credit, risk or capital model is under model risk management (SR 11-7, "
        "PRA SS1/23)",
    ),
    "bank_stress_test": (
        ("sr-11-7", "pra-ss1-23", "pra-ss3-18"),
        "a bank's stress-test model is under model risk management (SR 11-7, PRA SS1/23) "
        "and the PRA's stress-test principles (SS3/18)",
    ),
    "pharma_clinical": (
        ("gxp", "fda-21-cfr-part-11"),
        "pharmaceutical and clinical records are under GxP and FDA 21 CFR Part 11 "
        "(electronic records and signatures)",
    ),
    "automated_individual_decisions": (
        ("gdpr-art-22",),
        "decisions about individuals made by the model alone are automated individual "
        "decision-making (GDPR Art. 22)",
    ),
}


@dataclass(frozen=True)
class Contradiction:
    code: str  # a stable code, also the key of the answer it is about
    question: str
    message: str


def pii_contradiction(*, uses_pii: bool, pii_columns: dict[str, list[str]]) -> Contradiction | None:
    """ "uses PII: no" while a dataset of the use case flags PII columns."""
    flagged = {name: cols for name, cols in pii_columns.items() if cols}
    if uses_pii or not flagged:
        return None
    where = "; ".join(
        f"{name}: {', '.join(sorted(cols))}" for name, cols in sorted(flagged.items())
    )
    return Contradiction(
        "pii-undeclared",
        USES_PII_QUESTION,
        f"The use case says it uses no personal data, but its datasets have PII columns "
        f"({where}). Set the use case's 'uses PII' flag, or correct the columns' PII flags.",
    )


def prohibited_contradiction(
    answers: dict[str, Any], labels: dict[str, str]
) -> Contradiction | None:
    """An Article 5 practice ticked: nothing may classify or move this use case."""
    ticked = answers.get(PROHIBITED_QUESTION) or []
    if not ticked:
        return None
    names = ", ".join(labels.get(code, code) for code in ticked)
    return Contradiction(
        "prohibited-practice",
        PROHIBITED_QUESTION,
        f"Article 5 of the EU AI Act prohibits this practice ({names}); the use case "
        "cannot be classified or go further.",
    )


def contradictions(
    *,
    answers: dict[str, Any],
    uses_pii: bool,
    pii_columns: dict[str, list[str]],
    prohibited_labels: dict[str, str] | None = None,
) -> list[Contradiction]:
    """Every contradiction between the answers and the data, in a stable order."""
    found = [
        pii_contradiction(uses_pii=uses_pii, pii_columns=pii_columns),
        prohibited_contradiction(answers, prohibited_labels or {}),
    ]
    return [c for c in found if c is not None]


def implied_regulations(
    answers: dict[str, Any],
    declared: list[str],
    labels: dict[str, str] | None = None,
    sector_labels: dict[str, str] | None = None,
) -> dict[str, str]:
    """Regulations the answers imply and the use case does not declare: code -> why.

    ``labels``: the Annex III options' labels; ``sector_labels``: the sector and purpose
    options' labels (for the sentences)."""
    implied: dict[str, str] = {}
    areas = answers.get(ANNEX_III_QUESTION) or []
    if areas and EU_AI_ACT not in declared:
        names = ", ".join((labels or {}).get(code, code) for code in areas)
        implied[EU_AI_ACT] = (
            f"Annex III high-risk area ({names}): the EU AI Act's high-risk requirements apply."
        )
    ticked = answers.get(SECTOR_QUESTION) or []
    for option in ticked if isinstance(ticked, list) else []:
        codes, why = SECTOR_REGULATIONS.get(option, ((), ""))
        for code in codes:
            if code in declared or code in implied:
                continue
            name = (sector_labels or {}).get(option, option)
            implied[code] = f"Sector and purpose “{name}”: {why}."
    return implied
