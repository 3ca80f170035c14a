"""Filters of the sign-off lists: promotion requests, findings and gate calls, shared by
the API and the gate log page. Ids go through ``accounts.filters.IdFilter``."""

import django_filters

from accounts.filters import BooleanFilter, IdFilter
from reviews.models import Finding, GateCall, PromotionRequest, Validation


class PromotionRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PromotionRequest.Status.choices)
    model_version = IdFilter(field_name="model_version_id", label="Only this version's requests")

    class Meta:
        model = PromotionRequest
        fields = ["status", "model_version"]


class FindingFilterSet(django_filters.FilterSet):
    model_version = IdFilter(field_name="model_version_id", label="Only this version's findings")
    status = django_filters.ChoiceFilter(choices=Finding.Status.choices)

    class Meta:
        model = Finding
        fields = ["model_version", "status"]


class GateCallFilterSet(django_filters.FilterSet):
    model_version = IdFilter(field_name="model_version_id", label="Only this version's calls")
    decision = django_filters.ChoiceFilter(
        choices=[("allowed", "Allowed"), ("blocked", "Blocked")],
        method="filter_decision",
        label="Decision",
    )

    class Meta:
        model = GateCall
        fields = ["model_version", "decision"]

    def filter_decision(self, queryset, name, value):
        return queryset.filter(allowed=value == "allowed")


class GateLogFilterSet(GateCallFilterSet):
    """The gate log page's filters: the API's, with the version also as ``?version=``
    (the name the version page links with) and one call as ``?call=`` (the link the gate
    client prints in a pipeline's log, issue 17)."""

    version = IdFilter(field_name="model_version_id", label="Version")
    call = IdFilter(field_name="pk", label="Call")

    class Meta(GateCallFilterSet.Meta):
        fields = ["model_version", "version", "call", "decision"]


class ValidationFilterSet(django_filters.FilterSet):
    model_version = IdFilter(field_name="model_version_id", label="Only this version's validations")
    validator = django_filters.CharFilter(field_name="validator__username", max_length=150)
    conclusion = django_filters.ChoiceFilter(choices=Validation.Conclusion.choices)
    signed = BooleanFilter(
        field_name="signed_at", lookup_expr="isnull", exclude=True, label="Signed"
    )

    class Meta:
        model = Validation
        fields = ["model_version", "validator", "conclusion", "signed"]
