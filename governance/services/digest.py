"""The owners' daily digest of obligations (issue 18).

A recompute no longer e-mails owners one use case at a time: beat runs
``obligation_digests_send`` every hour, and from ``OBLIGATION_DIGEST_HOUR`` (local time)
each person who became accountable for new or changed obligations since their last
digest gets one e-mail for the day, listing them by use case with their due dates and a
link to each use case's obligations (``SITE_URL``). The outbox's key (person and day)
makes it one per person per day however often beat runs; My work shows everything they
own in the meantime. What is news is read from the obligations' history: a "created",
"changed" or "owner changed" event of an active obligation the person owns now, recorded
after the end of the window of their previous digest (stored in its context).
Overdue obligations and their escalations are not news of this kind: they are e-mailed
at once (``governance.services.escalation``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.selectors.obligations import obligation_digest_items
from notifications.models import Notification
from notifications.services import notification_queue

DIGEST = Notification.Kind.OBLIGATIONS_DIGEST
# A window ends this long before the digest: longer than any transaction that records
# obligation events (tasks stop after CELERY_TASK_TIME_LIMIT), so an event committed
# after the digest read its window was recorded after that window's end, and is in the
# next one.
SETTLE = datetime.timedelta(minutes=10)
# How far back a person's first digest (or one after a long pause) looks.
LOOKBACK = datetime.timedelta(days=7)
# Use cases listed in one e-mail; the rest are counted and on My work.
MAX_USE_CASES = 50


def _key(user_id: int, day: datetime.date) -> str:
    return f"obligations-digest:user:{user_id}:{day.isoformat()}"


def _previous_windows(since: datetime.datetime) -> dict[int, datetime.datetime]:
    """person id -> the end of the window of their latest digest (within the lookback)."""
    ends: dict[int, datetime.datetime] = {}
    for recipient_id, context in (
        Notification.objects.filter(kind=DIGEST, created_at__gte=since)
        .order_by("created_at", "pk")
        .values_list("recipient_id", "context")
    ):
        end = parse_datetime((context or {}).get("until", ""))
        if end is not None:
            ends[recipient_id] = max(end, ends.get(recipient_id, end))
    return ends


def _context(items: list[dict], start, end) -> dict:
    use_cases: dict[int, dict] = {}
    for item in items:
        entry = use_cases.setdefault(
            item["use_case_id"],
            {"id": item["use_case_id"], "name": item["use_case"], "items": []},
        )
        entry["items"].append(
            {
                "consideration": item["consideration"],
                "level": item["level"],
                "due": item["due"].isoformat(),
                "status": item["status"],
            }
        )
    listed = list(use_cases.values())
    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "obligations": len(items),
        "use_case_count": len(listed),
        "use_cases": listed[:MAX_USE_CASES],
    }


def obligation_digests_send(
    *,
    now: datetime.datetime | None = None,
    settle: datetime.timedelta = SETTLE,
    wait_for_hour: bool = True,
) -> dict[str, int]:
    """Queue today's obligations digest of every person with news (see the module).

    Before ``OBLIGATION_DIGEST_HOUR`` (with ``wait_for_hour``) it does nothing. A person
    who already has today's digest, or no e-mail address, is skipped. Each e-mail is an
    outbox row sent after commit. Returns the counts: digests queued, obligations listed.
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    if wait_for_hour and local.hour < settings.OBLIGATION_DIGEST_HOUR:
        return {"digests": 0, "obligations": 0}
    day = local.date()
    end = now - settle
    earliest = now - LOOKBACK
    previous = _previous_windows(earliest)
    by_person: dict[int, list[dict]] = {}
    for item in obligation_digest_items(since=earliest, until=end):
        start = previous.get(item["owner_id"], earliest)
        if item["at"] > start:
            by_person.setdefault(item["owner_id"], []).append(item)
    done_today = set(
        Notification.objects.filter(
            key__in=[_key(pk, day) for pk in by_person], kind=DIGEST
        ).values_list("recipient_id", flat=True)
    )
    people = User.objects.in_bulk([pk for pk in by_person if pk not in done_today])
    counts = {"digests": 0, "obligations": 0}
    for pk, person in sorted(people.items()):
        items = by_person[pk]
        note = notification_queue(
            key=_key(pk, day),
            kind=DIGEST,
            recipient=person,
            subject=person,
            context=_context(items, previous.get(pk, earliest), end),
        )
        if note is not None:
            counts["digests"] += 1
            counts["obligations"] += len(items)
    return counts


def render_obligations_digest(note: Notification, subject: User) -> tuple[str, str, None]:
    """(subject line, text, no HTML) of a person's obligations digest."""
    context = note.context
    count, use_cases = context.get("obligations", 0), context.get("use_case_count", 0)
    lines = [
        f"Since your last digest you became accountable for {count} new or changed "
        f"obligation{'s' if count != 1 else ''} on {use_cases} use "
        f"case{'s' if use_cases != 1 else ''}:",
        "",
    ]
    for use_case in context.get("use_cases", []):
        url = settings.SITE_URL + reverse("governance:obligations-use-case", args=[use_case["id"]])
        lines += [use_case["name"], f"  {url}"]
        for item in use_case["items"]:
            status = "" if item["status"] == "Open" else f" [{item['status']}]"
            lines.append(
                f"  - {item['consideration']} ({item['level']}), due {item['due']}{status}"
            )
        lines.append("")
    more = use_cases - len(context.get("use_cases", []))
    if more > 0:
        lines += [f"And {more} more use case{'s' if more != 1 else ''}: see My work.", ""]
    lines.append(
        "Everything you own, with what is due first: "
        + settings.SITE_URL
        + reverse("dashboard:my-work")
    )
    return (
        f"Your governance obligations: {count} new or changed on {use_cases} "
        f"use case{'s' if use_cases != 1 else ''}",
        "\n".join(lines) + "\n",
        None,
    )
