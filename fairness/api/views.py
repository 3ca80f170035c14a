"""Bias summaries API (issue #5): attach scored data to a model version (multipart),
list the datasets, request a summary, read it (status, progress, result) as JSON, and
export it as CSV.

Everyone with a role reads; data scientists of the use case's team and governance
leads upload and run (the services decide; a refusal is 403). What the first bytes
tell (size, format, header, mapping) is a 400 at once, nothing stored; the rows are
checked by a worker: the upload answers 202 with the dataset ``validating``, which
becomes ``valid`` or ``rejected`` with the column and row (issue 18). A summary of a
dataset that is not valid is a 400 with the reason.
"""

import csv
import io

from django.http import HttpResponse
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from core.audit_chain import spreadsheet_safe
from fairness import selectors as sel
from fairness import services as svc
from fairness.filters import BiasSummaryFilterSet, ScoredDatasetFilterSet
from fairness.models import BiasSummary, ScoredDataset, WarehouseConnection
from inventory.models import ModelVersion


class ScoredDatasetSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    connection = serializers.SlugRelatedField(
        slug_field="name", read_only=True, help_text="A query source's warehouse connection."
    )
    download = serializers.SerializerMethodField(
        help_text="Where the stored bytes download (checked against sha256 first); null "
        "until the dataset is valid."
    )
    validation = serializers.SerializerMethodField(
        help_text="Rows checked so far, and the rejection's column and row."
    )

    class Meta:
        model = ScoredDataset
        fields = [
            "id",
            "model_version",
            "purpose",
            "description",
            "original_name",
            "format",
            "size_bytes",
            "sha256",
            "rows",
            "columns",
            "row_groups",
            "mapping",
            "connection",
            "query",
            "uploaded_by",
            "uploaded_at",
            "status",
            "error",
            "validated_at",
            "validation",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, obj) -> str | None:
        if obj.format == ScoredDataset.Format.QUERY or not obj.is_valid:
            return None
        return reverse("fairness-api:scored-dataset-download", args=[obj.pk])

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_validation(self, obj) -> dict:
        return sel.scored_dataset_validation(obj)


class ScoredDatasetUploadSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    file = serializers.FileField(help_text="CSV (UTF-8) or Parquet.")
    mapping = serializers.JSONField(
        help_text='Column mapping as JSON, e.g. {"outcome": "y", "prediction": "y_hat", '
        '"sensitive": ["race", "sex"]}; or "score" with "threshold" instead of "prediction"; '
        'optional "weight" and "timestamp".'
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    purpose = serializers.ChoiceField(
        choices=ScoredDataset.Purpose.choices, default=ScoredDataset.Purpose.EVALUATION
    )


class ScoredQueryCreateSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    connection = serializers.SlugRelatedField(
        slug_field="name",
        queryset=WarehouseConnection.objects.all(),
        help_text="The name of a registered warehouse connection.",
    )
    query = serializers.CharField(
        max_length=20_000, trim_whitespace=False, help_text="One read-only SELECT (or WITH)."
    )
    mapping = serializers.JSONField(
        help_text='Column mapping of the query\'s columns, as for a file: {"outcome": "y", '
        '"prediction": "y_hat", "sensitive": ["race", "sex"]}.'
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")


class BiasSummaryRequestSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reference = serializers.JSONField(
        required=False,
        default="best",
        help_text='"best", a group label, or {"race": "Caucasian", "sex": "Male"}.',
    )
    min_group_size = serializers.IntegerField(min_value=0, max_value=10**9, default=30)
    favourable_prediction = serializers.ChoiceField(
        choices=[(1, "1 is favourable"), (0, "1 is adverse")], default=1
    )


class BiasSummarySerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    model_version = serializers.IntegerField(source="dataset.model_version_id", read_only=True)

    class Meta:
        model = BiasSummary
        fields = [
            "id",
            "dataset",
            "model_version",
            "status",
            "options",
            "progress",
            "error",
            "provenance",
            "attempts",
            "requested_at",
            "started_at",
            "finished_at",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, obj) -> dict:
        data = sel.bias_summary_progress(obj)
        keys = ("rows_done", "rows_total", "percent", "parts_total", "parts_done")
        return {k: data[k] for k in keys}


class BiasSummaryListSerializer(BiasSummarySerializer):
    class Meta(BiasSummarySerializer.Meta):
        fields = [f for f in BiasSummarySerializer.Meta.fields if f != "result"]
        read_only_fields = fields


def refuse_large_upload(request) -> None:
    """A body over the size limit is refused from its Content-Length, before parsing."""
    limit = svc.max_upload_bytes()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit + 1024 * 1024:
        raise DRFValidationError(
            {"file": [f"The upload is {length:,} bytes, over the limit of {limit:,}."]}
        )


class ScoredDatasetViewSet(
    ListFiltersOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Scored datasets attached to model versions."""

    serializer_class = ScoredDatasetSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ScoredDatasetFilterSet

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return ScoredDataset.objects.none()
        return sel.scored_dataset_list()

    @extend_schema(
        request={"multipart/form-data": ScoredDatasetUploadSerializer},
        responses={
            202: OpenApiResponse(
                ScoredDatasetSerializer,
                description="Received and quarantined (status validating): a worker checks "
                "every row, then the status becomes valid or rejected (with the reason).",
            ),
            200: OpenApiResponse(
                ScoredDatasetSerializer,
                description="Identical bytes: the dataset already attached (any status).",
            ),
        },
    )
    def create(self, request):
        """Attach a scored dataset (multipart). The size, format, header and mapping are
        checked at once (400, nothing stored); the rows by a worker: poll the dataset
        until its status is valid (usable) or rejected (error names the column and row)."""
        refuse_large_upload(request)
        data = ScoredDatasetUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dataset, created = svc.scored_dataset_upload(
            version=v["model_version"],
            by=request.user,
            file=v["file"],
            mapping=v["mapping"],
            description=v["description"],
            purpose=v["purpose"],
        )
        return Response(
            ScoredDatasetSerializer(dataset).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=ScoredQueryCreateSerializer,
        responses={
            201: ScoredDatasetSerializer,
            200: OpenApiResponse(
                ScoredDatasetSerializer,
                description="The same connection, query and mapping: the source already attached.",
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="query", parser_classes=[JSONParser])
    def query(self, request):
        """Attach a read-only query on a registered warehouse connection (issue 17): its
        summaries count in the engine; nothing but the query is stored."""
        data = ScoredQueryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dataset, created = svc.scored_query_create(
            version=v["model_version"],
            by=request.user,
            connection=v["connection"],
            query=v["query"],
            mapping=v["mapping"],
            description=v["description"],
        )
        return Response(
            ScoredDatasetSerializer(dataset).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=BiasSummaryRequestSerializer,
        responses={202: BiasSummarySerializer, 200: BiasSummarySerializer},
    )
    @action(detail=True, methods=["post"], url_path="summaries", parser_classes=[JSONParser])
    def summarise(self, request, pk=None):
        """Request a bias summary of the dataset (queued; 200 when it already exists)."""
        data = BiasSummaryRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        summary, created = svc.bias_summary_request(
            dataset=self.get_object(),
            by=request.user,
            reference=v["reference"],
            min_group_size=v["min_group_size"],
            favourable_prediction=int(v["favourable_prediction"]),
        )
        return Response(
            BiasSummarySerializer(summary).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )


class BiasSummaryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bias summaries: status, progress and (when done) the result."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = BiasSummaryFilterSet

    def get_serializer_class(self):
        return BiasSummaryListSerializer if self.action == "list" else BiasSummarySerializer

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return BiasSummary.objects.none()
        if self.action != "list":
            return BiasSummary.objects.select_related("dataset__model_version")
        return sel.bias_summary_list()

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            409: OpenApiResponse(description="Not done."),
        }
    )
    @action(detail=True, methods=["get"], url_path="csv")
    def csv_export(self, request, pk=None):
        """The summary as CSV (cells starting with = + - @ get a leading quote)."""
        summary = self.get_object()
        if summary.status != BiasSummary.Status.DONE:
            return Response(
                {"detail": f"The summary is {summary.get_status_display().lower()}, not done."},
                status=status.HTTP_409_CONFLICT,
            )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in sel.bias_summary_csv_rows(summary.result):
            writer.writerow([spreadsheet_safe(c) for c in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="bias-summary-{summary.pk}.csv"'
        return response
