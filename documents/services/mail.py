"""The portfolio report to the governance mailbox (issue 15): once the monthly report
(or one asked for with "e-mail it") is rendered, the outbox e-mails its PDF (the Word
file when there is no PDF) to the accounts of ``GOVERNANCE_REPORT_EMAIL``, or to every
active governance lead when that is not set. Each file is read back and checked
against its recorded SHA-256 before it is attached."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.roles import Role
from audit.downloads import StoredFileError, stored_file_open_verified
from notifications.models import Notification
from notifications.services import notification_queue

logger = logging.getLogger(__name__)

PORTFOLIO_REPORT = Notification.Kind.PORTFOLIO_REPORT


def governance_mailbox() -> list:
    """The accounts the portfolio report goes to."""
    users = get_user_model().objects.filter(is_active=True)
    address = getattr(settings, "GOVERNANCE_REPORT_EMAIL", "")
    if address:
        found = list(users.filter(email__iexact=address))
        if found:
            return found
        logger.warning("GOVERNANCE_REPORT_EMAIL %s is no active account's address", address)
    return list(users.filter(groups__name=Role.GOVERNANCE_LEAD).distinct().order_by("pk"))


def mail_portfolio_report(document: Any) -> int:
    """Queue the report's e-mail to the governance mailbox (call in the transaction that
    marks it rendered); returns how many were queued. Once per document and account."""
    queued = 0
    for user in governance_mailbox():
        note = notification_queue(
            key=f"portfolio-report:{document.pk}:{user.pk}",
            kind=PORTFOLIO_REPORT,
            recipient=user,
            subject=document,
            context={"as_of": str(document.as_of)},
        )
        queued += note is not None
    return queued


def _summary_rows(content: dict) -> list[tuple[str, str]]:
    """The report's summary figures, wherever its template put the section (none when
    the template left it out)."""
    for section in content.get("sections", []):
        if section.get("key") == "summary":
            return [
                (str(row[0]), str(row[1]))
                for block in section.get("blocks", [])
                if block.get("type") == "facts"
                for row in block.get("rows", [])
                if len(row) == 2
            ]
    return []


def render_portfolio_report(note: Notification, document: Any):
    """(subject line, text, no HTML, [the PDF or the Word file])."""
    url = settings.SITE_URL + reverse("documents:document", args=[document.pk])
    if document.pdf:
        file, sha256, name, mime = document.pdf, document.pdf_sha256, "pdf", "application/pdf"
    else:
        file, sha256, name, mime = (
            document.docx,
            document.docx_sha256,
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    try:
        with stored_file_open_verified(
            file=file, sha256=sha256, obj=document, what=f"portfolio report #{document.pk}"
        ) as handle:
            attachment = (f"{document.file_stem}.{name}", handle.read(), mime)
    except StoredFileError as exc:
        raise RuntimeError(f"The report's file cannot be attached: {exc.message}") from exc
    lines = "\n".join(f"- {label}: {value}" for label, value in _summary_rows(document.content))
    return (
        f"Portfolio model-risk report as of {document.as_of}",
        f"The portfolio model-risk report as of {document.as_of} is attached.\n\n{lines}\n\n"
        f"Content SHA-256: {document.content_sha256}\n"
        f"File SHA-256: {sha256}\n\nOn the dashboard: {url}\n",
        None,
        [attachment],
    )
