"""The portfolio report for senior management and the documents of a use case as a
whole (issue 15): made on demand by the people allowed to, monthly by the schedule
and e-mailed (PDF attached, its SHA-256 checked) to the governance mailbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import unicodedata
import zipfile

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from docx import Document
from pypdf import PdfReader

from documents import rendering, tasks
from documents.models import GeneratedDocument
from documents.services import generation
from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import (
    DriftAlertFactory,
    FindingFactory,
    ModelVersionFactory,
    ObligationFactory,
    UseCaseFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db

needs_chromium = pytest.mark.skipif(
    rendering.chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
def portfolio(media, team):
    """An overdue obligation, an open finding and an open drift alert."""
    late = UseCaseFactory(team=team, name="Claims triage")
    ObligationFactory(use_case=late, due_date=timezone.localdate() - dt.timedelta(days=12))
    version = ModelVersionFactory(model__use_case=late)
    FindingFactory(model_version=version, title="Recall below target for small claims")
    DriftAlertFactory(config__model_version=version, feature="claim_amount")
    return {"use_case": late, "version": version}


def text_of(document) -> str:
    if document.pdf:
        with document.pdf.open("rb") as handle:
            return "\n".join(p.extract_text() for p in PdfReader(handle).pages)
    with document.docx.open("rb") as handle:
        word = Document(io.BytesIO(handle.read()))
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in word.paragraphs] + cells)


@needs_chromium
def test_a_risk_officer_makes_the_report_on_its_page_and_it_says_what_is_overdue(
    portfolio, risk_officer, client_for
):
    client = client_for(risk_officer)
    page = client.get(reverse("documents:portfolio-reports"))
    assert page.status_code == 200 and b"data-portfolio-report" in page.content
    response = client.post(reverse("documents:portfolio-report-request"))
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(kind="portfolio_report")
    assert document.as_of == timezone.localdate() and document.model_version is None
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "done" and document.pdf, document.error
    # PDF text: ligatures undone, wrapped lines joined.
    text = " ".join(unicodedata.normalize("NFKC", text_of(document)).split())
    for expected in (
        "Portfolio model-risk report",
        "Claims triage",
        "Recall below target for small claims",
        "claim_amount",
        "Overdue obligations",
        "Models past their periodic review",
    ):
        assert expected in text, expected
    # The Word file has the heatmap as a vector image (SVG, and a PNG for readers
    # without SVG), exported by the same plotly.js.
    with document.docx.open("rb") as handle, zipfile.ZipFile(handle) as word:
        media = [n for n in word.namelist() if n.startswith("word/media/")]
        svgs = [n for n in media if n.endswith(".svg")]
        assert len(svgs) == 1 and any(n.endswith(".png") for n in media)
        svg = word.read(svgs[0]).decode()
        assert svg.startswith("<svg") and "Risk tier" in svg and "Criticality level" in svg
        assert "asvg:svgBlip" in word.read("word/document.xml").decode()
    download = client.get(reverse("documents:document-download", args=[document.pk, "pdf"]))
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == document.pdf_sha256
    assert f"portfolio_report-{document.as_of}.pdf" in download["Content-Disposition"]


def test_the_same_day_and_records_give_the_same_report_and_a_change_a_new_one(
    portfolio, risk_officer
):
    first, queued = generation.portfolio_report_request(user=risk_officer)
    again, queued_again = generation.portfolio_report_request(user=risk_officer)
    assert queued and not queued_again and again.pk == first.pk
    FindingFactory(model_version=portfolio["version"], title="Another finding")
    changed, _ = generation.portfolio_report_request(user=risk_officer)
    assert changed.pk != first.pk
    tomorrow, _ = generation.portfolio_report_request(
        user=risk_officer, as_of=timezone.localdate() + dt.timedelta(days=1)
    )
    assert tomorrow.pk != changed.pk  # every age counts one more day


@pytest.mark.parametrize("role", ["data-scientist", "auditor", "approver", "validator"])
def test_who_may_not_make_the_report_reads_it_and_is_refused_on_every_route(
    role, portfolio, risk_officer, client_for, api_client_for
):
    made, _ = generation.portfolio_report_request(user=risk_officer)
    user = user_with_role(role, username=f"{role}-reader")
    client = client_for(user)
    assert client.get(reverse("documents:portfolio-reports")).status_code == 200
    assert client.get(reverse("documents:document", args=[made.pk])).status_code == 200
    assert client.post(reverse("documents:portfolio-report-request")).status_code == 403
    api = api_client_for(user)
    response = api.post("/api/v1/documents/", {"kind": "portfolio_report"}, format="json")
    assert response.status_code == 403
    assert GeneratedDocument.objects.filter(kind="portfolio_report").count() == 1


def test_the_api_makes_the_report_and_refuses_a_report_that_names_a_version(
    portfolio, risk_officer, api_client_for
):
    api = api_client_for(risk_officer)
    wrong = api.post(
        "/api/v1/documents/",
        {"kind": "portfolio_report", "model_version": portfolio["version"].pk},
        format="json",
    )
    assert wrong.status_code == 400
    made = api.post("/api/v1/documents/", {"kind": "portfolio_report"}, format="json")
    assert made.status_code == 202 and made.json()["as_of"] == str(timezone.localdate())
    listed = api.get("/api/v1/documents/?kind=portfolio_report").json()
    assert [d["id"] for d in listed["results"]] == [made.json()["id"]]


def test_the_monthly_report_is_e_mailed_once_to_the_governance_mailbox_with_its_file(
    portfolio, governance_lead, settings, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)  # the Word file: quicker
    mailbox = user_with_role("risk-officer", username="mrm-mailbox", email="mrm@example.org")
    settings.GOVERNANCE_REPORT_EMAIL = "MRM@example.org"
    assert "portfolio-report-monthly" in settings.CELERY_BEAT_SCHEDULE

    result = tasks.portfolio_report_monthly.run()
    assert result["made"]
    document = GeneratedDocument.objects.get(pk=result["document"])
    assert document.requested_by is None and document.mail_to_governance
    assert not Notification.objects.exists()  # nothing before it is rendered
    generation.document_render(document_id=document.pk)
    # The schedule's next runs this month find it made; next month makes another.
    assert tasks.portfolio_report_monthly.run() == {"document": document.pk, "made": False}
    next_month = (document.as_of.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert generation.portfolio_report_monthly(today=next_month)["made"]
    notes = list(Notification.objects.filter(kind="portfolio_report", subject_id=str(document.pk)))
    assert [n.recipient for n in notes] == [mailbox]

    mail.outbox.clear()
    assert notification_send(notification_id=notes[0].pk) == "sent"
    assert notification_send(notification_id=notes[0].pk) != "sent"  # exactly once
    (message,) = mail.outbox
    assert message.to == ["mrm@example.org"]
    assert f"as of {document.as_of}" in message.subject
    document.refresh_from_db()
    ((name, content, mimetype),) = message.attachments
    assert name.endswith(".docx") and mimetype.endswith("wordprocessingml.document")
    assert hashlib.sha256(content).hexdigest() == document.docx_sha256
    assert document.content_sha256 in message.body


def test_without_a_mailbox_address_the_leads_get_the_report(
    portfolio, governance_lead, settings, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    settings.GOVERNANCE_REPORT_EMAIL = ""
    document, _ = generation.portfolio_report_request(user=None, mail=True)
    generation.document_render(document_id=document.pk)
    recipients = set(
        Notification.objects.filter(kind="portfolio_report").values_list("recipient", flat=True)
    )
    assert governance_lead.pk in recipients


def test_a_use_case_document_goes_by_its_version_in_production(
    media, team, data_scientist, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    use_case = UseCaseFactory(team=team, name="Fraud screening")
    ModelVersionFactory(model__use_case=use_case, version_label="2.0")
    prod = ModelVersionFactory(model__use_case=use_case, version_label="1.4", environment="prod")
    client = client_for(data_scientist)
    detail = client.get(reverse("dashboard:use-case-detail", args=[use_case.pk]))
    assert b"data-use-case-documents" in detail.content
    page = client.get(reverse("documents:use-case-documents", args=[use_case.pk]))
    assert page.status_code == 200 and b'data-generate="annex_iv"' in page.content
    response = client.post(
        reverse("documents:use-case-document-request", args=[use_case.pk]), {"kind": "annex_iv"}
    )
    assert response.status_code == 302
    document = GeneratedDocument.objects.get(use_case=use_case)
    assert document.model_version == prod
    version_doc, _ = generation.document_request(user=data_scientist, version=prod, kind="annex_iv")
    assert version_doc.pk != document.pk  # the version's own document is another
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    text = text_of(document)
    assert "The use case Fraud screening, as of its model version" in text
    assert prod.artifact_sha256 in text


def test_a_use_case_without_a_version_is_told_so_and_nothing_is_written(
    media, team, data_scientist, client_for, api_client_for
):
    use_case = UseCaseFactory(team=team)
    response = client_for(data_scientist).post(
        reverse("documents:use-case-document-request", args=[use_case.pk]), {"kind": "model_card"}
    )
    assert response.status_code == 400 and b"no model version yet" in response.content
    api = api_client_for(data_scientist)
    assert (
        api.post(
            "/api/v1/documents/", {"kind": "model_card", "use_case": use_case.pk}, format="json"
        ).status_code
        == 400
    )
    version = ModelVersionFactory(model__use_case=use_case)
    both = api.post(
        "/api/v1/documents/",
        {"kind": "model_card", "use_case": use_case.pk, "model_version": version.pk},
        format="json",
    )
    assert both.status_code == 400
    assert not GeneratedDocument.objects.exists()


def test_a_report_made_on_demand_that_day_is_the_one_the_schedule_mails(
    portfolio, risk_officer, governance_lead, monkeypatch
):
    from audit.models import AuditEvent

    monkeypatch.setattr(rendering, "chromium", lambda: None)
    made, _ = generation.portfolio_report_request(user=risk_officer)
    generation.document_render(document_id=made.pk)
    first = tasks.portfolio_report_monthly.run()
    assert first["document"] == made.pk
    made.refresh_from_db()
    assert made.mail_to_governance
    assert Notification.objects.filter(kind="portfolio_report", subject_id=str(made.pk)).exists()
    asked = AuditEvent.objects.filter(action="document.requested").count()
    for _ in range(3):  # the next hourly runs find it
        assert tasks.portfolio_report_monthly.run() == {"document": made.pk, "made": False}
    assert AuditEvent.objects.filter(action="document.requested").count() == asked


def test_the_mail_finds_the_summary_wherever_a_template_puts_it(
    portfolio, governance_lead, settings, monkeypatch
):
    from documents.models import DocumentTemplate
    from documents.services.templates import template_draft_create, template_publish_propose
    from governance.services.framework_changes import framework_change_approve
    from tests.factories import PASSWORD
    from tests.governance.four_eyes import other_lead

    monkeypatch.setattr(rendering, "chromium", lambda: None)
    settings.GOVERNANCE_REPORT_EMAIL = ""
    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="portfolio_report"), by=governance_lead
    )
    draft.sections.filter(key="obligations").update(order=0)
    change = template_publish_propose(version=draft, by=governance_lead, note="Obligations first")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)

    document, _ = generation.portfolio_report_request(user=None, mail=True)
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.content["sections"][0]["key"] == "obligations"
    note = Notification.objects.filter(kind="portfolio_report").first()
    mail.outbox.clear()
    assert notification_send(notification_id=note.pk) == "sent"
    assert "- Overdue obligations: 1" in mail.outbox[0].body


def test_a_chart_export_that_fails_leaves_the_word_file_without_its_drawing(
    portfolio, risk_officer, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)

    def broken(_figures):
        raise RuntimeError("Chromium ran over 120 s")

    monkeypatch.setattr(rendering, "export_charts", broken)
    document, _ = generation.portfolio_report_request(user=risk_officer)
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "done" and document.docx
    assert "Chart: Use cases by criticality level and risk tier" in text_of(document)


def test_a_portfolio_evidence_pack_holds_the_portfolio_reports(
    portfolio, risk_officer, auditor, settings, tmp_path, monkeypatch
):
    import json

    from tests.documents import packs

    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "portfolio-pack-test-key"
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    report, _ = generation.portfolio_report_request(user=risk_officer)
    today = timezone.localdate()
    pack = packs.build(auditor, scope="portfolio", date_from=today, date_to=today)
    folder = packs.unpack(pack, tmp_path / "pack")
    rows = json.loads((folder / "records/documents.generateddocument.json").read_text())
    assert report.pk in [r["pk"] for r in rows]
    _code, out = packs.check(folder)
    # (the factories' drift alert names a scored file never stored: that one fails)
    failures = [line for line in out.splitlines() if "FAIL" in line]
    assert failures and all("fairness.scoreddataset" in line for line in failures), out


def test_the_api_shows_a_scheduled_report_as_made_by_nobody(portfolio, auditor, api_client_for):
    document, _ = generation.portfolio_report_request(user=None, mail=True)
    body = api_client_for(auditor).get(f"/api/v1/documents/{document.pk}/").json()
    assert body["requested_by"] is None and body["kind"] == "portfolio_report"
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    field = schema["components"]["schemas"]["GeneratedDocument"]["properties"]["requested_by"]
    assert field.get("nullable") is True


def test_the_report_counts_open_findings_by_severity_and_age(team):
    """Issue 16 gave findings a severity: the report's table is age x severity, over the
    findings neither verified nor closed, each row with its owner, due date and
    whether it is overdue."""
    from documents.selectors.portfolio import portfolio_facts

    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    now = timezone.now()
    made = [
        ("critical", "open", 5, timezone.localdate() - dt.timedelta(days=1)),
        ("high", "planned", 40, None),
        ("high", "accepted", 100, None),
        ("low", "remediated", 200, None),
        ("medium", "verified", 10, None),  # not counted
        ("medium", "closed", 10, None),  # not counted
    ]
    for severity, status, days, due in made:
        FindingFactory(
            model_version=version,
            severity=severity,
            status=status,
            opened_at=now - dt.timedelta(days=days),
            due_on=due,
            title=f"{severity} {status}",
        )
    facts, _, _ = portfolio_facts(timezone.localdate())
    assert facts["findings_by_age"] == [
        ["0-30 days", 0, 0, 0, 1, 1],
        ["31-90 days", 0, 0, 1, 0, 1],
        ["91-180 days", 0, 0, 1, 0, 1],
        ["over 180 days", 1, 0, 0, 0, 1],
    ]
    rows = {r[1].split(" (")[0]: r for r in facts["findings_open"]}
    assert set(rows) == {"critical open", "high planned", "high accepted", "low remediated"}
    assert rows["critical open"][2:4] == ["Critical", "Open"]
    assert rows["critical open"][-1] == "yes" and rows["high planned"][-1] == "no"
