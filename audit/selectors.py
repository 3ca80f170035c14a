"""Reads of the audit trail: an object's history, the filtered global list, and who
may read it. The FilterSet here is shared by the audit page, its exports and the API.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Model, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.filters import BooleanFilter, StrictCheckboxInput
from accounts.permissions import AnyUser, has_role
from accounts.roles import Role
from audit.models import AuditEvent
from audit.registry import labels_of, registered_labels

AUDIT_ROLES = (Role.GOVERNANCE_LEAD, Role.RISK_OFFICER, Role.AUDITOR)
HISTORY_LIMIT = 50


def can_read_audit_trail(user: AnyUser) -> bool:
    """Governance leads, risk officers and auditors read the whole trail."""
    return has_role(user, *AUDIT_ROLES)


def audit_event_list() -> QuerySet[AuditEvent]:
    """Every event, newest first, with its actor."""
    return AuditEvent.objects.select_related("actor").order_by("-seq")


def audit_history_for(obj: Model, *, limit: int | None = HISTORY_LIMIT) -> list[AuditEvent]:
    """The newest events of one object and of the objects that belong to it (a use
    case's RACI cells, a model's versions), newest first; at most ``limit``."""
    labels, pk = labels_of(obj._meta.label_lower), str(obj.pk)
    events = audit_event_list().filter(
        Q(object_type__in=labels, object_id=pk) | Q(parent_type__in=labels, parent_id=pk)
    )
    return list(events[:limit] if limit else events)


def audit_object_types() -> list[str]:
    """The governed object types (``app_label.model``), for the filter's suggestions;
    from the registry rather than a DISTINCT over the whole trail."""
    return registered_labels()


class AuditEventFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(
        method="filter_nothing",
        label="Object type",
        widget=forms.TextInput(attrs={"list": "audit-object-types", "placeholder": "app.model"}),
    )
    object_id = django_filters.CharFilter(method="filter_nothing", label="Object id")
    with_related = BooleanFilter(
        method="filter_nothing",
        label="Include what belongs to it",
        widget=StrictCheckboxInput,
    )
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="icontains", label="Who (user name)"
    )
    action = extend_schema_field(OpenApiTypes.STR)(
        django_filters.CharFilter(method="filter_action", label="Action")
    )
    date_from = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__gte",
        label="From (UTC date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__lte",
        label="To (UTC date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = AuditEvent
        fields = [
            "object_type",
            "object_id",
            "with_related",
            "actor",
            "action",
            "date_from",
            "date_to",
            "q",
        ]

    def filter_nothing(self, queryset, name, value):
        return queryset  # object_type, object_id, with_related: see filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        object_type = (data.get("object_type") or "").strip()
        object_id = (data.get("object_id") or "").strip()
        if not (object_type or object_id):
            return queryset
        own, belongs = Q(), Q()
        if object_type:
            labels = labels_of(object_type)
            own &= Q(object_type__in=labels)
            belongs &= Q(parent_type__in=labels)
        if object_id:
            own &= Q(object_id=object_id)
            belongs &= Q(parent_id=object_id)
        if data.get("with_related"):
            return queryset.filter(own | belongs)
        return queryset.filter(own)

    def filter_action(self, queryset, name, value):
        """An exact action ("update"), or a family ending with a dot ("promotion.")."""
        value = value.strip()
        if not value:
            return queryset
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(object_repr__icontains=value)
            | Q(actor_label__icontains=value)
            | Q(reason__icontains=value)
            | Q(action__icontains=value)
            | Q(changes__icontains=value)
        )
