"""Filters shared by the inventory list page and the API."""

import django_filters
from django.contrib.auth.models import User
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.filters import BooleanFilter, IdFilter
from inventory.choices import Criticality, Environment, LifecycleStatus, RiskTier
from inventory.models import Dataset, MLModel, ModelVersion, Regulation, Team, UseCase


class UseCaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    risk_tier = django_filters.TypedMultipleChoiceFilter(
        choices=RiskTier.choices, coerce=int, label="Risk tier"
    )
    criticality = django_filters.TypedMultipleChoiceFilter(
        choices=Criticality.choices, coerce=int, label="Criticality"
    )
    unclassified = BooleanFilter(
        field_name="risk_tier", lookup_expr="isnull", label="Not yet classified"
    )
    status = django_filters.MultipleChoiceFilter(choices=LifecycleStatus.choices)
    team = extend_schema_field(OpenApiTypes.STR)(  # a team slug; the API schema can't guess
        django_filters.ModelMultipleChoiceFilter(
            queryset=Team.objects.all(), field_name="team__slug", to_field_name="slug", label="Team"
        )
    )
    regulation = extend_schema_field(OpenApiTypes.STR)(  # a regulation code
        django_filters.ModelMultipleChoiceFilter(
            queryset=Regulation.objects.all(),
            field_name="regulations__code",
            to_field_name="code",
            label="Regulation",
            distinct=True,
        )
    )
    owner = extend_schema_field(OpenApiTypes.STR)(  # a username
        django_filters.ModelChoiceFilter(
            queryset=User.objects.filter(
                Q(business_use_cases__isnull=False) | Q(technical_use_cases__isnull=False)
            )
            .distinct()
            .order_by("username"),
            to_field_name="username",
            method="filter_owner",
            label="Owner (business or technical)",
        )
    )
    uses_pii = BooleanFilter()

    class Meta:
        model = UseCase
        fields = ["q", "risk_tier", "criticality", "status", "team", "regulation", "owner"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(purpose__icontains=value) | Q(team__name__icontains=value)
        )

    def filter_owner(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Q(business_owner=value) | Q(technical_owner=value))


class MLModelFilterSet(django_filters.FilterSet):
    use_case = IdFilter(field_name="use_case_id")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = MLModel
        fields = ["use_case", "name"]


class ModelVersionFilterSet(django_filters.FilterSet):
    model = IdFilter(field_name="model_id")
    use_case = IdFilter(field_name="model__use_case_id")
    environment = django_filters.MultipleChoiceFilter(choices=Environment.choices)
    artifact_sha256 = django_filters.CharFilter()
    version_label = django_filters.CharFilter()

    class Meta:
        model = ModelVersion
        fields = ["model", "use_case", "environment", "artifact_sha256", "version_label"]


class DatasetFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    team = extend_schema_field(OpenApiTypes.STR)(  # a team slug; the API schema can't guess
        django_filters.ModelMultipleChoiceFilter(
            queryset=Team.objects.all(), field_name="team__slug", to_field_name="slug", label="Team"
        )
    )
    has_pii = BooleanFilter(method="filter_pii", label="Has PII columns")

    class Meta:
        model = Dataset
        fields = ["q", "team", "has_pii"]

    def filter_pii(self, queryset, name, value):
        if value is None:
            return queryset
        pii = queryset.filter(columns__is_pii=True).values("pk")
        return queryset.filter(pk__in=pii) if value else queryset.exclude(pk__in=pii)
