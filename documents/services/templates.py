"""Writes of document templates (issue 15): governance leads choose and order a kind's
sections and edit their titles and guidance in a draft (the admin); publishing it is a
four-eyes change of the framework, like the policy: one lead proposes the draft as it
is, another signs its approval (password typed again), and from then on new documents
follow it and record its version. A published version never changes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import is_governance_lead
from audit.services import audit_record
from core.documents import sections
from documents.models import DocumentTemplate, DocumentTemplateSection, DocumentTemplateVersion
from documents.selectors.templates import entries_sha256, template_entries
from governance.models import FrameworkChange
from governance.services.framework_changes import framework_change_propose

KIND = FrameworkChange.Kind.DOCUMENT_TEMPLATE_PUBLISH


def _require_lead(user: Any) -> None:
    if not is_governance_lead(user):
        raise PermissionDenied("Only governance leads change the document templates.")


@transaction.atomic
def template_draft_create(*, template: DocumentTemplate, by: Any) -> DocumentTemplateVersion:
    """Start the next version of a template as a copy of its latest version (the
    built-in sections when none is published yet). ValidationError when a draft exists."""
    _require_lead(by)
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    if template.versions.filter(status=DocumentTemplateVersion.Status.DRAFT).exists():
        raise ValidationError("This template already has a draft; edit or publish it first.")
    latest = template.versions.order_by("-number").first()
    entries = template_entries(latest) if latest else sections.default_template(template.kind)
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = DocumentTemplateVersion.objects.create(
        template=template, number=number, created_by=by, created_at=timezone.now()
    )
    DocumentTemplateSection.objects.bulk_create(
        DocumentTemplateSection(version=draft, order=(i + 1) * 10, **entry)
        for i, entry in enumerate(entries)
    )
    audit_record(action="document_template.draft_created", obj=draft, actor=by)
    return draft


def _publish_content(version: DocumentTemplateVersion, note: str) -> dict[str, Any]:
    """What publishing the draft would make current. ValidationError for a missing
    note, a section the product does not know, or nothing included."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": ["Write the draft's note (what changed and why) before proposing it."]}
        )
    kind = version.template.kind
    entries = template_entries(version)
    known = sections.SECTIONS[kind]
    unknown = [e["key"] for e in entries if e["key"] not in known]
    if unknown:
        raise ValidationError(f"Sections this kind does not have: {', '.join(unknown)}.")
    if not any(e["included"] for e in entries):
        raise ValidationError("A template needs at least one included section.")
    untitled = [e["key"] for e in entries if not e["title"].strip()]
    if untitled:
        raise ValidationError(f"Sections without a title: {', '.join(untitled)}.")
    return {
        "document_template_version": version.pk,
        "kind": kind,
        "number": version.number,
        "note": note,
        "sections": entries,
    }


@transaction.atomic
def template_publish_propose(
    *, version: DocumentTemplateVersion, by: Any, note: str = ""
) -> FrameworkChange:
    """Propose publishing a draft as it is now (its sections and note). It is published
    when another governance lead signs the approval."""
    _require_lead(by)
    version = (
        DocumentTemplateVersion.objects.select_for_update()
        .select_related("template")
        .get(pk=version.pk)
    )
    if version.is_published:
        raise ValidationError(f"{version} is published and cannot be changed.", code=CONFLICT)
    content = _publish_content(version, note or version.note)
    return framework_change_propose(
        kind=KIND,
        target_key=f"document_template_version:{version.pk}",
        content=content,
        by=by,
        reason=content["note"],
        base_sha256=entries_sha256(content["sections"]),
    )


def template_publish_apply(*, change: FrameworkChange, by: Any) -> DocumentTemplateVersion:
    """Publish the draft exactly as proposed (the approval's transaction). Refused when
    the draft is gone, published, or its sections changed since it was proposed."""
    content = change.content
    version = (
        DocumentTemplateVersion.objects.select_for_update()
        .filter(pk=content["document_template_version"])
        .first()
    )
    if version is None or version.is_published:
        raise ValidationError("The proposed draft is no longer a draft; nothing was published.")
    if template_entries(version) != content["sections"]:
        raise ValidationError(
            "The draft's sections changed since it was proposed; propose it again."
        )
    version.status = DocumentTemplateVersion.Status.PUBLISHED
    version.published_by = by
    version.published_at = timezone.now()
    version.note = content["note"]
    version.save(update_fields=["status", "published_by", "published_at", "note"])
    audit_record(
        action="document_template.published",
        obj=version,
        actor=by,
        reason=content["note"],
        changes={"status": ["draft", "published"], "framework_change": [None, change.pk]},
    )
    return version
