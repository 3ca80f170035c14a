"""My work (issue 16): what one person must do next, across the apps: the sign-offs
waiting for their signature, the obligations they own, the findings they own or may
verify, the periodic reviews due (for those who sign them), the publications to
acknowledge and the training due, and the experiments they run. Reads only, from each
app's selectors; the dashboard is the one app that reads them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from accounts.permissions import AnyUser, has_role, user_roles
from accounts.roles import Role
from audit.figures import figure_while_unchanged
from core import engagement_rules as er
from core import finding_rules as fr
from engagement.selectors import attestations_for, training_for
from experiments.models import Experiment
from governance.models import Obligation
from governance.selectors.obligations import PENDING, obligation_list
from reviews.selectors.findings import finding_list, findings_to_verify_shown
from reviews.selectors.pending import pending_for
from reviews.selectors.periodic import periodic_review_index, periodic_review_rows

SHOWN = 20  # rows per section; the section says how many more there are
VERIFY_CANDIDATES = 100  # remediations counted for "may I verify it" (more: "100+")
REVIEW_SIGNERS = (Role.RISK_OFFICER, Role.GOVERNANCE_LEAD)


@dataclass
class Section:
    key: str
    title: str
    rows: list[Any] = field(default_factory=list)
    count: int = 0
    link: str = ""
    at_least: bool = False  # the count stopped at a cap: "N+"

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))


def _signatures(user: AnyUser) -> Section:
    pending, _ = pending_for(user=user, limit=SHOWN + 1)
    return Section(
        "signatures", "Sign-offs waiting for my signature", pending[:SHOWN], len(pending)
    )


def _obligations(user: AnyUser, today: date) -> Section:
    # The ids first, from the owner's index (obligation_owner_owed), then the rows shown
    # with what they show: a person may own thousands (issue 16: joining them all to
    # sort them took 100 ms).
    owed = Obligation.objects.filter(active=True, owner=user, status__in=PENDING)
    ids = list(owed.order_by("due_date", "pk").values_list("pk", flat=True)[:SHOWN])
    shown = obligation_list().in_bulk(ids)
    # (one superseded between the two reads is left out, not a KeyError)
    rows = [(shown[pk], shown[pk].due_date < today) for pk in ids if pk in shown]
    return Section("obligations", "Obligations I own", rows, owed.count())


def _findings_owned(user: AnyUser, today: date) -> Section:
    mine = (
        finding_list()
        .filter(owner=user, status__in=[fr.OPEN, fr.PLANNED, fr.REMEDIATED])
        .order_by("due_on", "pk")
    )
    rows = [(f, fr.is_overdue(f.status, f.due_on, today)) for f in mine[:SHOWN]]
    return Section("findings", "Findings I own", rows, mine.count())


def _findings_to_verify(user: AnyUser, today: date) -> Section:
    shown, count, more = findings_to_verify_shown(user, cap=VERIFY_CANDIDATES, shown=SHOWN)
    rows = [(f, fr.is_overdue(f.status, f.due_on, today)) for f in shown]
    return Section("verify", "Remediations I may verify", rows, count, at_least=more)


def _reviews(user: AnyUser, today: date) -> Section:
    if not has_role(user, *REVIEW_SIGNERS):
        return Section("reviews", "Periodic reviews overdue")
    ids = periodic_review_index(today=today, status="overdue")
    return Section(
        "reviews",
        "Periodic reviews overdue",
        periodic_review_rows(today=today, ids=ids[:SHOWN]),
        len(ids),
    )


def _experiments(user: AnyUser) -> Section:
    running = (
        Experiment.objects.filter(
            owner=user,
            status__in=[
                Experiment.Status.DRAFT,
                Experiment.Status.RUNNING,
                Experiment.Status.ENDED,
            ],
        )
        .select_related("use_case", "champion__model", "challenger__model")
        .order_by("created_at", "pk")
    )
    return Section("experiments", "Experiments I run", list(running[:SHOWN]), running.count())


def _attestations(user: AnyUser, today: date) -> Section:
    """Publications to acknowledge (due or lapsed) and training due soon, lapsed or
    never done: one section, as both are "read and confirm" work."""
    rows: list[tuple[str, Any, str, date | None]] = []
    for due in attestations_for(user, on=today):
        if due.state != er.DONE:
            rows.append(("attestation", due.campaign, due.state, due.due_on))
    for due in training_for(user, on=today):
        soon = due.status.due_on and (due.status.due_on - today).days <= er.TRAINING_REMIND_DAYS
        if due.state != er.DONE or soon:
            state = due.state if due.state != er.DONE else "expiring"
            rows.append(("training", due.module, state, due.status.due_on))
    rows.sort(key=lambda r: (r[2] != er.LAPSED, r[3] or today))
    return Section("attestations", "Attestations and training due", rows[:SHOWN], len(rows))


def my_work(*, user: AnyUser, today: date | None = None) -> list[Section]:
    """Every section of ``user``'s work, in the order a person deals with them. For
    today, kept until anything is audited (``audit.figures``): the page and the
    navigation's badge, fetched by every page, share it."""
    roles = ",".join(sorted(user_roles(user)))
    return figure_while_unchanged(
        f"my-work:{user.pk}:{roles}", lambda day: _my_work(user, day), day=today
    )


def _my_work(user: AnyUser, today: date) -> list[Section]:
    return [
        _signatures(user),
        _obligations(user, today),
        _findings_owned(user, today),
        _findings_to_verify(user, today),
        _reviews(user, today),
        _attestations(user, today),
        _experiments(user),
    ]


def my_work_counts(*, user: AnyUser, today: date | None = None) -> dict[str, Any]:
    """The sections' counts (the navigation's badge), their total, and whether any
    count stopped at its cap (``at_least``: the badge reads "N+")."""
    sections = my_work(user=user, today=today)
    counts: dict[str, Any] = {s.key: s.count for s in sections}
    return {
        **counts,
        "total": sum(counts.values()),
        "at_least": any(s.at_least for s in sections),
    }
