"""Reads of document templates: the template a new document follows (the latest
published version of its kind, else the built-in sections) and a version's sections as
a proposal holds them."""

from __future__ import annotations

import hashlib
from typing import Any

from core.audit_chain import canonical_json
from core.documents import sections
from documents.models import DocumentTemplateVersion

BUILT_IN = "built-in"


def template_entries(version: DocumentTemplateVersion) -> list[dict[str, Any]]:
    """A version's sections, in order, as documents and proposals use them."""
    return [
        {"key": s.key, "title": s.title, "guidance": s.guidance, "included": s.included}
        for s in version.sections.order_by("order", "id")
    ]


def entries_sha256(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(entries).encode("utf-8")).hexdigest()


def template_current(kind: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the sections a new document of ``kind`` follows, what the document records of
    its template: name, version, SHA-256 of the sections)."""
    version = (
        DocumentTemplateVersion.objects.filter(
            template__kind=kind, status=DocumentTemplateVersion.Status.PUBLISHED
        )
        .select_related("template")
        .order_by("-number")
        .first()
    )
    if version is None:
        entries = sections.default_template(kind)
        return entries, {"name": BUILT_IN, "version": 1, "sha256": entries_sha256(entries)}
    entries = template_entries(version)
    return entries, {
        "name": version.template.name,
        "version": version.number,
        "sha256": entries_sha256(entries),
    }
