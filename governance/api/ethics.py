"""Step 2 API: the ethics questionnaires and their versions (with questions), the
answer sets (the organisation's position and each use case's answers) and the
approval of a position.

Everyone with a role reads. Writes: POST ethics-answer-sets/ answers a questionnaire
(no ``use_case``: the organisation's position, governance leads; with ``use_case``:
whoever may change that use case; an organisation answer set is a four-eyes proposal,
see framework-changes/); POST ethics-answer-sets/{id}/approve/ signs the approval of a
position (a governance lead other than the one who answered, password typed again,
browser session only). Answer sets are never
changed or deleted. Questionnaire versions are edited in the admin site.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from governance.api.framework_changes import via_token
from governance.filters import EthicsAnswerSetFilterSet, EthicsVersionFilterSet
from governance.models import (
    EthicsAnswerSet,
    EthicsQuestion,
    EthicsQuestionOption,
    EthicsTemplate,
    EthicsTemplateVersion,
)
from governance.selectors import (
    ethics_answer_set_list,
    ethics_position_current,
    ethics_position_pending,
    ethics_template_list,
    ethics_version_list,
)
from governance.services import (
    ethics_position_answer,
    ethics_position_approve,
    ethics_use_case_answer,
)
from inventory.selectors import use_case_list

# --- serializers ---------------------------------------------------------------------


class EthicsQuestionOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EthicsQuestionOption
        fields = ["code", "label", "order"]


class EthicsQuestionSerializer(serializers.ModelSerializer):
    options = EthicsQuestionOptionSerializer(many=True, read_only=True)

    class Meta:
        model = EthicsQuestion
        fields = [
            "code",
            "text",
            "help_text",
            "kind",
            "required",
            "order",
            "scale_min",
            "scale_max",
            "scale_min_label",
            "scale_max_label",
            "options",
        ]


class EthicsVersionSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scope = serializers.CharField(source="template.scope", read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    published_by = serializers.CharField(source="published_by.username", default=None)
    questions = EthicsQuestionSerializer(many=True, read_only=True)
    # A plain string: a second "status" enum would collide in the schema's enum names.
    status = serializers.CharField(read_only=True, help_text="draft or published")

    class Meta:
        model = EthicsTemplateVersion
        fields = [
            "id",
            "template",
            "scope",
            "number",
            "status",
            "note",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
            "questions",
        ]


class EthicsTemplateSerializer(serializers.ModelSerializer):
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = EthicsTemplate
        fields = ["id", "code", "name", "scope", "description", "current_version"]

    def get_current_version(self, obj) -> int | None:
        published = [v for v in obj.versions.all() if v.status == "published"]
        return max(published, key=lambda v: v.number).pk if published else None


class EthicsApprovalSerializer(serializers.Serializer):
    approved_by = serializers.CharField(source="approved_by.username")
    approved_at = serializers.DateTimeField()
    note = serializers.CharField()


class EthicsAnswerSetSerializer(serializers.ModelSerializer):
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    scope = serializers.CharField(source="version.template.scope", read_only=True)
    answered_by = serializers.CharField(source="answered_by.username", read_only=True)
    approval = serializers.SerializerMethodField()

    class Meta:
        model = EthicsAnswerSet
        fields = [
            "id",
            "scope",
            "use_case",
            "version",
            "version_number",
            "answers",
            "note",
            "tolerance",
            "answered_by",
            "answered_at",
            "approval",
        ]

    @extend_schema_field(EthicsApprovalSerializer(allow_null=True))
    def get_approval(self, obj) -> dict | None:
        approval = getattr(obj, "approval", None)
        return EthicsApprovalSerializer(approval).data if approval else None


class EthicsAnswerSetWriteSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    use_case = serializers.IntegerField(
        required=False, allow_null=True, help_text="Omit for the organisation's position."
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="Defaults to the current version."
    )
    answers = serializers.DictField(help_text="Answers keyed by question code.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    tolerance = serializers.IntegerField(
        required=False,
        default=1,
        help_text="Organisation position only: points a use case's scale answer may fall "
        "below the position before it is a deviation (default 1).",
    )


class EthicsApproveSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        write_only=True, allow_blank=True, trim_whitespace=False, help_text=API_PASSWORD_HELP
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


# --- viewsets ------------------------------------------------------------------------


class EthicsTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EthicsTemplateSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["scope", "code"]
    ordering = ["scope"]

    def get_queryset(self):
        return ethics_template_list().prefetch_related("versions")


class EthicsVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Questionnaire versions with their questions; ``?scope=organisation|use_case``."""

    serializer_class = EthicsVersionSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = EthicsVersionFilterSet
    ordering_fields = ["number", "published_at"]
    ordering = ["template__scope", "-number"]

    def get_queryset(self):
        return ethics_version_list().prefetch_related(
            Prefetch(
                "questions",
                queryset=EthicsQuestion.objects.prefetch_related("options").order_by("order", "id"),
            )
        )


class EthicsAnswerSetViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Answer sets, newest first; ``?scope=organisation|use_case``, ``?use_case=<id>``."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = EthicsAnswerSetFilterSet
    ordering_fields = ["answered_at"]
    ordering = ["-answered_at", "-id"]

    def get_serializer_class(self):
        if self.action == "create":
            return EthicsAnswerSetWriteSerializer
        if self.action == "approve":
            return EthicsApproveSerializer
        return EthicsAnswerSetSerializer

    def get_queryset(self):
        return ethics_answer_set_list(user=self.request.user)

    @extend_schema(request=EthicsAnswerSetWriteSerializer, responses=EthicsAnswerSetSerializer)
    def create(self, request, *args, **kwargs):
        data = self._valid(EthicsAnswerSetWriteSerializer, request)
        version = None
        if data.get("version") is not None:
            version = ethics_version_list().filter(pk=data["version"]).first()
            if version is None:
                raise serializers.ValidationError({"version": "Unknown questionnaire version."})
        common = {"answers": data["answers"], "by": request.user, "note": data["note"]}
        if data.get("use_case") is None:
            answer_set = ethics_position_answer(
                version=version, tolerance=data["tolerance"], **common
            )
        else:
            use_case = use_case_list(user=request.user).filter(pk=data["use_case"]).first()
            if use_case is None:
                raise serializers.ValidationError({"use_case": "Unknown use case."})
            answer_set = ethics_use_case_answer(use_case=use_case, version=version, **common)
        answer_set = self.get_queryset().get(pk=answer_set.pk)
        return Response(EthicsAnswerSetSerializer(answer_set).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EthicsApproveSerializer, responses=EthicsAnswerSetSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Sign the approval of a proposed organisation position (another governance
        lead than the answerer; password typed again; a browser session, never a token)."""
        answer_set = self.get_object()
        if via_token(request):
            raise PermissionDenied(
                "An API token cannot sign: sign in the browser and re-enter your password."
            )
        data = self._valid(EthicsApproveSerializer, request)
        ethics_position_approve(
            answer_set=answer_set, by=request.user, password=data["password"], note=data["note"]
        )
        answer_set = self.get_queryset().get(pk=pk)
        return Response(EthicsAnswerSetSerializer(answer_set).data)

    @extend_schema(
        responses=inline_serializer(
            "EthicsPosition",
            {
                "approved": EthicsAnswerSetSerializer(allow_null=True),
                "pending": EthicsAnswerSetSerializer(allow_null=True),
            },
        )
    )
    @action(detail=False, methods=["get"])
    def position(self, request):
        """The organisation's approved position and, if any, the set awaiting approval."""
        sets = [ethics_position_current(), ethics_position_pending()]
        return Response(
            {
                "approved": EthicsAnswerSetSerializer(sets[0]).data if sets[0] else None,
                "pending": EthicsAnswerSetSerializer(sets[1]).data if sets[1] else None,
            }
        )

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
