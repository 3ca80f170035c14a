"""Filters of governance's list endpoints (ethics, policy, obligations). Ids go
through ``accounts.filters.IdFilter``: a value that is not a positive 64-bit integer
is a 400 naming the parameter."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.filters import BooleanFilter, IdFilter
from governance.models import (
    EthicsAnswerSet,
    EthicsTemplate,
    EthicsTemplateVersion,
    Obligation,
    PolicyVersion,
    Requirement,
)

Scope = EthicsTemplate.Scope


class EthicsVersionFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        field_name="template__scope", choices=Scope.choices, label="Questionnaire scope"
    )

    class Meta:
        model = EthicsTemplateVersion
        fields = ["scope"]


class EthicsAnswerSetFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=Scope.choices, method="filter_scope", label="Organisation position or use case"
    )
    use_case = IdFilter(field_name="use_case_id", label="Only this use case's answer sets")

    class Meta:
        model = EthicsAnswerSet
        fields = ["scope", "use_case"]

    def filter_scope(self, queryset, name, value):
        if value == Scope.ORGANISATION:
            return queryset.filter(use_case=None)
        return queryset.exclude(use_case=None)


class PolicyVersionFilterSet(django_filters.FilterSet):
    policy = IdFilter(field_name="policy_id", label="Only this policy's versions")
    status = django_filters.ChoiceFilter(choices=PolicyVersion.Status.choices)

    class Meta:
        model = PolicyVersion
        fields = ["policy", "status"]


class RequirementFilterSet(django_filters.FilterSet):
    regulation = django_filters.CharFilter(
        field_name="regulation__code", label="Only this regulation's requirements (its code)"
    )

    class Meta:
        model = Requirement
        fields = ["regulation"]


@extend_schema_field(OpenApiTypes.BOOL)
class ActiveFilter(BooleanFilter):
    """``active``: true (the default when absent) or false (the superseded ones)."""


class ObligationFilterSet(django_filters.FilterSet):
    use_case = IdFilter(field_name="use_case_id", label="Only this use case's obligations")
    active = ActiveFilter(method="filter_active", label="false: the superseded ones")

    class Meta:
        model = Obligation
        fields = ["use_case", "active"]

    def filter_active(self, queryset, name, value):
        return queryset  # applied in filter_queryset, with its default

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        active = self.form.cleaned_data.get("active")
        return queryset.filter(active=True if active is None else active)
