"""Filter pieces shared by every app's ``filters.py``, so that a query parameter is
parsed the same way on every list endpoint and list page.

An id is a whole number from 1 to the largest 64-bit signed integer: anything else is
refused by the filter (400 on the API, a form error on a page) before it reaches the
database. SQLite raises ``OverflowError`` inside the query for a larger integer, which
used to surface as a 500.
"""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """A row id: a whole number in 1 .. 2**63 - 1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Filter on a foreign key (or primary key) by its id, e.g.
    ``IdFilter(field_name="use_case_id")``; the value is checked by ``IdField``."""

    field_class = IdField

    def get_max_validator(self):
        return None  # IdField carries its own bounds


class ListFiltersOnlyMixin:
    """For a viewset whose filters (or their defaults) narrow the list only: a detail
    URL or an action finds its row whatever the query string says."""

    def filter_queryset(self, queryset):
        if getattr(self, "action", None) != "list":
            return queryset
        return super().filter_queryset(queryset)
