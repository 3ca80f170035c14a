"""The findings API (issue 16): list with the page's filters (out-of-range dates and
unknown values are 400s), open a finding by hand, and each move of its flow as an
action. The services decide who may (403 with the reason) and what is whole (400); a
risk acceptance is ``/api/v1/finding-acceptances/`` (a signed act, browser session
only)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from core import finding_rules as fr
from reviews.filters import FindingFilterSet
from reviews.models import Finding, RemediationAction
from reviews.selectors import findings as sel
from reviews.services import findings as svc

MANUAL_SOURCES = [Finding.Source.MANUAL, Finding.Source.AUDIT, Finding.Source.REVIEW]


class RemediationActionSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RemediationAction
        fields = ["id", "order", "text", "due_on", "done_at", "done_by", "done_note"]
        read_only_fields = fields


class FindingSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    remediated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who closed it."
    )
    source = serializers.ChoiceField(
        choices=Finding.Source.choices,
        default=Finding.Source.MANUAL,
        help_text="Opened by hand: manual, audit or review; the other sources open their own.",
    )
    severity = serializers.ChoiceField(choices=Finding.Severity.choices, default=fr.MEDIUM)
    actions = RemediationActionSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "model_version",
            "source",
            "severity",
            "title",
            "detail",
            "status",
            "owner",
            "due_on",
            "overdue",
            "opened_by",
            "opened_at",
            "remediation_plan",
            "actions",
            "remediated_by",
            "remediated_at",
            "remediation_note",
            "verified_by",
            "verified_at",
            "verification_note",
            "resolved_by",
            "resolved_at",
            "resolution",
            "validation",
        ]
        read_only_fields = [
            "status",
            "owner",
            "due_on",
            "opened_at",
            "remediation_plan",
            "remediated_at",
            "remediation_note",
            "verified_at",
            "verification_note",
            "resolved_at",
            "resolution",
            "validation",
        ]

    def validate_source(self, value: str) -> str:
        if value not in MANUAL_SOURCES:
            raise serializers.ValidationError(
                "Findings opened by hand come from a manual observation, an audit or a "
                "periodic review; the other sources open their own."
            )
        return value

    def get_overdue(self, obj) -> bool:
        return fr.is_overdue(obj.status, obj.due_on, timezone.localdate())


class PlanActionSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    text = serializers.CharField(max_length=500)
    due_on = serializers.DateField()


class PlanSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    plan = serializers.CharField(max_length=4000)
    actions = PlanActionSerializer(many=True, max_length=svc.MAX_ACTIONS)


class NoteSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=4000)


class VerifySerializer(NoteSerializer):
    outcome = serializers.ChoiceField(choices=["verified", "refused"], default="verified")


class SeveritySerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    reason = serializers.CharField(max_length=2000)


class OwnerSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    owner = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    reason = serializers.CharField(max_length=2000)


class ActionDoneSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    action = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class FindingViewSet(ListFiltersOnlyMixin, viewsets.ModelViewSet):
    """Findings with severity, owner, due date, plan and status; ``?format=csv`` on the
    list is not offered here: the page's CSV export is ``/reviews/findings/export.csv``."""

    serializer_class = FindingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = FindingFilterSet
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return Finding.objects.none()
        return sel.finding_list().prefetch_related("actions__done_by").order_by("-opened_at", "-id")

    def create(self, request):
        data = FindingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        finding, _ = svc.finding_open(
            version=v["model_version"],
            by=request.user,
            title=v["title"],
            source=v["source"],
            severity=v["severity"],
            detail=v.get("detail") or {},
        )
        return Response(self._data(finding), status=status.HTTP_201_CREATED)

    def _data(self, finding: Finding) -> dict:
        return FindingSerializer(sel.finding_get(pk=finding.pk)).data

    def _run(self, request, serializer_class, write):
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        finding = self.get_object()
        write(finding, data.validated_data)
        return Response(self._data(finding))

    @extend_schema(request=PlanSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        return self._run(
            request,
            PlanSerializer,
            lambda f, d: svc.finding_plan(
                finding=f, by=request.user, plan=d["plan"], actions=d["actions"]
            ),
        )

    @extend_schema(request=ActionDoneSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"], url_path="action-done")
    def action_done(self, request, pk=None):
        def write(f, d):
            item = RemediationAction.objects.filter(pk=d["action"], finding=f).first()
            if item is None:
                raise DrfValidationError({"action": "No such action in this finding's plan."})
            svc.remediation_action_done(action=item, by=request.user, note=d.get("note", ""))

        return self._run(request, ActionDoneSerializer, write)

    @extend_schema(request=NoteSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def remediated(self, request, pk=None):
        return self._run(
            request,
            NoteSerializer,
            lambda f, d: svc.finding_remediate(finding=f, by=request.user, note=d["note"]),
        )

    @extend_schema(request=VerifySerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._run(
            request,
            VerifySerializer,
            lambda f, d: svc.finding_verify(
                finding=f,
                by=request.user,
                note=d["note"],
                accepted=d["outcome"] == "verified",
            ),
        )

    @extend_schema(request=NoteSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._run(
            request,
            NoteSerializer,
            lambda f, d: svc.finding_close(finding=f, by=request.user, note=d["note"]),
        )

    @extend_schema(request=SeveritySerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def severity(self, request, pk=None):
        return self._run(
            request,
            SeveritySerializer,
            lambda f, d: svc.finding_set_severity(
                finding=f, by=request.user, severity=d["severity"], reason=d["reason"]
            ),
        )

    @extend_schema(request=OwnerSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def owner(self, request, pk=None):
        return self._run(
            request,
            OwnerSerializer,
            lambda f, d: svc.finding_set_owner(
                finding=f, by=request.user, owner=d["owner"], reason=d["reason"]
            ),
        )
