"""Filters of governance's list endpoints (ethics, policy, obligations). Ids go
through ``accounts.filters.IdFilter``: a value that is not a positive 64-bit integer
is a 400 naming the parameter."""

import django_filters
from django.utils import timezone
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
from governance.selectors.obligations import PENDING
from inventory.choices import RiskTier

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


class ObligationListFilterSet(django_filters.FilterSet):
    """The portfolio's obligations page: what is still owed (open or evidence pending),
    overdue, or everything active; by owner, risk tier or use case. The home page's
    figures link here with the state they count."""

    state = django_filters.ChoiceFilter(
        choices=[("owed", "Still owed"), ("overdue", "Overdue"), ("all", "All active")],
        method="filter_state",
        empty_label=None,
        label="State",
    )
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150, label="Owner")
    tier = django_filters.ChoiceFilter(
        field_name="use_case__risk_tier", choices=RiskTier.choices, label="Risk tier"
    )
    use_case = IdFilter(field_name="use_case_id", label="Use case")
    # The KPI page's drill-down by consideration (issue 16, Step 8).
    consideration = django_filters.CharFilter(
        field_name="consideration__code", max_length=50, label="Consideration"
    )

    class Meta:
        model = Obligation
        fields = ["state", "owner", "tier", "use_case", "consideration"]

    def filter_state(self, queryset, name, value):
        if value == "owed":
            return queryset.filter(status__in=PENDING)
        if value == "overdue":
            return queryset.filter(status__in=PENDING, due_date__lt=timezone.localdate())
        return queryset
