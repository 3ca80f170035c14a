"""The owners' daily digest (issue 18): new or changed obligations are e-mailed to each
owner once a day, by use case with due dates and links, instead of one e-mail per use
case and recompute; overdue obligations are still e-mailed at once."""

import datetime
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from governance import tasks
from governance.models import Obligation, RaciAssignment, RaciRole
from governance.services import obligations_recompute, raci_assign, raci_unassign
from governance.services.digest import SETTLE, obligation_digests_send
from governance.services.escalation import obligations_escalate
from governance.settings import CELERY_BEAT_SCHEDULE
from inventory.choices import RiskTier
from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db

SITE = "http://governance.example:8123"
DIGEST = "obligations_digest"


@pytest.fixture(autouse=True)
def digest_settings(settings):
    settings.SITE_URL = SITE
    settings.OBLIGATION_DIGEST_HOUR = 7
    settings.TIME_ZONE = "UTC"


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


def settled() -> datetime.datetime:
    """A moment by which what was recorded so far is past the digest's settling time."""
    return timezone.now() + SETTLE + timedelta(minutes=1)


def owned_use_case(name, team, governance_lead, owner):
    """A High use case with a version whose risk/audit Accountable is ``owner``, its
    obligations derived (the sign-off and others owned by ``owner``)."""
    use_case = UseCaseFactory(name=name, team=team, risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="risk-audit"),
        by=governance_lead,
        user=owner,
    )
    obligations_recompute(use_case=use_case, reason="test")
    return use_case


def send_all() -> list:
    before = len(mail.outbox)
    for note in Notification.objects.filter(kind=DIGEST, sent_at=None):
        notification_send(notification_id=note.pk)
    return mail.outbox[before:]


def test_one_digest_per_owner_lists_each_use_cases_new_obligations(
    team, governance_lead, risk_officer, client_for
):
    first = owned_use_case("Card fraud scoring", team, governance_lead, risk_officer)
    second = owned_use_case("Churn propensity", team, governance_lead, risk_officer)
    mine = Obligation.objects.filter(owner=risk_officer, active=True)
    assert mine.filter(use_case=first).exists() and mine.filter(use_case=second).exists()
    # Recomputing queued no e-mail: owners hear of it in their digest.
    assert not Notification.objects.exists()

    later = settled()
    counts = obligation_digests_send(now=later, wait_for_hour=False)
    assert counts == {"digests": 1, "obligations": mine.count()}
    [message] = send_all()
    assert message.to == [risk_officer.email]
    assert message.subject == (
        f"Your governance obligations: {mine.count()} new or changed on 2 use cases"
    )
    body = message.body
    assert body.index("Card fraud scoring") < body.index("Churn propensity")
    links = re.findall(re.escape(SITE) + r"(/\S*)", body)
    assert links == [
        f"/obligations/use-cases/{first.pk}/",
        f"/obligations/use-cases/{second.pk}/",
        "/my-work/",
    ]
    for path in links:  # the links work, for the person they were sent to
        assert client_for(risk_officer).get(path).status_code == 200
    signoff = mine.get(use_case=first, consideration__code="human-signoff")
    assert f"- Human-in-the-loop sign-off (Strict), due {signoff.due_date}" in body

    # Beat runs every hour: the same day sends nothing more.
    assert obligation_digests_send(now=later + timedelta(hours=3), wait_for_hour=False) == {
        "digests": 0,
        "obligations": 0,
    }


