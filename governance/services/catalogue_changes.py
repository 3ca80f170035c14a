"""Four eyes on the framework's catalogue (issue 12): the considerations and their
measures (texts and machine-readable parameters, read live by
``policy_requirements_for`` wherever a regulation raises a level), the regulations'
requirements and their minimums, the regulations, the Step 1 questionnaire, the RACI
roles and the default RACI template. One governance lead's
edit in the admin site is a proposal (``FrameworkChange`` of kind ``catalogue_edit``);
it takes effect only when a second lead signs its approval, exactly as proposed.

A proposal's content names the row (``model`` and ``pk``, None for a new row), its
fields as they would be, and for each child relation (a consideration's measures, a
requirement's minimums, a question's options) the complete list of children as they
would be: a child not listed is deleted, a listed one without ``id`` is created. The
row's content when proposed is hashed (``base_sha256``): if it changed meanwhile the
approval applies nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from accounts.permissions import is_governance_lead
from governance.models import (
    Consideration,
    FrameworkChange,
    Measure,
    RaciRole,
    RaciTask,
    RaciTemplateCell,
    Requirement,
    RequirementMinimum,
    RiskQuestion,
    RiskQuestionOption,
)
from governance.services import framework_content as fc
from inventory.models import Regulation


@dataclass(frozen=True)
class Child:
    model: type[models.Model]
    fk: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    model: type[models.Model]
    fields: tuple[str, ...]
    children: dict[str, Child] = field(default_factory=dict)
    # Whether an approved change recomputes every use case's obligations (what is owed
    # follows the measures and the requirements; a question's wording changes no class,
    # and an option a rule uses cannot be removed).
    recompute_obligations: bool = False


CATALOGUE: dict[str, Entry] = {
    "governance.consideration": Entry(
        Consideration,
        ("code", "name", "description", "order"),
        {"measures": Child(Measure, "consideration", ("level", "text", "parameters"))},
        True,
    ),
    "governance.measure": Entry(
        Measure, ("consideration", "level", "text", "parameters"), {}, True
    ),
    "governance.requirement": Entry(
        Requirement,
        ("regulation", "code", "text", "order"),
        {"minimums": Child(RequirementMinimum, "requirement", ("consideration", "min_level"))},
        True,
    ),
    "governance.riskquestion": Entry(
        RiskQuestion,
        ("code", "text", "help_text", "kind", "source", "dimension", "required", "order"),
        {"options": Child(RiskQuestionOption, "question", ("code", "label", "order"))},
    ),
    # The regulations (their names, areas and descriptions; the code is what answers,
    # rules and requirements refer to) and the RACI roles (the matrix's columns).
    "inventory.regulation": Entry(
        Regulation, ("code", "name", "area", "jurisdiction", "description")
    ),
    "governance.racirole": Entry(RaciRole, ("code", "name", "level", "order")),
    # The default RACI (Step 3): who a new use case's matrix names Accountable.
    "governance.racitask": Entry(
        RaciTask,
        ("code", "name", "description", "order"),
        {"template_cells": Child(RaciTemplateCell, "task", ("role", "letters"))},
    ),
}


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _value(obj: models.Model, name: str) -> Any:
    return getattr(obj, obj._meta.get_field(name).attname)


def _fields(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(obj, name) for name in names}


def catalogue_content(obj: models.Model) -> dict:
    """A catalogue row as it is now (fields and children), in the form proposals hold."""
    entry = CATALOGUE[_label(type(obj))]
    children = {}
    for relation, child in entry.children.items():
        rows = child.model.objects.filter(**{child.fk: obj}).order_by("id")
        children[relation] = [{"id": row.pk, **_fields(row, child.fields)} for row in rows]
    return {
        "model": _label(type(obj)),
        "pk": obj.pk,
        "fields": _fields(obj, entry.fields),
        "children": children,
    }


def catalogue_proposed_content(
    *, obj: models.Model, children: dict[str, list[models.Model]]
) -> dict:
    """The content a form left in ``obj`` (unsaved) and in the child instances that
    would remain (unsaved; those with a pk are updates)."""
    entry = CATALOGUE[_label(type(obj))]
    return {
        "model": _label(type(obj)),
        "pk": obj.pk,
        "fields": _fields(obj, entry.fields),
        "children": {
            relation: [
                {"id": row.pk, **_fields(row, child.fields)}
                for row in sorted(children.get(relation, []), key=lambda r: (r.pk is None, r.pk))
            ]
            for relation, child in entry.children.items()
        },
    }


def catalogue_change_propose(*, content: dict, by: User, reason: str) -> FrameworkChange:
    """Propose a catalogue row's new content (call inside the caller's transaction).

    Raises PermissionDenied for anyone but a governance lead; ValidationError for an
    unknown kind of row, a row that is gone, or content equal to the row's.
    """
    from governance.services.framework_changes import framework_change_propose

    if not is_governance_lead(by):
        raise PermissionDenied("Only governance leads propose changes to the framework.")
    entry = CATALOGUE.get(content.get("model"))
    if entry is None:
        raise ValidationError("This part of the framework is not changed by proposals.")
    base = ""
    pk = content.get("pk")
    if pk is not None:
        obj = entry.model.objects.select_for_update().filter(pk=pk).first()
        if obj is None:
            raise ValidationError("This row no longer exists.")
        current = catalogue_content(obj)
        if current == content:
            raise ValidationError("Nothing changed; there is nothing to propose.")
        base = fc.content_sha256(current)
    target = f"catalogue:{content['model']}:{pk}"
    if pk is None:  # each new row is its own target
        target = f"catalogue:{content['model']}:new:{fc.content_sha256(content)[:16]}"
    return framework_change_propose(
        kind=FrameworkChange.Kind.CATALOGUE_EDIT,
        target_key=target,
        content=content,
        by=by,
        reason=reason,
        base_sha256=base,
    )


def _apply_children(obj: models.Model, entry: Entry, children: dict[str, list[dict]]) -> None:
    for relation, child in entry.children.items():
        rows = children.get(relation, [])
        existing = {row.pk: row for row in child.model.objects.filter(**{child.fk: obj})}
        keep = {row["id"] for row in rows if row.get("id") is not None}
        for pk, row in existing.items():
            if pk not in keep:
                row.delete()
        for data in rows:
            row = existing.get(data.get("id")) if data.get("id") is not None else None
            if row is None:
                row = child.model(**{child.fk: obj})
            for name in child.fields:
                setattr(row, row._meta.get_field(name).attname, data[name])
            row.full_clean()
            row.save()


def catalogue_apply(*, change: FrameworkChange, by: User) -> models.Model:
    """Apply an approved catalogue change exactly as proposed (each write audited by
    the trail's capture) and queue what follows it. Raises ValidationError when the
    row changed since the proposal or the content no longer fits (nothing applied)."""
    from governance.services.obligations import obligations_recompute_later

    content = change.content
    entry = CATALOGUE.get(content.get("model"))
    if entry is None:
        raise ValidationError("Unknown kind of catalogue row; nothing applied.")
    if content.get("pk") is not None:
        obj = entry.model.objects.select_for_update().filter(pk=content["pk"]).first()
        if obj is None or fc.content_sha256(catalogue_content(obj)) != change.base_sha256:
            raise ValidationError(
                "This part of the framework changed since it was proposed; propose it again."
            )
    else:
        obj = entry.model()
    for name in entry.fields:
        setattr(obj, obj._meta.get_field(name).attname, content["fields"][name])
    obj.full_clean()
    obj.save()
    _apply_children(obj, entry, content.get("children") or {})
    if entry.recompute_obligations:
        obligations_recompute_later(
            use_case=None, by=by, reason=f"Framework change #{change.pk}: {change.reason}"
        )
    return obj
