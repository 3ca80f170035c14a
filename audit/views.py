"""The audit trail's pages: the global list with filters, and its CSV and JSON
exports (streamed, so an export of the whole trail holds one batch in memory).

Readers: governance leads, risk officers and auditors; anyone else gets 403.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, a tab or
a carriage return) get a leading single quote. The JSON export keeps every value
exactly as recorded: it is read by programs, not spreadsheets, and an auditor
comparing it with the database or re-computing the hash chain needs the original
values.
"""

import csv
import json
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.web import role_required
from audit.anchors import anchor_status
from audit.models import AuditEvent
from audit.presentation import labelled_history
from audit.selectors import (
    AuditEventFilterSet,
    audit_event_list,
    audit_history_for,
    audit_object_types,
    can_read_audit_trail,
)
from core.audit_chain import iso_utc, spreadsheet_safe

PAGE_SIZE = 50
EXPORT_BATCH = 500
CSV_COLUMNS = [
    "seq",
    "occurred_at_utc",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "field",
    "old",
    "new",
    "reason",
    "channel",
    "path",
    "parent_type",
    "parent_id",
    "hash",
]


def history_context(obj: Model, user) -> dict:
    """What ``_partials/history.html`` needs for an object's page: its newest events
    (and those of what belongs to it) and, for audit readers, a link to all of them."""
    link = ""
    if can_read_audit_trail(user):
        query = QueryDict(mutable=True)
        query.update(
            {"object_type": obj._meta.label_lower, "object_id": str(obj.pk), "with_related": "on"}
        )
        link = f"{reverse('audit:list')}?{query.urlencode()}"
    return {"audit_history": labelled_history(audit_history_for(obj)), "audit_link": link}


def _require_reader(request: HttpRequest) -> None:
    if not can_read_audit_trail(request.user):
        raise PermissionDenied(
            "The audit trail is open to governance leads, risk officers and auditors."
        )


def _filtered(request: HttpRequest) -> AuditEventFilterSet:
    return AuditEventFilterSet(request.GET or None, queryset=audit_event_list())


@role_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    filterset = _filtered(request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "events": page.object_list,
            "object_types": audit_object_types(),
            "is_filtered": any(v for k, v in query.items()),
            "export_query": query.urlencode(),
            "anchoring": anchor_status(),
        },
    )


def _batches(queryset) -> Iterator[AuditEvent]:
    """The events of a filtered queryset, newest first, in keyset batches."""
    last_seq = None
    while True:
        batch = queryset.order_by("-seq")
        if last_seq is not None:
            batch = batch.filter(seq__lt=last_seq)
        rows = list(batch[:EXPORT_BATCH])
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events) -> Iterator[list]:
    yield CSV_COLUMNS
    for event in events:
        base = [
            event.seq,
            iso_utc(event.occurred_at),
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
        ]
        tail = [
            event.reason,
            event.context.get("channel", ""),
            event.context.get("path", ""),
            event.parent_type,
            event.parent_id,
            event.hash,
        ]
        rows = event.change_rows or [{"field": "", "old": "", "new": ""}]
        for change in rows:
            yield [*base, change["field"], change["old"], change["new"], *tail]


def _filename(extension: str) -> str:
    return f"audit-trail-{timezone.now():%Y%m%dT%H%M%SZ}.{extension}"


@role_required
def audit_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_reader(request)
    writer = csv.writer(_Echo())
    events = _batches(_filtered(request).qs)
    response = StreamingHttpResponse(
        (writer.writerow([spreadsheet_safe(cell) for cell in row]) for row in _csv_rows(events)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def event_as_json(event: AuditEvent) -> dict:
    """One event as exported (and served by the API): every hashed field, the hashes."""
    return {
        "seq": event.seq,
        "occurred_at": iso_utc(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "parent_type": event.parent_type,
        "parent_id": event.parent_id,
        "changes": event.changes,
        "reason": event.reason,
        "context": event.context,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _json_chunks(events) -> Iterator[str]:
    yield "["
    first = True
    for event in events:
        yield ("\n" if first else ",\n") + json.dumps(event_as_json(event), ensure_ascii=False)
        first = False
    yield "\n]\n"


@role_required
def audit_export_json(request: HttpRequest) -> StreamingHttpResponse:
    _require_reader(request)
    events = _batches(_filtered(request).qs)
    response = StreamingHttpResponse(
        _json_chunks(events), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    return response
