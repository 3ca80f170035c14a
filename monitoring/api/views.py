"""Monitoring API (issue #6): configurations (create, read, recompute), production
batches and outcomes (multipart CSV/Parquet or JSON rows), windows with their results
JSON, and alerts (acknowledge / resolve with a reason).

Everyone with a role reads; the services decide who writes (the team's data scientists
and governance leads configure and send data; the monitoring Accountable, risk officers
and governance leads handle alerts): a refusal is 403, bad input 400.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from fairness.api.views import refuse_large_upload
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_validation
from inventory.models import ModelVersion
from monitoring import selectors as sel
from monitoring import services as svc
from monitoring.filters import (
    DriftAlertFilterSet,
    MonitoringConfigFilterSet,
    MonitoringWindowFilterSet,
)
from monitoring.models import (
    DriftAlert,
    DriftAlertEvent,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringWindow,
    ReferenceProfile,
)


class ReferenceProfileStateSerializer(serializers.Serializer):
    """Where the configuration's reference profile stands: a worker builds it (queued,
    building), then it is ready (its rows and columns) or failed (the reason)."""

    status = serializers.ChoiceField(choices=ReferenceProfile.Status.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    reason = serializers.SerializerMethodField(help_text="Why it failed; null unless failed.")
    rows = serializers.SerializerMethodField(help_text="Rows profiled; null until ready.")
    columns = serializers.SerializerMethodField(help_text="Columns profiled; null until ready.")
    requested_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    built_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it became ready (or failed)."
    )

    def get_reason(self, profile: ReferenceProfile) -> str | None:
        return profile.error if profile.status == ReferenceProfile.Status.FAILED else None

    def get_rows(self, profile: ReferenceProfile) -> int | None:
        return profile.rows if profile.is_ready else None

    def get_columns(self, profile: ReferenceProfile) -> int | None:
        if not profile.is_ready:
            return None
        return len(profile.options.get("numeric", [])) + len(profile.options.get("categorical", []))


class MonitoringConfigListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        configs = list(data.all() if hasattr(data, "all") else data)
        return super().to_representation(sel.reference_profiles_attach(configs))


class MonitoringConfigSerializer(serializers.ModelSerializer):
    reference_profile = serializers.SerializerMethodField(
        help_text="The reference profile's state; null when it was never asked for."
    )

    @extend_schema_field(ReferenceProfileStateSerializer(allow_null=True))
    def get_reference_profile(self, config: MonitoringConfig) -> dict | None:
        profile = sel.reference_profile_for(config)
        return None if profile is None else ReferenceProfileStateSerializer(profile).data

    class Meta:
        model = MonitoringConfig
        list_serializer_class = MonitoringConfigListSerializer
        fields = [
            "id",
            "model_version",
            "reference",
            "numeric_features",
            "categorical_features",
            "prediction_column",
            "score_column",
            "outcome_column",
            "timestamp_column",
            "id_column",
            "sensitive_columns",
            "cadence",
            "cadence_source",
            "thresholds",
            "thresholds_source",
            "reference_profile",
            "last_run",
            "last_computed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MonitoringConfigWriteSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    reference = serializers.PrimaryKeyRelatedField(queryset=ScoredDataset.objects.all())
    numeric_features = serializers.ListField(child=serializers.CharField(), default=list)
    categorical_features = serializers.ListField(child=serializers.CharField(), default=list)
    timestamp_column = serializers.CharField()
    prediction_column = serializers.CharField(required=False, allow_blank=True, default="")
    score_column = serializers.CharField(required=False, allow_blank=True, default="")
    outcome_column = serializers.CharField(required=False, allow_blank=True, default="")
    id_column = serializers.CharField(required=False, allow_blank=True, default="")
    sensitive_columns = serializers.ListField(child=serializers.CharField(), default=list)
    performance_max_drop = serializers.FloatField(min_value=0, max_value=1, required=False)


class MonitoringBatchSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="dataset.sha256", read_only=True)
    original_name = serializers.CharField(source="dataset.original_name", read_only=True)
    status = serializers.ChoiceField(
        source="dataset.status",
        choices=ScoredDataset.Status.choices,
        read_only=True,
        help_text="validating (in quarantine, a worker checks every row), valid (published: "
        "its windows are computed) or rejected (see error).",
    )
    error = serializers.CharField(
        source="dataset.error", read_only=True, help_text="Why it was rejected."
    )
    validation = serializers.SerializerMethodField(
        help_text="Rows checked so far, and the rejection's column and row."
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_validation(self, batch: MonitoringBatch) -> dict:
        return scored_dataset_validation(batch.dataset)

    class Meta:
        model = MonitoringBatch
        fields = [
            "id",
            "config",
            "dataset",
            "kind",
            "original_name",
            "sha256",
            "time_start",
            "time_end",
            "rows",
            "rejected_rows",
            "matched_rows",
            "problems",
            "received_at",
            "status",
            "error",
            "validation",
        ]
        read_only_fields = fields


class MonitoringBatchUploadSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    file = serializers.FileField(required=False, help_text="CSV (UTF-8) or Parquet.")
    rows = serializers.JSONField(
        required=False, help_text="Or the rows as a JSON list of objects (column: value)."
    )


class MonitoringWindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = MonitoringWindow
        fields = [
            "id",
            "config",
            "start",
            "end",
            "cadence",
            "status",
            "message",
            "rows",
            "rows_with_outcome",
            "drifted",
            "results",
            "computed_at",
        ]
        read_only_fields = fields


class MonitoringWindowListSerializer(MonitoringWindowSerializer):
    class Meta(MonitoringWindowSerializer.Meta):
        fields = [f for f in MonitoringWindowSerializer.Meta.fields if f != "results"]
        read_only_fields = fields


class DriftAlertEventSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DriftAlertEvent
        fields = ["action", "by", "at", "reason", "window"]
        read_only_fields = fields


class DriftAlertSerializer(serializers.ModelSerializer):
    events = DriftAlertEventSerializer(many=True, read_only=True)
    model_version = serializers.IntegerField(source="config.model_version_id", read_only=True)

    class Meta:
        model = DriftAlert
        fields = [
            "id",
            "config",
            "model_version",
            "feature",
            "kind",
            "status",
            "message",
            "breaches",
            "window",
            "last_window",
            "finding",
            "detail",
            "opened_at",
            "updated_at",
            "events",
        ]
        read_only_fields = fields


class DriftAlertReasonSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class HasAnyRole(BasePermission):
    """Any role may call; the service decides (the monitoring Accountable is often an
    approver, read-only elsewhere in the API)."""

    message = "You need a governance role to use this API."

    def has_permission(self, request, view) -> bool:
        return has_any_role(request.user)


class MonitoringConfigViewSet(
    ListFiltersOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Monitoring configurations of model versions."""

    serializer_class = MonitoringConfigSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MonitoringConfigFilterSet

    def get_queryset(self):
        return sel.monitoring_config_list(user=self.request.user)

    @extend_schema(
        request=MonitoringConfigWriteSerializer,
        responses={201: MonitoringConfigSerializer, 200: MonitoringConfigSerializer},
    )
    def create(self, request):
        """Create or change a version's configuration (the reference profile is built)."""
        data = MonitoringConfigWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        config, created = svc.monitoring_config_save(
            version=v.pop("model_version"), by=request.user, **v
        )
        return Response(
            MonitoringConfigSerializer(config).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={202: MonitoringConfigSerializer})
    @action(detail=True, methods=["post"], permission_classes=[HasAnyRole])
    def recompute(self, request, pk=None):
        """Queue the recomputation of every window."""
        config = self.get_object()
        svc.monitoring_recompute_request(config=config, by=request.user)
        return Response(MonitoringConfigSerializer(config).data, status=status.HTTP_202_ACCEPTED)

    def _receive(self, request, kind: str):
        refuse_large_upload(request)
        data = MonitoringBatchUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        batch, created = svc.monitoring_batch_upload(
            config=self.get_object(),
            by=request.user,
            file=v.get("file"),
            rows=v.get("rows"),
            kind=kind,
        )
        return Response(
            MonitoringBatchSerializer(batch).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request={
            "multipart/form-data": MonitoringBatchUploadSerializer,
            "application/json": MonitoringBatchUploadSerializer,
        },
        responses={202: MonitoringBatchSerializer, 200: MonitoringBatchSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def batches(self, request, pk=None):
        """Send a production batch: scored rows with timestamps (a file or JSON rows). The
        size, format and header are checked at once (400, nothing stored); every row by a
        worker (202, status validating): the batch is then valid (its windows queued) or
        rejected (error names the column and row)."""
        return self._receive(request, MonitoringBatch.Kind.PRODUCTION)

    @extend_schema(
        request={
            "multipart/form-data": MonitoringBatchUploadSerializer,
            "application/json": MonitoringBatchUploadSerializer,
        },
        responses={202: MonitoringBatchSerializer, 200: MonitoringBatchSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def outcomes(self, request, pk=None):
        """Send ground-truth outcomes, joined to the predictions by prediction id (checked
        by a worker, as production batches are)."""
        return self._receive(request, MonitoringBatch.Kind.OUTCOMES)


class MonitoringWindowViewSet(
    ListFiltersOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Computed windows: drift and performance results per window."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = MonitoringWindowFilterSet

    def get_serializer_class(self):
        return (
            MonitoringWindowListSerializer if self.action == "list" else MonitoringWindowSerializer
        )

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return MonitoringWindow.objects.none()
        qs = MonitoringWindow.objects.order_by("config", "start")
        return qs.defer("results") if self.action == "list" else qs


class DriftAlertViewSet(
    ListFiltersOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Monitoring alerts and their history."""

    serializer_class = DriftAlertSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DriftAlertFilterSet

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return DriftAlert.objects.none()
        return sel.alert_list()

    def _handled_alert(self, request) -> DriftAlert:
        """The alert, if the caller may handle it: refused (403) before the body is read,
        as on the page (issue 12: an auditor is told why, not that a field is wrong)."""
        alert = self.get_object()
        if not svc.can_handle_alert(request.user, alert.config):
            raise PermissionDenied(
                "Only the monitoring Accountable, risk officers and governance leads handle alerts."
            )
        return alert

    @extend_schema(request=DriftAlertReasonSerializer, responses={200: DriftAlertSerializer})
    @action(detail=True, methods=["post"], permission_classes=[HasAnyRole])
    def acknowledge(self, request, pk=None):
        """Acknowledge an open alert, with a reason."""
        alert = self._handled_alert(request)
        data = DriftAlertReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = svc.drift_alert_acknowledge(
            alert=alert, by=request.user, reason=data.validated_data["reason"]
        )
        return Response(DriftAlertSerializer(sel.alert_get(pk=alert.pk)).data)

    @extend_schema(request=DriftAlertReasonSerializer, responses={200: DriftAlertSerializer})
    @action(detail=True, methods=["post"], permission_classes=[HasAnyRole])
    def resolve(self, request, pk=None):
        """Resolve an alert, with a reason; a later breach opens a new one."""
        alert = self._handled_alert(request)
        data = DriftAlertReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = svc.drift_alert_resolve(
            alert=alert, by=request.user, reason=data.validated_data["reason"]
        )
        return Response(DriftAlertSerializer(sel.alert_get(pk=alert.pk)).data)
