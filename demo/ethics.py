"""Step 2 of the demo: the organisation's approved ethical position and the ethics
answers of several use cases, loaded by ``manage.py seed_demo`` after the portfolio.

The position holds bias and privacy critical. Only use cases the Step 1 rules already
put at the High or Critical tier touch a critical aspect, so the demo's expected levels
and tiers (``finance``, ``enterprise``) do not change: their re-evaluation adds the
rule "Touches an aspect the organisation holds critical" to their reasons. Others touch
only aspects that are not critical (no re-evaluation, no new classification).

The position is proposed by the governance lead and approved by a second governance
lead (four eyes), created here; the approval is recorded as seeded
(``auth_method="seeded"``: no password was typed by a person). Use cases answering
below the position (transparency more than one point under it, or declaring a
prohibited harm) get an open ethics deviation owned by their model-acceptance
Accountable. An open deviation stops moves past QA until that Accountable accepts it
(signed, with a reason and an expiry): the risk officer accepts the transparency
deviations of the three production use cases that have one (``ACCEPTED``), through the
service with the demo password. The agent reply assistant, still an idea, declares
deception, a prohibited harm no one can accept: it shows the block. A pending proposal (a rule's
explanation reworded, by the governance lead) shows four eyes at work: the second
lead can approve it. Idempotent: nothing is written when the organisation already
has a position or a use case already has answers.
"""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.roles import Role
from demo.specs import DEMO_PASSWORD, EMAIL_DOMAIN, Person
from governance.models import EthicsAnswerSet, EthicsDeviation, FrameworkChange, RiskRule
from governance.services import ethics_position_answer, ethics_use_case_answer
from governance.services.ethics_deviations import ethics_deviation_accept
from governance.services.framework_changes import (
    framework_change_approve_seeded,
    risk_rule_propose,
)
from governance.services.framework_content import risk_rule_content
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
    "Next-best-offer recommender": _answers([], financial="indirect", transparency=2),
    # An idea that declares a prohibited harm: replies drafted by the assistant would be
    # sent under an agent's name, without saying so. No one can accept that.
    "Agent reply assistant": _answers([], psychology=["deception"], transparency=3),
}

# The risk officer (each use case's Accountable of model acceptance) accepts these
# deviations, for 180 days: use case name -> (deviation code, reason).
ACCEPTED: dict[str, tuple[str, str]] = {
    "Real-time card fraud detection": (
        "transparency",
        "A payment decision cannot wait for an explanation; investigators see the reason "
        "codes of every block and the card holder confirms or disputes it in the app.",
    ),
    "Store demand forecasting": (
        "transparency",
        "Forecasts steer store staffing plans, not decisions about individuals; planners "
        "see the drivers and override the plan every week.",
    ),
    "Next-best-offer recommender": (
        "transparency",
        "Offers are ranked, never imposed; the app says why an offer is shown, and "
        "marketing reviews the ranking rules every month.",
    ),
}
ACCEPTED_DAYS = 180


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    """Load the demo's position and use-case answers (see the module docstring)."""
    second = _second_lead(note)
    if not EthicsAnswerSet.objects.filter(use_case=None).exists():
        answer_set = ethics_position_answer(
            answers=POSITION,
            by=users["governance.lead"],
            note="Demo: the organisation's ethical position, agreed by the board.",
        )
        change = answer_set.framework_changes.get()
        framework_change_approve_seeded(change=change, by=second, reason="Demo: approved.")
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
    _accept_deviations(note)
    _pending_rule_proposal(users["governance.lead"], note)


def _accept_deviations(note) -> None:
    """The Accountable of model acceptance accepts ``ACCEPTED``, as on the page."""
    until = timezone.localdate() + timedelta(days=ACCEPTED_DAYS)
    for name, (code, reason) in ACCEPTED.items():
        deviation = EthicsDeviation.objects.filter(
            use_case__name=name, code=code, closed_at=None
        ).first()
        if deviation is None or deviation.owner is None:
            continue
        if deviation.acceptances.exists():
            note("ethics deviation acceptance", name, False)
            continue
        ethics_deviation_accept(
            deviation=deviation,
            by=deviation.owner,
            reason=reason,
            expires_on=until,
            password=DEMO_PASSWORD,
        )
        note("ethics deviation acceptance", name, True)


def _pending_rule_proposal(lead: User, note) -> None:
    """One pending four-eyes proposal for the second lead to sign (once)."""
    if FrameworkChange.objects.filter(kind__startswith="risk_rule").exists():
        note("pending rule proposal", "classification rules", False)
        return
    rule = RiskRule.objects.filter(active=True).order_by("order", "id").first()
    if rule is None:
        return
    content = risk_rule_content(rule)
    content["explanation"] = (
        f"{content['explanation'].rstrip('.')}. (Reworded for the 2027 review.)"
    )
    risk_rule_propose(
        content=content,
        by=lead,
        reason="Demo: clearer wording for the annual rules review; awaits a second lead.",
        rule=rule,
    )
    note("pending rule proposal", rule.name, True)


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