def test_the_next_digest_lists_only_what_is_new_since_the_last(
    team, governance_lead, risk_officer, monkeypatch
):
    owned_use_case("Card fraud scoring", team, governance_lead, risk_officer)
    first = settled()
    obligation_digests_send(now=first, wait_for_hour=False)
    assert len(send_all()) == 1
    next_day = first + timedelta(days=1)
    # Nothing new: no digest the next day.
    assert obligation_digests_send(now=next_day, wait_for_hour=False)["digests"] == 0

    monkeypatch.setattr(timezone, "now", lambda: next_day)  # a use case that day
    later = owned_use_case("Churn propensity", team, governance_lead, risk_officer)
    monkeypatch.undo()
    created = Obligation.objects.filter(use_case=later, owner=risk_officer)
    # Recorded a moment ago: it waits for the window to settle (a transaction that
    # began before the digest read could still commit an earlier event).
    soon = next_day + timedelta(minutes=1)
    assert obligation_digests_send(now=soon, wait_for_hour=False)["digests"] == 0
    obligation_digests_send(now=next_day + timedelta(days=1), wait_for_hour=False)
    [message] = send_all()
    assert "Churn propensity" in message.body and "Card fraud scoring" not in message.body
    assert message.subject.startswith(f"Your governance obligations: {created.count()} new")


def test_the_digest_waits_for_its_hour(team, governance_lead, risk_officer):
    owned_use_case("Card fraud scoring", team, governance_lead, risk_officer)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert obligation_digests_send(now=at(tomorrow, 6, 59)) == {"digests": 0, "obligations": 0}
    assert obligation_digests_send(now=at(tomorrow, 7, 0))["digests"] == 1
    key = f"obligations-digest:user:{risk_officer.pk}:{tomorrow.isoformat()}"
    assert Notification.objects.get(kind=DIGEST).key == key


def test_a_new_owner_hears_of_the_obligations_that_moved_to_them(
    team, governance_lead, risk_officer
):
    from tests.factories import user_with_role

    use_case = owned_use_case("Card fraud scoring", team, governance_lead, risk_officer)
    obligation_digests_send(now=settled(), wait_for_hour=False)
    send_all()
    successor = user_with_role("risk-officer", username="risk-successor")
    role = RaciRole.objects.get(code="risk-audit")
    raci_unassign(
        assignment=RaciAssignment.objects.get(use_case=use_case, role=role), by=governance_lead
    )
    raci_assign(use_case=use_case, role=role, by=governance_lead, user=successor)
    counts = obligations_recompute(use_case=use_case, reason="RACI changed")
    assert counts["owner_changed"] > 0
    obligation_digests_send(now=settled() + timedelta(days=1), wait_for_hour=False)
    [message] = send_all()
    assert message.to == [successor.email] and "Card fraud scoring" in message.body


def test_a_long_digest_lists_fifty_use_cases_and_counts_the_rest(
    team, governance_lead, risk_officer, monkeypatch
):
    from governance.services import digest

    monkeypatch.setattr(digest, "MAX_USE_CASES", 2)
    for name in ("A one", "B two", "C three"):
        owned_use_case(name, team, governance_lead, risk_officer)
    obligation_digests_send(now=settled(), wait_for_hour=False)
    [message] = send_all()
    assert "on 3 use cases" in message.subject
    assert "A one" in message.body and "B two" in message.body
    assert "C three" not in message.body
    assert "And 1 more use case: see My work." in message.body


def test_overdue_obligations_are_still_emailed_at_once(team, governance_lead, risk_officer):
    """Overdue and escalated obligations are urgent: the daily digest does not hold them."""
    use_case = owned_use_case("Card fraud scoring", team, governance_lead, risk_officer)
    Obligation.objects.filter(use_case=use_case).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    assert obligations_escalate()["owners"] > 0
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds == {"obligation_overdue"}


def test_beat_runs_the_digest_and_old_owner_messages_send_nothing(risk_officer):
    entry = CELERY_BEAT_SCHEDULE["obligation-digests"]
    assert entry["task"] == tasks.obligation_digests_send.name
    assert entry["schedule"] <= 60 * 60  # hourly: the first run from the hour sends
    # A message queued before the digest existed resolves, and sends nothing.
    assert tasks.obligations_notify_owners.run(obligation_ids=[1, 2]) == 0
    assert not Notification.objects.exists()
