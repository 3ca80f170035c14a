"""A governance document as plain data: sections of blocks, built from records' facts
(no Django imports). The same content renders as HTML (then PDF) and as Word.

A block is one of:

- ``{"type": "text", "text": ...}``
- ``{"type": "facts", "rows": [[label, value], ...]}``
- ``{"type": "table", "columns": [...], "rows": [[...], ...]}``
- ``{"type": "missing", "text": ...}``: what the records do not provide yet, flagged
  in place
- ``{"type": "chart", "figure": name, "title": ..., "label": ...}``: a Plotly figure of
  the document's ``figures``

The **content hash** is the SHA-256 of the canonical JSON of everything but the
moment the document was made and who asked: the same records and the same template
give the same hash, whenever they are rendered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.audit_chain import canonical_json

Block = dict[str, Any]
Facts = Mapping[str, Any]
UNHASHED = ("generated_at", "generated_by")


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def facts(rows: Sequence[tuple[str, Any]]) -> Block:
    return {"type": "facts", "rows": [[label, show(value)] for label, value in rows]}


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Block:
    return {"type": "table", "columns": list(columns), "rows": [[show(v) for v in r] for r in rows]}


def missing(value: str) -> Block:
    return {"type": "missing", "text": value}


def chart(figure: str, title: str, label: str) -> Block:
    return {"type": "chart", "figure": figure, "title": title, "label": label}


def show(value: Any) -> str:
    """A value as people read it in a document."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    guidance: str
    build: Callable[[Facts], list[Block]]


@dataclass
class Section:
    key: str
    title: str
    guidance: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [b["text"] for b in self.blocks if b["type"] == "missing"]


def build_document(
    *,
    kind: str,
    title: str,
    specs: Mapping[str, SectionSpec],
    template: Sequence[Mapping[str, Any]],
    facts_: Facts,
    figures: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    template_version: Mapping[str, Any],
) -> dict[str, Any]:
    """The document's content: each section of the template, in its order, with its
    title and guidance, filled by its builder from the facts."""
    sections = []
    for entry in template:
        spec = specs.get(entry["key"])
        if spec is None or not entry.get("included", True):
            continue
        blocks = spec.build(facts_)
        sections.append(
            {
                "key": spec.key,
                "title": entry.get("title") or spec.title,
                "guidance": entry.get("guidance", spec.guidance),
                "blocks": blocks,
                "missing": [b["text"] for b in blocks if b["type"] == "missing"],
            }
        )
    used = {b["figure"] for s in sections for b in s["blocks"] if b["type"] == "chart"}
    return {
        "kind": kind,
        "title": title,
        "subject": facts_.get("subject", {}),
        "template": dict(template_version),
        "sections": sections,
        "figures": {name: figures[name] for name in sorted(used) if name in figures},
        "sources": list(sources),
        "missing_count": sum(len(s["missing"]) for s in sections),
    }


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical content, without when and for whom it was made."""
    body = {k: v for k, v in content.items() if k not in UNHASHED}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
