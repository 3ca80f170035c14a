"""Reads of Step 7 (issue 16): what each person must acknowledge or learn, whether a
lapse stops them from signing, and completion by role and team (a KPI).

Constant queries whatever the number of people: the people of some roles, their teams
and what they did are each read in one query and combined in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.models import RoleGrant
from accounts.permissions import AnyUser, has_role, user_roles
from accounts.roles import SECOND_LINE, Role
from core import engagement_rules as er
from core.memo import memoized
from engagement.models import (
    Attestation,
    AttestationCampaign,
    TrainingCompletion,
    TrainingModule,
)
from governance.selectors.policy import policy_engagement

# Who sees everyone's completion (names of who has not acknowledged): the second line
# and auditors. Everyone sees their own.
OVERSEERS: tuple[str, ...] = (*SECOND_LINE, Role.AUDITOR)
NO_TEAM = "No team"


def may_oversee(user: AnyUser) -> bool:
    return has_role(user, *OVERSEERS)


def today() -> date:
    return timezone.localdate()


# --- campaigns -----------------------------------------------------------------------------


def campaign_list() -> QuerySet[AttestationCampaign]:
    return AttestationCampaign.objects.select_related(
        "policy_version__policy", "ethics_approval", "started_by"
    )


@memoized
def campaigns_current() -> list[AttestationCampaign]:
    """The campaigns that count: the latest of each policy, and the latest of the
    ethical position; an earlier one is superseded."""
    current: list[AttestationCampaign] = []
    seen: set = set()
    for campaign in campaign_list().order_by("-started_at", "-id"):
        key = (
            campaign.subject,
            campaign.policy_version.policy_id if campaign.policy_version else 0,
        )
        if key not in seen:
            seen.add(key)
            current.append(campaign)
    return current


def campaign_is_current(campaign: AttestationCampaign) -> bool:
    return any(c.pk == campaign.pk for c in campaigns_current())


@dataclass(frozen=True)
class AttestationDue:
    campaign: AttestationCampaign
    state: str
    acknowledged_at: datetime | None
    due_on: date  # the person's: later than the campaign's for someone who arrived late


def person_start(user: AnyUser) -> date:
    """When the person's current duties began: the later of the day they joined and the
    last confirmed grant of a role (someone given a role today starts today)."""
    return starts_of({user.pk: user})[user.pk]


def starts_of(users: dict) -> dict[int, date]:
    """``person_start`` of many people ({user id: User}) in one query."""
    rows = (
        RoleGrant.objects.filter(user_id__in=list(users), status=RoleGrant.Status.CONFIRMED)
        .values("user_id")
        .annotate(at=Max("decided_at"))
    )
    granted = {r["user_id"]: timezone.localdate(r["at"]) for r in rows if r["at"]}
    out = {}
    for uid, user in users.items():
        joined = timezone.localdate(user.date_joined) if user.date_joined else date.min
        out[uid] = max(joined, granted[uid]) if uid in granted else joined
    return out


def personal_due(campaign: AttestationCampaign, start: date) -> date:
    """The campaign's due date, or for a person who took up a role after it started,
    as many days from that day as the campaign gave everyone."""
    window = (campaign.due_on - timezone.localdate(campaign.started_at)).days
    return max(campaign.due_on, start + timedelta(days=max(window, 0)))


def attestations_for(
    user: AnyUser, *, on: date | None = None, start: date | None = None
) -> list[AttestationDue]:
    """The current campaigns that name one of the user's roles, with where they stand."""
    roles = user_roles(user)
    campaigns = [c for c in campaigns_current() if roles & set(c.roles)]
    if not campaigns:
        return []
    done = dict(
        Attestation.objects.filter(user=user, campaign__in=campaigns).values_list(
            "campaign_id", "at"
        )
    )
    day = on or today()
    start = start or person_start(user)
    out = []
    for c in campaigns:
        due = personal_due(c, start)
        state = er.attestation_state(due_on=due, acknowledged=c.pk in done, today=day)
        out.append(AttestationDue(c, state, done.get(c.pk), due))
    return out


# --- training --------------------------------------------------------------------------------


def module_list(*, active: bool | None = True) -> QuerySet[TrainingModule]:
    modules = TrainingModule.objects.all()
    return modules if active is None else modules.filter(active=active)


@dataclass(frozen=True)
class TrainingDue:
    module: TrainingModule
    status: er.TrainingStatus

    @property
    def state(self) -> str:
        return self.status.state


def applies_from(module: TrainingModule, start: date) -> date:
    """From when a module is required of a person: the later of the module's start and
    the start of their duties (``person_start``)."""
    return max(module.required_from, start)


def training_for(
    user: AnyUser, *, on: date | None = None, start: date | None = None
) -> list[TrainingDue]:
    """The active modules required of one of the user's roles, with where they stand."""
    roles = user_roles(user)
    modules = [m for m in module_list() if roles & set(m.roles)]
    if not modules:
        return []
    rows = (
        TrainingCompletion.objects.filter(user=user, module__in=modules)
        .values("module_id")
        .annotate(expires=Max("expires_on"))
    )
    expires = {r["module_id"]: r["expires"] for r in rows}
    grace = policy_engagement()["training_grace_days"]
    day = on or today()
    start = start or person_start(user)
    return [
        TrainingDue(
            m,
            er.training_status(
                applies_from=applies_from(m, start),
                grace_days=grace,
                expires_on=expires.get(m.pk),
                today=day,
            ),
        )
        for m in modules
    ]


