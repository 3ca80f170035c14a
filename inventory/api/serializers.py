"""Serializers of the inventory API.

Read serializers describe rows; the write paths validate shapes and types here and
leave every business rule to ``inventory.services`` (called by the views).
"""

import math
import re

from django.contrib.auth.models import User
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import OnlyTheseFieldsMixin
from inventory.choices import Criticality, RiskTier
from inventory.models import (
    Dataset,
    DatasetColumn,
    MLModel,
    ModelVersion,
    Regulation,
    Team,
    UseCase,
)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def validate_metric_values(metrics: dict) -> dict:
    """Refuse what JSON lets through but no database or renderer takes: infinite or
    huge numbers, NUL characters and over-long names. Whether the values are numbers
    at all is the service's rule (inventory.services._check_metrics)."""
    errors = []
    for name, value in metrics.items():
        if not name or len(name) > 100 or not name.isprintable():
            errors.append(f"Invalid metric name {name[:100]!r}: 1-100 printable characters.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                errors.append(f"Metric {name!r} must be a finite number.")
    if errors:
        raise serializers.ValidationError(errors)
    return metrics


def _username_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs
    )


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]


class LatestClassificationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    classified_at = serializers.DateTimeField()
    classified_by = serializers.CharField(allow_null=True, help_text="Username.")


class UseCaseSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    """A use case. Relations are given by natural keys: team by slug, people by
    username, regulations by code; datasets by id."""

    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    business_owner = _username_field()
    technical_owner = _username_field()
    regulations = serializers.SlugRelatedField(
        slug_field="code", queryset=Regulation.objects.all(), many=True, required=False
    )
    datasets = serializers.PrimaryKeyRelatedField(
        queryset=Dataset.objects.all(), many=True, required=False
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    criticality = serializers.ChoiceField(
        choices=Criticality.choices, read_only=True, allow_null=True
    )
    criticality_label = serializers.CharField(
        source="get_criticality_display", read_only=True, allow_null=True
    )
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, read_only=True, allow_null=True)
    risk_tier_label = serializers.CharField(
        source="get_risk_tier_display", read_only=True, allow_null=True
    )
    latest_classification = serializers.SerializerMethodField()
    model_count = serializers.IntegerField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = UseCase
        fields = [
            "id",
            "name",
            "purpose",
            "restrictions",
            "team",
            "business_owner",
            "technical_owner",
            "status",
            "status_label",
            "regulations",
            "uses_pii",
            "datasets",
            "criticality",
            "criticality_label",
            "risk_tier",
            "risk_tier_label",
            "latest_classification",
            "model_count",
            "created_by",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(LatestClassificationSummarySerializer(allow_null=True))
    def get_latest_classification(self, use_case: UseCase) -> dict | None:
        # Annotated by inventory.selectors.use_case_list_detailed (no query per row).
        pk = getattr(use_case, "latest_classification_id", None)
        if pk is None:
            return None
        return {
            "id": pk,
            "classified_at": serializers.DateTimeField().to_representation(
                use_case.latest_classified_at
            ),
            "classified_by": use_case.latest_classified_by,
        }


class MLModelSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    """A model of a use case. Name and use case are set once, at creation."""

    use_case = serializers.PrimaryKeyRelatedField(queryset=UseCase.objects.select_related("team"))
    use_case_name = serializers.CharField(source="use_case.name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = MLModel
        fields = [
            "id",
            "use_case",
            "use_case_name",
            "name",
            "description",
            "version_count",
            "created_by",
            "created_at",
        ]
        # The (use case, name) uniqueness is checked by the service's full_clean.
        validators = []


class MLModelUpdateSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    description = serializers.CharField(allow_blank=True)


class ModelVersionSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    """A registered model version. Registration is idempotent on (model,
    version_label): the same SHA-256 again returns the existing version."""

    model = serializers.PrimaryKeyRelatedField(
        queryset=MLModel.objects.select_related("use_case__team")
    )
    model_name = serializers.CharField(source="model.name", read_only=True)
    use_case = serializers.IntegerField(source="model.use_case_id", read_only=True)
    artifact_sha256 = serializers.CharField(
        max_length=80, help_text="64 hexadecimal characters (case-insensitive)."
    )
    training_dataset = serializers.PrimaryKeyRelatedField(
        queryset=Dataset.objects.all(), allow_null=True, required=False
    )
    metrics = serializers.DictField(
        required=False, help_text='Metric names and numbers, e.g. {"auc": 0.81}.'
    )
    authors = _username_field(many=True, required=False)
    validator = serializers.SerializerMethodField(
        help_text="Username of the validator who signed the version's validation that "
        "counts (its latest signed one), or null. Read-only: validations are recorded and "
        "signed at /api/v1/validations/."
    )
    validation = serializers.SerializerMethodField(
        help_text="The version's signed validation that counts: id, conclusion, signed_at, "
        "validator; null when none is signed."
    )
    legacy_validator = serializers.SlugRelatedField(
        source="validator",
        slug_field="username",
        read_only=True,
        help_text="Legacy, read-only: a person named at registration before validations "
        "were signed; not a validation. Still excluded from approving the version.",
    )
    environment_label = serializers.CharField(source="get_environment_display", read_only=True)
    registered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "model_name",
            "use_case",
            "version_label",
            "artifact_uri",
            "artifact_sha256",
            "training_dataset",
            "training_data_ref",
            "framework",
            "metrics",
            "authors",
            "validator",
            "validation",
            "legacy_validator",
            "environment",
            "environment_label",
            "registered_by",
            "registered_at",
        ]
        read_only_fields = ["environment"]
        # No unique-together validator: registering an existing label is idempotent
        # (or refused for another SHA-256) in inventory.services.model_version_register.
        validators = []

    def validate_metrics(self, value: dict) -> dict:
        return validate_metric_values(value)

    @staticmethod
    def _signed_validation(obj):
        # Over the list's prefetch (``model_version_list``): no query per version.
        signed = [v for v in obj.validations.all() if v.signed_at is not None]
        return max(signed, key=lambda v: (v.signed_at, v.pk), default=None)

    def get_validator(self, obj) -> str | None:
        current = self._signed_validation(obj)
        return current.validator.get_username() if current else None

    def get_validation(self, obj) -> dict | None:
        current = self._signed_validation(obj)
        if current is None:
            return None
        return {
            "id": current.pk,
            "conclusion": current.conclusion,
            "signed_at": current.signed_at,
            "validator": current.validator.get_username(),
        }

    def validate_artifact_sha256(self, value: str) -> str:
        value = value.strip().lower()
        if not SHA256_RE.match(value):
            raise serializers.ValidationError("Give the SHA-256 as 64 hexadecimal characters.")
        return value


class ModelVersionMetricsSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    metrics = serializers.DictField(
        help_text="Merged into the version's metrics; existing names are overwritten."
    )

    def validate_metrics(self, value: dict) -> dict:
        return validate_metric_values(value)


class DatasetColumnSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = DatasetColumn
        fields = ["name", "data_type", "is_pii", "lineage_notes"]


class DatasetSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    """A dataset with its columns. Writing ``columns`` replaces the whole list."""

    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    owner = _username_field()
    columns = DatasetColumnSerializer(many=True, required=False)
    has_pii = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "source",
            "provenance",
            "owner",
            "team",
            "columns",
            "has_pii",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_pii(self, dataset: Dataset) -> bool:
        return any(column.is_pii for column in dataset.columns.all())
