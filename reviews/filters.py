"""Filters of the sign-off lists: promotion requests, findings and gate calls, shared by
the API and the gate log page. Ids go through ``accounts.filters.IdFilter``."""

from datetime import date

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.filters import BooleanFilter, IdFilter
from core import finding_rules as fr
from reviews.models import Finding, GateCall, PromotionRequest, Validation


class PromotionRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PromotionRequest.Status.choices)
    model_version = IdFilter(field_name="model_version_id", label="Only this version's requests")

    class Meta:
        model = PromotionRequest
        fields = ["status", "model_version"]


class FindingFilterForm(forms.Form):
    """The findings' filters, checked together: a date range that ends before it
    starts, or reaches outside the years a finding can have, is a 400."""

    def clean(self):
        data = super().clean()
        after, before = data.get("opened_after"), data.get("opened_before")
        for name in ("opened_after", "opened_before", "due_before"):
            value = data.get(name)
            if value is not None and not (EARLIEST <= value <= LATEST):
                self.add_error(name, f"Give a date from {EARLIEST} to {LATEST}.")
        if after and before and after > before:
            self.add_error("opened_before", "The range ends before it starts.")
        return data


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class FindingFilterSet(django_filters.FilterSet):
    """Filters of the findings list (page, CSV export and API alike)."""

    model_version = IdFilter(field_name="model_version_id", label="Version")
    use_case = IdFilter(field_name="model_version__model__use_case_id", label="Use case")
    team = IdFilter(field_name="model_version__model__use_case__team_id", label="Team")
    severity = django_filters.ChoiceFilter(choices=Finding.Severity.choices)
    status = django_filters.ChoiceFilter(choices=Finding.Status.choices)
    source = django_filters.ChoiceFilter(choices=Finding.Source.choices)
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150, label="Owner")
    unresolved = BooleanFilter(method="filter_unresolved", label="Still to deal with")
    overdue = BooleanFilter(method="filter_overdue", label="Overdue")
    opened_after = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__gte", label="Opened from"
    )
    opened_before = django_filters.DateFilter(
        field_name="opened_at", lookup_expr="date__lte", label="Opened until"
    )
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label="Due by")

    class Meta:
        model = Finding
        form = FindingFilterForm
        fields = [
            "model_version",
            "use_case",
            "team",
            "severity",
            "status",
            "source",
            "owner",
            "unresolved",
            "overdue",
            "opened_after",
            "opened_before",
            "due_before",
        ]

    def filter_unresolved(self, queryset, name, value):
        if value is None:
            return queryset
        unresolved = [*fr.UNRESOLVED, fr.ACCEPTED]
        if value:
            return queryset.filter(status__in=unresolved)
        return queryset.exclude(status__in=unresolved)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(status__in=fr.UNRESOLVED, due_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


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
