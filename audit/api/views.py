"""The audit trail, read-only, for governance leads, risk officers and auditors:
``/api/v1/audit-events/`` with the filters of the audit page (object_type,
object_id, with_related, actor, action, date_from, date_to, q). Values are returned
exactly as recorded, with the hashes that chain them.

Routed by ``audit/api/urls.py`` (namespace ``audit-api``).
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import BasePermission

from audit.models import AuditEvent
from audit.selectors import AuditEventFilterSet, audit_event_list, can_read_audit_trail


class CanReadAuditTrail(BasePermission):
    message = "The audit trail is open to governance leads, risk officers and auditors."

    def has_permission(self, request, view) -> bool:
        return can_read_audit_trail(request.user)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "parent_type",
            "parent_id",
            "changes",
            "reason",
            "context",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every change of a governed object and every workflow event, newest first."""

    serializer_class = AuditEventSerializer
    permission_classes = [CanReadAuditTrail]
    filterset_class = AuditEventFilterSet
    ordering_fields = ["seq", "occurred_at"]
    # Free text is the filter set's ``q`` (as on the page), not DRF's ``search``.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    lookup_field = "seq"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return audit_event_list()
