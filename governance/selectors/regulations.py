"""Reads of the regulations' requirements as they apply to one use case (issue 12):
per requirement, whether it is met and by what evidence (its obligations' state)."""

from __future__ import annotations

from django.db.models import Prefetch

from core import regulation_rules
from governance.models import MeasureLevel, Requirement, RequirementMinimum
from governance.selectors.obligations import obligation_list


def requirements_for_use_case(*, use_case) -> list[dict]:
    """Every requirement of the use case's regulations, in catalogue order, each with
    its state (``core.regulation_rules``) and, per consideration it needs, the minimum
    level and the obligation that is its evidence (status, level, evidence hash or
    link, owner, due date)."""
    obligations = {o.consideration.code: o for o in obligation_list(use_case=use_case)}
    requirements = (
        Requirement.objects.filter(regulation__use_cases=use_case)
        .select_related("regulation")
        .prefetch_related(
            Prefetch(
                "minimums",
                queryset=RequirementMinimum.objects.select_related("consideration").order_by(
                    "consideration__order"
                ),
            )
        )
        .order_by("regulation__name", "order", "id")
    )
    rows = []
    for requirement in requirements:
        minimums = {m.consideration.code: m.min_level for m in requirement.minimums.all()}
        names = {m.consideration.code: m.consideration.name for m in requirement.minimums.all()}
        state, parts = regulation_rules.requirement_state(
            minimums,
            {code: {"level": o.level, "status": o.status} for code, o in obligations.items()},
        )
        rows.append(
            {
                "regulation": requirement.regulation,
                "requirement": requirement,
                "state": state,
                "state_label": regulation_rules.STATE_LABELS[state],
                "met": state in (regulation_rules.MET, regulation_rules.WAIVED),
                "parts": [
                    {
                        "consideration": part.consideration,
                        "consideration_name": names[part.consideration],
                        "min_level": part.min_level,
                        "min_level_label": MeasureLevel(part.min_level).label,
                        "state": part.state,
                        "state_label": regulation_rules.STATE_LABELS[part.state],
                        "obligation": obligations.get(part.consideration),
                    }
                    for part in parts
                ],
            }
        )
    return rows
