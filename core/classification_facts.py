"""Cross-checks of Step 1 answers against what the data says (issue 12, item 4), and
the EU AI Act screen. Pure: plain values in, plain values out.

- A use case whose datasets hold PII columns cannot declare "uses PII: no".
- An Article 5 practice (prohibited AI practices) blocks the use case outright.
- An Annex III area makes the system high-risk: the EU AI Act's regulation is implied
  (the service adds it to the use case, so its requirements and obligations follow).

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
    answers: dict[str, Any], declared: list[str], labels: dict[str, str] | None = None
) -> dict[str, str]:
    """Regulations the answers imply and the use case does not declare: code -> why."""
    implied: dict[str, str] = {}
    areas = answers.get(ANNEX_III_QUESTION) or []
    if areas and EU_AI_ACT not in declared:
        names = ", ".join((labels or {}).get(code, code) for code in areas)
        implied[EU_AI_ACT] = (
            f"Annex III high-risk area ({names}): the EU AI Act's high-risk requirements apply."
        )
    return implied
