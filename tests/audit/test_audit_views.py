"""The audit trail's page, exports and API: who may read them, the filters, and CSV
cells that cannot run as spreadsheet formulas."""

import csv
import datetime as dt
import io
import json

import pytest

from audit.models import AuditEvent
from audit.services import audit_record
from core.audit_chain import event_hash
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/audit-events/"
EVIL = "=cmd|' /C calc'!A0"


@pytest.fixture
def trail(team, data_scientist, approver):
    """A use case whose name is a spreadsheet formula, and two workflow events."""
    use_case = UseCaseFactory(team=team, name=EVIL)
    audit_record(
        action="promotion.requested",
        obj=use_case,
        actor=data_scientist,
        reason="+1 ready for QA",
        changes={"environment": ["dev", "qa"]},
    )
    audit_record(
        action="promotion.approved",
        obj=use_case,
        actor=approver,
        reason="@validated",
        changes={"status": ["pending", "approved"]},
    )
    return use_case


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize(
    "who, expected",
    [
        ("governance_lead", 200),
        ("risk_officer", 200),
        ("auditor", 200),
        ("data_scientist", 403),
        ("approver", 403),
        ("no_role_user", 403),
    ],
)
def test_only_leads_risk_officers_and_auditors_read_the_trail(
    request, client_for, api_client_for, trail, who, expected
):
    user = request.getfixturevalue(who)
    client = client_for(user)
    for url in ("/audit/", "/audit/export.csv", "/audit/export.json"):
        assert client.get(url).status_code == expected, url
    assert api_client_for(user).get(API).status_code == expected


def test_anonymous_visitors_are_sent_to_log_in_and_the_api_asks_for_a_token(client, trail):
    assert client.get("/audit/").status_code == 302
    assert client.get("/audit/export.csv").status_code == 302
    from rest_framework.test import APIClient

    assert APIClient().get(API).status_code == 401


def test_the_nav_link_shows_for_readers_only(client_for, auditor, approver):
    assert 'href="/audit/"' in client_for(auditor).get("/").content.decode()
    assert 'href="/audit/"' not in client_for(approver).get("/").content.decode()


def test_the_page_lists_events_newest_first_with_old_and_new_values(client_for, auditor, trail):
    response = client_for(auditor).get("/audit/")
    assert response.status_code == 200
    events = list(response.context["events"])
    assert [e.seq for e in events] == sorted((e.seq for e in events), reverse=True)
    content = response.content.decode()
    assert "promotion.approved" in content and "@validated" in content
    assert 'pending <span aria-label="changed to">→</span> approved' in content


@pytest.mark.parametrize(
    "query, actions",
    [
        ("action=promotion.approved", {"promotion.approved"}),
        ("action=promotion.", {"promotion.requested", "promotion.approved"}),
        ("actor=approver", {"promotion.approved"}),
        ("q=ready+for+QA", {"promotion.requested"}),
        ("q=pending", {"promotion.approved"}),
    ],
)
def test_filters(client_for, api_client_for, auditor, trail, query, actions):
    page = client_for(auditor).get(f"/audit/?{query}")
    assert {e.action for e in page.context["page_obj"].object_list} == actions
    api = api_client_for(auditor).get(f"{API}?{query}").json()
    assert {e["action"] for e in api["results"]} == actions


def test_filter_by_object_with_and_without_what_belongs_to_it(
    client_for, auditor, data_scientist, trail
):
    from audit.services import audit_context

    with audit_context(actor=data_scientist):
        from tests.factories import MLModelFactory

        ml_model = MLModelFactory(use_case=trail, name="pd-gbm")
    base = f"/audit/?object_type=inventory.usecase&object_id={trail.pk}"
    own = client_for(auditor).get(base).context["page_obj"].object_list
    assert own and {e.object_type for e in own} == {"inventory.usecase"}
    related = client_for(auditor).get(f"{base}&with_related=on").context["page_obj"].object_list
    assert ("inventory.mlmodel", str(ml_model.pk)) in {
        (e.object_type, e.object_id) for e in related
    }


