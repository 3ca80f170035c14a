"""Step 2 of the demo: the organisation's approved ethical position and the ethics
answers of several use cases, loaded by ``manage.py seed_demo`` after the portfolio.

The position holds bias and privacy critical. Only use cases the Step 1 rules already
put at the High or Critical tier touch a critical aspect, so the demo's expected levels
and tiers (``finance``, ``enterprise``) do not change: their re-evaluation adds the
rule "Touches an aspect the organisation holds critical" to their reasons. Others touch
only aspects that are not critical (no re-evaluation, no new classification).

The position is answered by the governance lead and approved by a second governance
lead (four eyes), created here. Idempotent: nothing is written when the organisation
already has a position or a use case already has answers.
"""

from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User

from accounts.roles import Role
from demo.specs import DEMO_PASSWORD, EMAIL_DOMAIN, Person
from governance.models import EthicsAnswerSet
from governance.services import (
    ethics_position_answer,
    ethics_position_approve,
    ethics_use_case_answer,
)
from inventory.models import UseCase

SECOND_LEAD = Person("ethics.lead", "Ethics", "Lead", Role.GOVERNANCE_LEAD, is_staff=True)

POSITION = {
    "aspects": ["equality", "privacy", "human_rights", "employment", "bias"],
    "critical_aspects": ["bias", "privacy"],
    "psychology": ["deception", "manipulation", "exploitation"],
    "financial_stance": "case_by_case",
    "transparency": 4,
    "accountability": "full",
    "accountability_notes": (
        "The business answers for AI-driven decisions as for human ones; customers can "
        "ask for a human review of any automated decision about them."
    ),
}


def _answers(aspects, psychology=(), financial="none", transparency=3, accountability=""):
    answers = {
        "aspects": list(aspects),
        "psychology": list(psychology),
        "financial_impact": financial,
        "transparency": transparency,
    }
    if accountability:
        answers["accountability"] = accountability
    return answers


# use case name -> answers (answered by its technical owner)
USE_CASE_ANSWERS: dict[str, dict] = {
    # High or Critical already: touching bias or privacy adds a reason, not a tier.
    "Retail credit application scoring": _answers(
        ["equality", "privacy", "bias"],
        financial="direct",
        transparency=5,
        accountability="Credit risk owns the scorecard; declined applicants get reasons.",
    ),
    "Real-time card fraud detection": _answers(["privacy"], financial="direct", transparency=2),
    "Motor insurance pricing": _answers(["bias", "privacy", "equality"], financial="direct"),
    "Graduate CV screening": _answers(
        ["employment", "bias", "equality", "human_rights"],
        transparency=4,
        accountability="HR reviews every rejection before it is sent.",
    ),
    "Clinical-trial patient stratification (PHX-204)": _answers(
        ["privacy", "human_rights"], transparency=4
    ),
    # Not critical for the organisation: no effect on the tier.
    "Employee attrition risk": _answers(["employment"], transparency=3),
    "Store demand forecasting": _answers(["employment"], financial="indirect", transparency=2),
    "Next-best-offer recommender": _answers(
        [], psychology=["manipulation"], financial="indirect", transparency=2
    ),
}


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    """Load the demo's position and use-case answers (see the module docstring)."""
    second = _second_lead(note)
    if not EthicsAnswerSet.objects.filter(use_case=None).exists():
        answer_set = ethics_position_answer(
            answers=POSITION,
            by=users["governance.lead"],
            note="Demo: the organisation's ethical position, agreed by the board.",
        )
        ethics_position_approve(answer_set=answer_set, by=second, note="Demo: approved.")
        note("ethical position", "organisation", True)
    else:
        note("ethical position", "organisation", False)
    for name, answers in USE_CASE_ANSWERS.items():
        use_case = UseCase.objects.get(name=name)
        if use_case.ethics_answer_sets.exists():
            note("ethics answer set", name, False)
            continue
        ethics_use_case_answer(
            use_case=use_case,
            answers=answers,
            by=use_case.technical_owner,
            note="Demo: answered by the technical owner.",
        )
        note("ethics answer set", name, True)


def _second_lead(note) -> User:
    person = SECOND_LEAD
    user, created = User.objects.get_or_create(
        username=person.username,
        defaults={
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": f"{person.username}@{EMAIL_DOMAIN}",
            "is_staff": person.is_staff,
        },
    )
    if created:
        user.password = make_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=person.role))
    note("second governance lead", person.username, created)
    return user
