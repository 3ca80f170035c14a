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


def parse_id(value) -> int | None:
    """A row id from a URL or a query value, or None when it is not one (not a whole
    number, or out of 1 .. MAX_ID): the caller answers 404/400 instead of a 500."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


# Not Django's legacy NullBooleanSelect "2"/"3" (its select sends true/false/unknown):
# "2" is not a boolean, and the schema says boolean (issue 13, Schemathesis).
TRUE_WORDS = frozenset({"true", "1", "on", "yes"})
FALSE_WORDS = frozenset({"false", "0", "off", "no"})
UNSET_WORDS = frozenset({"", "unknown"})


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """Django's yes/no/unknown select; the value is passed on as given, for the field
    to read or refuse (Django's reads a value it does not know as "not given")."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictCheckboxInput(forms.CheckboxInput):
    """A checkbox whose value is passed on as given (Django's reads any string but
    "false" and "0" as ticked)."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.NullBooleanField):
    """true / false (also 1/0, on/off, yes/no), or nothing; anything else is a form
    error (a 400 on the API)."""

    widget = StrictNullBooleanSelect

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        if word in UNSET_WORDS:
            return None
        raise forms.ValidationError("Use true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    """django-filter's BooleanFilter, except that ``?flag=bogus`` is a 400 naming the
    parameter instead of being ignored (issue 13: bad query values are 400 everywhere)."""

    field_class = StrictBooleanField
