"""Step 5 API: obligations per use case (read for every role; ``?use_case=<id>``,
``?active=false`` for superseded ones) and the evidence / accept / waive actions, each
checked again in the services (403 / 400, nothing written)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.serializers import OnlyTheseFieldsMixin
from core import obligation_rules
from governance.filters import ObligationFilterSet
from governance.models import Obligation, ObligationEvent
from governance.selectors import obligation_list
from governance.services import obligation_accept, obligation_submit_evidence, obligation_waive
from inventory.selectors import use_cases_visible_q


class ObligationEventSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ObligationEvent
        fields = ["kind", "by", "at", "detail", "reason"]


class ObligationSerializer(serializers.ModelSerializer):
    consideration = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    evidence_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy_version = serializers.IntegerField(source="policy_version.number", read_only=True)
    events = ObligationEventSerializer(many=True, read_only=True)
    scope = serializers.SerializerMethodField()
    evidence_items = serializers.SerializerMethodField()

    def get_scope(self, obj) -> str:
        return obligation_rules.scope_of(obj.consideration.code)

    def get_evidence_items(self, obj) -> list[dict[str, str]]:
        """What the evidence must cover, from the measure's parameters."""
        return [
            {"code": code, "label": label}
            for code, label in obligation_rules.evidence_items(
                obj.consideration.code, obj.parameters
            )
        ]

    class Meta:
        model = Obligation
        fields = [
            "id",
            "use_case",
            "model_version",
            "scope",
            "consideration",
            "level",
            "text",
            "parameters",
            "why",
            "policy_version",
            "owner",
            "status",
            "due_date",
            "active",
            "created_at",
            "superseded_at",
            "evidence_link",
            "evidence_name",
            "evidence_sha256",
            "evidence_size",
            "evidence_by",
            "evidence_at",
            "evidence_version",
            "evidence_artifact_sha256",
            "evidence_items",
            "evidence_covers",
            "events",
        ]
        read_only_fields = fields


# The list's order (its docstring says it, and so does the schema): what the partial
# index obligation_active_by_use_case holds.
LIST_ORDER = ("use_case_id", "id")


class EvidenceInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    link = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    file = serializers.FileField(required=False)
    covers = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="The evidence items this evidence covers (default: all of them).",
    )


class WaiveInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    justification = serializers.CharField(max_length=2000)


class ObligationViewSet(ListFiltersOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """The list shows active obligations unless ``?active=false``, ordered by use case
    id, then obligation id (oldest first): a stable order an index serves, so a page of
    a portfolio's 100,000 obligations costs the same as the first. A detail URL or an
    action finds an obligation whether active or superseded."""

    serializer_class = ObligationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ObligationFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return obligation_list(active=None).filter(use_cases_visible_q(user=self.request.user))

    def list(self, request, *args, **kwargs):
        # Counted and paged by id from the obligation_active_by_use_case index, then only
        # the page's rows read with their joins (issue 18: sorting 100,000 joined rows
        # before paging took 155 ms on SQLite).
        ids = self.filter_queryset(
            Obligation.objects.filter(use_cases_visible_q(user=request.user))
        ).order_by(*LIST_ORDER)
        page = self.paginate_queryset(ids.values_list("pk", flat=True))
        found = self.get_queryset().in_bulk(page)
        rows = [found[pk] for pk in page if pk in found]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(request=EvidenceInputSerializer, responses=ObligationSerializer)
    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        """Submit a link or a file (multipart) as evidence."""
        obligation = self.get_object()
        data = EvidenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obligation_submit_evidence(
            obligation=obligation,
            by=request.user,
            link=data.validated_data.get("link", ""),
            file=data.validated_data.get("file"),
            covers=data.validated_data.get("covers"),
        )
        return Response(ObligationSerializer(self.get_queryset().get(pk=obligation.pk)).data)

    @extend_schema(request=None, responses=ObligationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        obligation = self.get_object()
        obligation_accept(obligation=obligation, by=request.user)
        return Response(ObligationSerializer(self.get_queryset().get(pk=obligation.pk)).data)

    @extend_schema(request=WaiveInputSerializer, responses=ObligationSerializer)
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        obligation = self.get_object()
        data = WaiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obligation_waive(
            obligation=obligation,
            by=request.user,
            justification=data.validated_data["justification"],
        )
        return Response(ObligationSerializer(self.get_queryset().get(pk=obligation.pk)).data)
