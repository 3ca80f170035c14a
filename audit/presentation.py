"""The change history as people read it (issue 18): each change under its field's label
with the values as the product shows them (a choice's label, a related object's name,
a mapping as "label: value" pairs, a web address as a link), and the action as words,
not the stored codes. The stored events are unchanged: only their display is."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from audit.models import AuditEvent, display_value
from audit.registry import model_for_label


def _label(model: type[models.Model] | None, name: str) -> tuple[str, dict]:
    """The field's label and its choices (value -> label), or the name in words."""
    field = None
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
    if field is None or not hasattr(field, "verbose_name"):
        return capfirst(name.replace("_", " ")), {}
    return capfirst(str(field.verbose_name)), dict(getattr(field, "flatchoices", None) or [])


def _value(value, choices: dict) -> str:
    if choices and isinstance(value, list):
        return ", ".join(str(choices.get(v, v)) for v in value) or "—"
    if choices and not isinstance(value, dict | list) and value in choices:
        return str(choices[value])
    if isinstance(value, dict) and not ("id" in value and "repr" in value):
        pairs = [
            f"{capfirst(str(k).replace('_', ' '))}: {display_value(v)}" for k, v in value.items()
        ]
        return "; ".join(pairs) or "—"
    return display_value(value)


def action_label(action: str) -> str:
    """ "promotion.blocking_waived" -> "Promotion: blocking waived"; "update" -> "Update"."""
    subject, _, verb = action.rpartition(".")
    if not subject:
        return capfirst(verb.replace("_", " "))
    return f"{capfirst(subject.replace('_', ' '))}: {verb.replace('_', ' ')}"


def labelled_history(events: list[AuditEvent]) -> list[AuditEvent]:
    """The events, each with ``labelled_changes`` ({field, old, new, old_url, new_url})
    and ``action_label`` set for the history partial."""
    for event in events:
        model = model_for_label(event.object_type)
        rows = []
        for name, change in (event.changes or {}).items():
            old, new = (
                change if isinstance(change, list | tuple) and len(change) == 2 else (None, change)
            )
            label, choices = _label(model, name)
            row = {"field": label, "old": _value(old, choices), "new": _value(new, choices)}
            for key in ("old", "new"):
                row[f"{key}_url"] = row[key] if row[key].startswith(("https://", "http://")) else ""
            rows.append(row)
        event.labelled_changes = rows
        event.action_label = action_label(event.action)
    return events
