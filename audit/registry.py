"""Generic capture of creates, updates, deletes and many-to-many changes of governed
models into the audit trail.

Each app registers its governed models when it is ready::

    from audit import registry as audit

    audit.register(PromotionRequest, parent="version", exclude=("updated_at",))

From then on every ``save()`` and ``delete()`` of such a row (from a page, the API,
the admin, a task or a command) records one event: ``create`` with every field as
[None, value], ``update`` with the changed fields only as [old, new], ``delete`` with
the last values as [value, None]. Foreign keys are stored as {"id", "repr"}; many-to-
many fields as the sorted lists before and after. ``auto_now`` / ``auto_now_add``
timestamps are left out (the event has its own time).

Signals are the one exception to "no signals" in this code base: the audit trail is
not a domain rule, and catching every write in one place is what makes it complete.
Bulk writes (``QuerySet.update``, ``bulk_create``, ``bulk_update``) send no signals
and are not captured; a service that uses them records its own ``audit_record``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

_OLD = "_audit_old_values"
_GONE = "_audit_deleted_values"
REDACTED = "(changed)"


@dataclass(frozen=True)
class Registration:
    """How one model is captured."""

    model: type[models.Model]
    exclude: frozenset[str]
    redact: frozenset[str]
    parent: str | None
    reason_field: str | None
    action: Callable[[models.Model, str, dict], str | None] | None
    m2m: tuple[str, ...] = field(default=())

    def fields(self) -> list[models.Field]:
        return [
            f
            for f in self.model._meta.concrete_fields
            if f.name not in self.exclude
            and not f.primary_key
            and not getattr(f, "auto_now", False)
            and not getattr(f, "auto_now_add", False)
        ]


_registry: dict[type[models.Model], Registration] = {}
_through: dict[type[models.Model], list[tuple[Registration, models.ManyToManyField]]] = {}


def register(
    model: type[models.Model],
    *,
    exclude: Iterable[str] = (),
    redact: Iterable[str] = (),
    parent: str | None = None,
    reason_field: str | None = None,
    action: Callable[[models.Model, str, dict], str | None] | None = None,
) -> None:
    """Record every create, update and delete of ``model`` in the audit trail.

    Args:
        exclude: field names left out (derived bookkeeping).
        redact: fields whose values are never stored; a change shows as "(changed)".
        parent: the foreign key, or a dotted path ending in one ("obligation.use_case"),
            naming the object whose history also shows these events.
        reason_field: a field of the row whose value is the event's reason (a note).
        action: ``action(instance, kind, changes)`` -> an action slug for the event
            (e.g. "policy.published") or None for the plain kind (create / update /
            delete).

    Registering a model twice replaces its registration.
    """
    exclude = frozenset(exclude)
    m2m = tuple(
        f.name
        for f in model._meta.many_to_many
        if f.name not in exclude and isinstance(f, models.ManyToManyField)
    )
    registration = Registration(
        model=model,
        exclude=exclude,
        redact=frozenset(redact),
        parent=parent,
        reason_field=reason_field,
        action=action,
        m2m=m2m,
    )
    _registry[model] = registration
    uid = f"audit:{model._meta.label_lower}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=f"{uid}:pre_save")
    post_save.connect(_post_save, sender=model, dispatch_uid=f"{uid}:post_save")
    pre_delete.connect(_pre_delete, sender=model, dispatch_uid=f"{uid}:pre_delete")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=f"{uid}:post_delete")
    for name in m2m:
        m2m_field = model._meta.get_field(name)
        through = m2m_field.remote_field.through
        entries = [e for e in _through.get(through, []) if e[0].model is not model]
        _through[through] = [*entries, (registration, m2m_field)]
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}:m2m:{name}")


def registered_labels() -> list[str]:
    """The ``app_label.model`` of every registered model, sorted."""
    return sorted(m._meta.label_lower for m in _registry)


# --- Values -------------------------------------------------------------------------


def _related_value(related_model, pk) -> dict | None:
    if pk is None:
        return None
    obj = related_model._base_manager.filter(pk=pk).first()
    return {"id": pk, "repr": _repr(obj) if obj is not None else "(deleted)"}


def _repr(obj) -> str:
    try:
        return str(obj)[:200]
    except Exception:  # noqa: BLE001 - a broken __str__ must not stop the audit
        return f"#{obj.pk}"


def _comparable(f: models.Field, value: Any) -> Any:
    """A field value in one form whether it came from the instance or the database."""
    from core.audit_chain import jsonable

    if value is None:
        return None
    with contextlib.suppress(Exception):  # compare what we have
        value = f.to_python(value)
    if isinstance(f, models.FileField):
        return getattr(value, "name", value) or ""
    return jsonable(value)


def _display(reg: Registration, f: models.Field, value: Any, instance=None) -> Any:
    """A comparable value as stored in ``changes``: foreign keys with their name."""
    if f.name in reg.redact:
        return REDACTED if value not in (None, "") else value
    if f.is_relation and value is not None:
        cached = None
        if instance is not None and f.is_cached(instance):
            cached = f.get_cached_value(instance)
        if cached is not None and cached.pk == value:
            return {"id": value, "repr": _repr(cached)}
        return _related_value(f.related_model, value)
    return value


def _snapshot(reg: Registration, instance, names: Iterable[str] | None = None) -> dict:
    fields = reg.fields()
    if names is not None:
        wanted = set(names)
        fields = [f for f in fields if f.name in wanted or f.attname in wanted]
    return {f.name: _comparable(f, getattr(instance, f.attname)) for f in fields}


def _parent(reg: Registration, instance) -> tuple[str, str]:
    if not reg.parent:
        return "", ""
    *path, last = reg.parent.split(".")
    obj = instance
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return "", ""
    f = obj._meta.get_field(last)
    pk = getattr(obj, f.attname)
    if pk is None:
        return "", ""
    return f.related_model._meta.label_lower, str(pk)


def _record(reg: Registration, instance, kind: str, changes: dict) -> None:
    from audit.services import audit_record

    action = (reg.action(instance, kind, changes) if reg.action else None) or kind
    reason = ""
    if reg.reason_field and kind != "delete":
        reason = str(getattr(instance, reg.reason_field, "") or "")
    parent_type, parent_id = _parent(reg, instance)
    audit_record(
        action=action,
        obj=instance,
        changes=changes,
        reason=reason,
        parent_type=parent_type,
        parent_id=parent_id,
    )


# --- Signal handlers ----------------------------------------------------------------


def _pre_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    reg = _registry.get(sender)
    if reg is None:
        return
    instance.__dict__.pop(_OLD, None)
    if instance._state.adding or instance.pk is None:
        return
    fields = reg.fields()
    if update_fields is not None:
        wanted = set(update_fields)
        fields = [f for f in fields if f.name in wanted or f.attname in wanted]
    if not fields:  # e.g. save(update_fields=["last_login"]): nothing audited changes
        instance.__dict__[_OLD] = {}
        return
    row = sender._base_manager.filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    if row is not None:
        instance.__dict__[_OLD] = {f.name: _comparable(f, row[f.attname]) for f in fields}


def _post_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    reg = _registry.get(sender)
    if reg is None:
        return
    old = instance.__dict__.pop(_OLD, None)
    by_name = {f.name: f for f in reg.fields()}
    if created or old is None:
        new = _snapshot(reg, instance)
        changes = {
            name: [None, _display(reg, by_name[name], value, instance)]
            for name, value in new.items()
        }
        _record(reg, instance, "create", changes)
        return
    new = _snapshot(reg, instance, old.keys())
    changes = {
        name: [
            _display(reg, by_name[name], old[name]),
            _display(reg, by_name[name], new[name], instance),
        ]
        for name in old
        if old[name] != new[name]
    }
    if changes:
        _record(reg, instance, "update", changes)


def _pre_delete(sender, instance, **kwargs) -> None:
    reg = _registry.get(sender)
    if reg is None:
        return
    by_name = {f.name: f for f in reg.fields()}
    instance.__dict__[_GONE] = {
        "changes": {
            name: [_display(reg, by_name[name], value, instance), None]
            for name, value in _snapshot(reg, instance).items()
        },
        "parent": _parent(reg, instance),
        "repr": _repr(instance),
        "pk": instance.pk,
    }


def _post_delete(sender, instance, **kwargs) -> None:
    from audit.services import audit_record

    reg = _registry.get(sender)
    if reg is None:
        return
    gone = instance.__dict__.pop(_GONE, None)
    if gone is None:  # deleted without pre_delete (should not happen): record what we can
        gone = {"changes": {}, "parent": ("", ""), "repr": _repr(instance), "pk": instance.pk}
    action = (reg.action(instance, "delete", gone["changes"]) if reg.action else None) or "delete"
    audit_record(
        action=action,
        object_type=sender._meta.label_lower,
        object_id=gone["pk"],
        object_repr=gone["repr"],
        changes=gone["changes"],
        parent_type=gone["parent"][0],
        parent_id=gone["parent"][1],
    )


def _m2m_members(through, source_name: str, target_name: str, source_ids) -> dict:
    members: dict[Any, set] = {pk: set() for pk in source_ids}
    rows = through._base_manager.filter(**{f"{source_name}__in": list(source_ids)}).values_list(
        source_name, target_name
    )
    for source, target in rows:
        members.setdefault(source, set()).add(target)
    return members


_M2M_ACTIONS = frozenset(
    {"pre_add", "pre_remove", "pre_clear", "post_add", "post_remove", "post_clear"}
)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in _M2M_ACTIONS:
        return
    for reg, m2m_field in _through.get(sender, []):
        source_name = m2m_field.m2m_field_name()  # through FK to the registered model
        target_name = m2m_field.m2m_reverse_field_name()  # through FK to the other side
        key = f"_audit_m2m_{m2m_field.name}"
        if action.startswith("pre_"):
            if reverse:
                if pk_set is not None:
                    source_ids = set(pk_set)
                else:
                    source_ids = set(
                        sender._base_manager.filter(**{target_name: instance.pk}).values_list(
                            source_name, flat=True
                        )
                    )
            else:
                source_ids = {instance.pk}
            instance.__dict__[key] = _m2m_members(sender, source_name, target_name, source_ids)
            continue
        before = instance.__dict__.pop(key, None)
        if before is None:
            continue
        after = _m2m_members(sender, source_name, target_name, before.keys())
        target_model = m2m_field.related_model
        for source_id, old_ids in before.items():
            new_ids = after.get(source_id, set())
            if old_ids == new_ids:
                continue
            source = reg.model._base_manager.filter(pk=source_id).first() if reverse else instance
            if source is None:
                continue
            names = {
                pk: _repr(obj)
                for pk, obj in target_model._base_manager.in_bulk(old_ids | new_ids).items()
            }

            def listed(ids, names=names):
                return [{"id": pk, "repr": names.get(pk, "(deleted)")} for pk in sorted(ids)]

            _record(reg, source, "update", {m2m_field.name: [listed(old_ids), listed(new_ids)]})


# --- What the governance framework registers ----------------------------------------


# Labels under which a model's events were recorded before it moved to another app.
# Recorded events are never rewritten (they are hashed), so reads match both.
_former_labels: dict[str, tuple[str, ...]] = {}


def record_former_label(model: type[models.Model], *labels: str) -> None:
    """Say that ``model``'s events were once recorded as ``labels`` ("app.model")."""
    current = model._meta.label_lower
    _former_labels[current] = tuple(dict.fromkeys((*_former_labels.get(current, ()), *labels)))


def labels_of(label: str) -> list[str]:
    """``label`` and every label the same model was recorded under before."""
    return [label, *_former_labels.get(label, ())]


def model_for_label(label: str) -> type[models.Model] | None:
    """The registered model whose events are recorded as ``label`` (now or before it
    moved app), or None."""
    for model in _registry:
        current = model._meta.label_lower
        if label == current or label in _former_labels.get(current, ()):
            return model
    return None
