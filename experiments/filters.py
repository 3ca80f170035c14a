"""Filters of the experiment list, shared by the API and the experiments page. Ids go
through ``accounts.filters.IdFilter``."""

import django_filters

from accounts.filters import IdFilter
from experiments.models import Experiment


class ExperimentFilterSet(django_filters.FilterSet):
    use_case = IdFilter(field_name="use_case_id", label="Only this use case's experiments")
    status = django_filters.ChoiceFilter(choices=Experiment.Status.choices)

    class Meta:
        model = Experiment
        fields = ["use_case", "status"]