def module_status_for(user: AnyUser, module: TrainingModule) -> TrainingDue | None:
    return next((t for t in training_for(user) if t.module.pk == module.pk), None)


# --- signing ---------------------------------------------------------------------------------


@memoized
def signing_lapse_refusal(user: User) -> str | None:
    """Why the user may not sign because an attestation or a training lapsed (when the
    published policy does not let a lapsed person sign), or None. Registered as a
    signer check: every signature of the product asks it."""
    if not user.is_authenticated or policy_engagement()["lapsed_may_sign"]:
        return None
    start = person_start(user)
    for due in attestations_for(user, start=start):
        if due.state == er.LAPSED:
            return (
                f"Your acknowledgement of “{due.campaign.title}” was due on "
                f"{due.due_on:%d %b %Y}: acknowledge it on the Attestations page before you "
                "sign. The policy does not let a person whose attestation lapsed sign."
            )
    for due in training_for(user, start=start):
        if due.state == er.LAPSED:
            when = "expired" if due.status.expires_on else "was due"
            return (
                f"Your training “{due.module.title}” {when} on {due.status.due_on:%d %b %Y}: "
                "complete it on the Training page before you sign. The policy does not let "
                "a person whose training lapsed sign."
            )
    return None


# --- completion (KPI) ------------------------------------------------------------------------


def people_in_roles(roles: Iterable[str]) -> tuple[dict[int, set[str]], dict[int, list[str]], dict]:
    """Active people holding any of ``roles``: {user id: their roles among them},
    {user id: team names}, {user id: User}."""
    roles = list(roles)
    through = User.groups.through.objects.filter(
        group__name__in=roles, user__is_active=True
    ).values_list("user_id", "group__name")
    held: dict[int, set[str]] = defaultdict(set)
    for uid, role in through:
        held[uid].add(role)
    if Role.GOVERNANCE_LEAD in roles:  # a superuser acts as a lead (accounts.permissions)
        for uid in User.objects.filter(is_superuser=True, is_active=True).values_list(
            "pk", flat=True
        ):
            held[uid].add(Role.GOVERNANCE_LEAD)
    teams: dict[int, list[str]] = defaultdict(list)
    for uid, team in (
        User.teams.through.objects.filter(user_id__in=list(held))
        .order_by("team__name")
        .values_list("user_id", "team__name")
    ):
        teams[uid].append(team)
    users = {u.pk: u for u in User.objects.filter(pk__in=list(held)).order_by("username")}
    return held, teams, users


@dataclass
class Rate:
    label: str
    required: int = 0
    done: int = 0

    @property
    def rate(self) -> float | None:
        return er.completion_rate(self.done, self.required)

    @property
    def percent(self) -> str:
        return "–" if self.rate is None else f"{self.rate:.0%}"


@dataclass
class Completion:
    overall: Rate
    by_role: list[Rate]
    by_team: list[Rate]
    pending: list[User]


def _completion(
    roles: list[str],
    held: dict[int, set[str]],
    teams: dict[int, list[str]],
    users: dict,
    done: set[int],
) -> Completion:
    labels = dict(Role.choices)
    by_role = {r: Rate(str(labels.get(r, r))) for r in roles}
    by_team: dict[str, Rate] = {}
    overall = Rate("Everyone")
    for uid, mine in held.items():
        is_done = uid in done
        overall.required += 1
        overall.done += is_done
        for role in mine & set(roles):
            by_role[role].required += 1
            by_role[role].done += is_done
        for team in teams.get(uid) or [NO_TEAM]:
            rate = by_team.setdefault(team, Rate(team))
            rate.required += 1
            rate.done += is_done
    pending = sorted((users[u] for u in held if u not in done), key=lambda u: u.username)
    return Completion(
        overall,
        list(by_role.values()),
        sorted(by_team.values(), key=lambda r: (r.label == NO_TEAM, r.label)),
        pending,
    )


def campaign_completion(campaign: AttestationCampaign) -> Completion:
    """Who of the campaign's roles acknowledged it, by role and team."""
    held, teams, users = people_in_roles(campaign.roles)
    done = set(Attestation.objects.filter(campaign=campaign).values_list("user_id", flat=True))
    return _completion(list(campaign.roles), held, teams, users, done & set(held))


def module_completion(module: TrainingModule, *, on: date | None = None) -> Completion:
    """Who of the module's roles has a current pass, by role and team."""
    held, teams, users = people_in_roles(module.roles)
    day = on or today()
    done = set(
        TrainingCompletion.objects.filter(
            module=module, passed=True, expires_on__gt=day, user_id__in=list(held)
        ).values_list("user_id", flat=True)
    )
    return _completion(list(module.roles), held, teams, users, done)


def engagement_kpis(*, on: date | None = None) -> dict[str, float | None]:
    """Attestation completion over the current campaigns and training completion over
    the active modules (shares of people, or None when nobody is required): for the
    governance snapshot."""
    attest = Rate("attestations")
    for campaign in campaigns_current():
        c = campaign_completion(campaign).overall
        attest.required += c.required
        attest.done += c.done
    train = Rate("training")
    for module in module_list():
        c = module_completion(module, on=on).overall
        train.required += c.required
        train.done += c.done
    return {"attestation_completion": attest.rate, "training_completion": train.rate}


def attempts_for(user: AnyUser, module: TrainingModule) -> QuerySet[TrainingCompletion]:
    return TrainingCompletion.objects.filter(user=user, module=module).order_by("-at", "-id")
