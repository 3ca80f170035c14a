"""Step 3 of the demo: people named for the RACI roles of each use case, loaded by
``manage.py seed_demo`` after the portfolio.

Each use case follows the organisation's template matrix. Its business owner is the
business stakeholder, its team the business analysts and data scientists, its technical
owner runs data ops, the model approver runs production (deployments and monitoring),
the risk officer is risk / audit, the governance lead the architect, and the model
validator (in no team) is named for Validation. The two use
cases still at the idea stage have nobody named yet, so their matrices are incomplete
(as the home page shows). Idempotent: a use case that already has people named is left
alone.
"""

from collections.abc import Callable

from django.contrib.auth.models import User

from governance.models import RaciRole
from governance.services import raci_assign
from inventory.choices import LifecycleStatus
from inventory.models import UseCase


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    lead = users["governance.lead"]
    roles = {r.code: r for r in RaciRole.objects.all()}
    for use_case in UseCase.objects.select_related(
        "team", "business_owner", "technical_owner"
    ).order_by("name"):
        if use_case.status == LifecycleStatus.IDEA:
            continue
        if use_case.raci_assignments.exists():
            note("RACI", use_case.name, False)
            continue
        named = [
            ("business-stakeholders", {"user": use_case.business_owner}),
            ("business-analysts", {"team": use_case.team}),
            ("data-scientists", {"team": use_case.team}),
            ("risk-audit", {"user": users["risk.officer"]}),
            ("data-ops", {"user": use_case.technical_owner}),
            ("production", {"user": users["approver"]}),
            ("architect", {"user": lead}),
            ("validation", {"user": users["model.validator"]}),
        ]
        for role_code, who in named:
            raci_assign(use_case=use_case, role=roles[role_code], by=lead, **who)
        note("RACI", use_case.name, True)
