"""Filters of the bias lists: scored datasets and bias summaries (API). Ids go through
``accounts.filters.IdFilter``."""

import django_filters

from accounts.filters import IdFilter
from fairness.models import BiasSummary, ScoredDataset


class ScoredDatasetFilterSet(django_filters.FilterSet):
    model_version = IdFilter(field_name="model_version_id", label="Only this version's datasets")
    status = django_filters.ChoiceFilter(
        choices=ScoredDataset.Status.choices, label="Only datasets in this state"
    )

    class Meta:
        model = ScoredDataset
        fields = ["model_version", "status"]


class BiasSummaryFilterSet(django_filters.FilterSet):
    model_version = IdFilter(
        field_name="dataset__model_version_id", label="Only this version's summaries"
    )
    dataset = IdFilter(field_name="dataset_id", label="Only this dataset's summaries")

    class Meta:
        model = BiasSummary
        fields = ["model_version", "dataset"]
