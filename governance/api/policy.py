"""Step 4 API: considerations and their measures, measure levels, policies and their
versions (with cells), the regulations' requirements, and the merged requirements for
a tier and a set of regulations.

Everyone with a role reads. Governance leads create a draft (POST policy-versions/),
set its cells (POST policy-versions/{id}/cells/), propose it for publication (POST
.../publish/: four eyes, see framework-changes/) or
discard it (DELETE). A published version is never edited: 409 with a clear message.
"""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from accounts.permissions import IsGovernanceLeadOrReadOnly
from accounts.serializers import OnlyTheseFieldsMixin
from core import policy_rules
from governance.api.framework_changes import FrameworkChangeSerializer
from governance.filters import PolicyVersionFilterSet, RequirementFilterSet
from governance.models import (
    Consideration,
    Measure,
    Policy,
    PolicyCell,
    PolicyVersion,
    Requirement,
    RequirementMinimum,
)
from governance.selectors import (
    consideration_list,
    measure_levels,
    policy_draft,
    policy_list,
    policy_published_latest,
    policy_requirements_for,
    policy_version_get,
    policy_version_list,
    requirement_list,
)
from governance.services import (
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
    policy_publish_propose,
)
from inventory.choices import RiskTier

# --- Serializers ------------------------------------------------------------------------


class MeasureSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Measure
        fields = ["level", "level_label", "text", "parameters"]


class ConsiderationSerializer(serializers.ModelSerializer):
    """A governance consideration, its measures per level and its parameter schema."""

    measures = serializers.SerializerMethodField()
    parameter_schema = serializers.SerializerMethodField()

    class Meta:
        model = Consideration
        fields = ["id", "code", "name", "description", "order", "parameter_schema", "measures"]

    @extend_schema_field(MeasureSerializer(many=True))
    def get_measures(self, consideration: Consideration) -> list:
        measures = sorted(
            consideration.measures.all(), key=lambda m: policy_rules.LEVEL_RANK.get(m.level, 0)
        )
        return MeasureSerializer(measures, many=True).data

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_parameter_schema(self, consideration: Consideration) -> dict:
        return policy_rules.schema_as_data(consideration.code)


class MeasureLevelSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    rank = serializers.IntegerField(help_text="0 (none) to 3 (strict).")


class PolicyCellSerializer(serializers.ModelSerializer):
    tier_label = serializers.CharField(source="get_tier_display", read_only=True)
    consideration = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = PolicyCell
        fields = ["tier", "tier_label", "consideration", "level", "level_label"]


class PolicyVersionSerializer(serializers.ModelSerializer):
    """A policy version: a draft, or a published, immutable matrix of cells."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    cells = PolicyCellSerializer(many=True, read_only=True)

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "policy",
            "status",
            "number",
            "label",
            "based_on",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
            "change_note",
            "cells",
        ]
        read_only_fields = fields


class PolicySerializer(serializers.ModelSerializer):
    latest_published = serializers.SerializerMethodField()
    draft = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = ["id", "code", "name", "description", "latest_published", "draft"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_latest_published(self, policy: Policy) -> int | None:
        if hasattr(policy, "latest_published_id"):  # annotated by policy_list()
            return policy.latest_published_id
        version = policy_published_latest(policy=policy)
        return version.pk if version else None

    @extend_schema_field(OpenApiTypes.INT)
    def get_draft(self, policy: Policy) -> int | None:
        if hasattr(policy, "draft_id"):  # annotated by policy_list()
            return policy.draft_id
        version = policy_draft(policy=policy)
        return version.pk if version else None


class RequirementMinimumSerializer(serializers.ModelSerializer):
    consideration = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # A plain string (one of the measure levels), so the schema keeps a single enum
    # (LevelEnum) for the measure levels.
    min_level = serializers.CharField(read_only=True, help_text="none, light, medium or strict.")

    class Meta:
        model = RequirementMinimum
        fields = ["consideration", "min_level"]


class RequirementSerializer(serializers.ModelSerializer):
    regulation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    minimums = RequirementMinimumSerializer(many=True, read_only=True)

    class Meta:
        model = Requirement
        fields = ["id", "code", "regulation", "text", "minimums"]


class DraftCreateSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all())


class CellInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    # Plain fields: the service names unknown tiers, considerations and levels.
    tier = serializers.IntegerField()
    consideration = serializers.CharField()
    level = serializers.CharField(allow_blank=True, allow_null=True)


class CellsInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    cells = CellInputSerializer(many=True, allow_empty=False)


class PublishInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=1000)


TIER_MESSAGE = "Give a risk tier: 1, 2, 3 or 4."


class PolicyRequirementsInputSerializer(serializers.Serializer):
    """``?tier=&regulations=`` of ``policies/requirements/``."""

    tier = serializers.ChoiceField(
        choices=RiskTier.choices,
        help_text="Risk tier 1-4.",
        error_messages={"invalid_choice": TIER_MESSAGE, "required": TIER_MESSAGE},
    )
    regulations = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Comma-separated codes."
    )

    def validate_regulations(self, value: str) -> list[str]:
        return [code.strip() for code in value.split(",") if code.strip()]


class PolicyRequirementSerializer(serializers.Serializer):
    consideration = serializers.CharField()
    level = serializers.CharField()
    text = serializers.CharField()
    parameters = serializers.DictField()
    why = serializers.CharField()


# --- Views ----------------------------------------------------------------------------


class ConsiderationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ConsiderationSerializer
    lookup_field = "code"
    filter_backends = [OrderingFilter]
    ordering_fields = ["order", "code"]
    ordering = ["order", "id"]

    def get_queryset(self) -> QuerySet[Consideration]:
        return consideration_list()


class MeasureLevelViewSet(viewsets.ViewSet):
    """The measure levels, least strict first."""

    @extend_schema(responses=MeasureLevelSerializer(many=True))
    def list(self, request):
        return Response(MeasureLevelSerializer(measure_levels(), many=True).data)


class PolicyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PolicySerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["id", "code"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Policy]:
        return policy_list()

    @extend_schema(
        parameters=[PolicyRequirementsInputSerializer],
        responses=PolicyRequirementSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def requirements(self, request):
        """What a use case of a tier under some regulations owes on each consideration
        under the latest published policy: the stricter of the policy cell and the
        regulations' minimums, and why."""
        data = PolicyRequirementsInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        result = policy_requirements_for(
            tier=data.validated_data["tier"], regulation_codes=data.validated_data["regulations"]
        )
        data = [{"consideration": code, **r._asdict()} for code, r in result.items()]
        return Response(PolicyRequirementSerializer(data, many=True).data)


class PolicyVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Policy versions with their cells, newest first (drafts on top). Filter with
    ``?policy=<id>`` and ``?status=draft|published``."""

    serializer_class = PolicyVersionSerializer
    permission_classes = [IsGovernanceLeadOrReadOnly]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PolicyVersionFilterSet
    ordering_fields = ["number", "published_at", "created_at"]

    def get_queryset(self) -> QuerySet[PolicyVersion]:
        return policy_version_list()

    def _draft_or_409(self) -> PolicyVersion | Response:
        version = self.get_object()
        if not version.is_draft:
            return Response(
                {
                    "detail": f"Version {version.label} is published and cannot be changed; "
                    "create a draft (POST policy-versions/) and edit that."
                },
                status=status.HTTP_409_CONFLICT,
            )
        return version

    @extend_schema(request=DraftCreateSerializer, responses={201: PolicyVersionSerializer})
    def create(self, request, *args, **kwargs):
        """Create a draft of a policy, a copy of its latest published version."""
        data = DraftCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = policy_draft_create(policy=data.validated_data["policy"], by=request.user)
        return Response(
            PolicyVersionSerializer(policy_version_get(pk=draft.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=CellsInputSerializer, responses=PolicyVersionSerializer)
    @action(detail=True, methods=["post"])
    def cells(self, request, pk=None):
        """Set the level of one or more cells of a draft (all or nothing)."""
        version = self._draft_or_409()
        if isinstance(version, Response):
            return version
        data = CellsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cells = {(c["tier"], c["consideration"]): c["level"] for c in data.validated_data["cells"]}
        policy_cells_set(version=version, cells=cells, by=request.user)
        return Response(PolicyVersionSerializer(policy_version_get(pk=version.pk)).data)

    @extend_schema(request=PublishInputSerializer, responses={202: FrameworkChangeSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Propose a draft for publication with a change note (202, the proposal). It
        is published, with the next version number, when another governance lead signs
        the approval (POST framework-changes/{id}/approve/)."""
        version = self._draft_or_409()
        if isinstance(version, Response):
            return version
        data = PublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = policy_publish_propose(
            version=version, by=request.user, note=data.validated_data["note"]
        )
        return Response(FrameworkChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)

    def destroy(self, request, *args, **kwargs):
        """Discard a draft (published versions are never deleted)."""
        version = self._draft_or_409()
        if isinstance(version, Response):
            return version
        policy_draft_discard(version=version, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RequirementViewSet(viewsets.ReadOnlyModelViewSet):
    """Regulations' requirements and the minimum measure level each sets on
    considerations. Filter with ``?regulation=<code>``."""

    serializer_class = RequirementSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = RequirementFilterSet
    ordering_fields = ["code"]
    ordering = ["regulation__name", "order", "id"]

    def get_queryset(self) -> QuerySet[Requirement]:
        return requirement_list()