def test_filter_by_dates(client_for, auditor, trail):
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = today + dt.timedelta(days=1)
    client = client_for(auditor)
    assert (
        client.get(f"/audit/?date_from={today}&date_to={today}").context["page_obj"].paginator.count
        == AuditEvent.objects.count()
    )
    assert client.get(f"/audit/?date_from={tomorrow}").context["page_obj"].paginator.count == 0


def test_the_page_is_paginated(client_for, auditor, trail):
    for n in range(60):
        audit_record(action="test.bulk", object_type="tests.thing", object_id=n)
    response = client_for(auditor).get("/audit/?action=test.bulk&page=2")
    assert response.context["page_obj"].number == 2
    assert len(response.context["events"]) == 10


def test_csv_export_neutralises_formula_cells(client_for, risk_officer, trail):
    response = client_for(risk_officer).get(
        f"/audit/export.csv?object_type=inventory.usecase&object_id={trail.pk}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert rows
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    names = {row["object"] for row in rows}
    assert names == {"'" + EVIL}
    reasons = {row["reason"] for row in rows}
    assert {"'+1 ready for QA", "'@validated"} <= reasons
    created = [r for r in rows if r["field"] == "name"]
    assert created[0]["new"] == "'" + EVIL and created[0]["old"] == "—"


def test_json_export_keeps_values_as_recorded_with_their_hashes(client_for, auditor, trail):
    response = client_for(auditor).get("/audit/export.json?action=promotion.")
    assert response.status_code == 200
    data = json.loads(body(response))
    assert [e["action"] for e in data] == ["promotion.approved", "promotion.requested"]
    assert data[0]["object_repr"] == EVIL and data[0]["reason"] == "@validated"
    assert data[0]["prev_hash"] == data[1]["hash"]
    for event in data:  # anyone can re-compute the chain from the export
        payload = {k: v for k, v in event.items() if k not in {"prev_hash", "hash"}}
        assert event_hash(event["prev_hash"], payload) == event["hash"]


def test_exports_stream_every_matching_event_across_batches(client_for, auditor, monkeypatch):
    from audit import views as audit_views

    monkeypatch.setattr(audit_views, "EXPORT_BATCH", 7)
    for n in range(20):
        audit_record(action="test.bulk", object_type="tests.thing", object_id=n)
    data = json.loads(body(client_for(auditor).get("/audit/export.json?action=test.bulk")))
    assert [e["object_id"] for e in data] == [str(n) for n in reversed(range(20))]


def test_api_reads_one_event_by_seq_and_refuses_writes(api_client_for, governance_lead, trail):
    client = api_client_for(governance_lead)
    event = AuditEvent.objects.get(action="promotion.approved")
    detail = client.get(f"{API}{event.seq}/")
    assert detail.status_code == 200
    assert detail.json()["hash"] == event.hash and detail.json()["actor"] == "approver"
    assert client.delete(f"{API}{event.seq}/").status_code == 405
    assert client.patch(f"{API}{event.seq}/", {"reason": "x"}, format="json").status_code == 405
    assert client.post(API, {"action": "x"}, format="json").status_code == 405


def test_api_rejects_bad_filter_values(api_client_for, auditor):
    assert api_client_for(auditor).get(f"{API}?date_from=yesterday").status_code == 400


def test_page_and_api_queries_do_not_grow_with_events(
    client_for, api_client_for, auditor, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    audit_record(action="test.bulk", object_type="tests.thing", object_id=0)
    page, api = client_for(auditor), api_client_for(auditor)
    with CaptureQueriesContext(connection) as few_page:
        page.get("/audit/")
    with CaptureQueriesContext(connection) as few_api:
        api.get(API)
    for n in range(40):
        audit_record(action="test.bulk", object_type="tests.thing", object_id=n, actor=auditor)
    with django_assert_max_num_queries(len(few_page.captured_queries)):
        page.get("/audit/")
    with django_assert_max_num_queries(len(few_api.captured_queries)):
        api.get(API)
