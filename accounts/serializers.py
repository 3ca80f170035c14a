"""Serializer pieces shared by every app's API.

``OnlyTheseFieldsMixin`` is the project's unknown-field guard: every serializer that
reads a request body puts it first among its bases, so that a key the endpoint does
not take is a 400 naming it, instead of being silently ignored (a pipeline that sends
``description`` to an endpoint that has none expects it to be applied; issue 13).
``tests/test_unknown_fields.py`` finds every serializer with a writable field in the
project and fails for one without the guard.

The guard also holds a JSON body to the types the schema names (issue 13, Schemathesis
``--checks all``): DRF would read ``0`` as the text "0", ``"5"`` as the number 5 and
``"yes"`` as true. A form body is text throughout, so there only a list of objects (a
nested serializer, which a form cannot carry and DRF silently dropped) is refused.
"""

from collections.abc import Mapping

from rest_framework import relations, serializers
from rest_framework.utils import html

# Keys a browser form adds to any body (the browsable API's forms): not fields.
IGNORED_KEYS = frozenset({"csrfmiddlewaretoken"})
UNKNOWN = "Unknown field: this endpoint does not take it."
READ_ONLY = "This field is read-only: it cannot be set here."
NOT_IN_A_FORM = "Send this field in a JSON body (Content-Type: application/json)."
# (field class, the JSON types it takes, the message): the first class that matches.
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.MultipleChoiceField, (list,), "Must be a list of choices."),
    (serializers.ChoiceField, (str, int), "Must be one of the choices."),
    (serializers.IntegerField, (int,), "Must be a whole number."),
    (serializers.FloatField, (int, float), "Must be a number."),
    (relations.PrimaryKeyRelatedField, (int,), "Must be an id (a whole number)."),
    (relations.SlugRelatedField, (str,), "Must be a string."),
)


def _json_type_error(field, value) -> str | None:
    """Why ``value`` (from a JSON body) is not of the type ``field`` takes, or None."""
    if value is None:
        return None  # the field's own allow_null decides
    if isinstance(field, serializers.ListField | relations.ManyRelatedField):
        if not isinstance(value, list):
            return None  # the field's own message
        child = getattr(field, "child", None) or getattr(field, "child_relation", None)
        return next((e for item in value if (e := _json_type_error(child, item))), None)
    for kind, types, message in JSON_TYPES:
        if isinstance(field, kind):
            ok = isinstance(value, types) and not (bool not in types and isinstance(value, bool))
            return None if ok else message
    return None


def type_errors(data, fields) -> dict[str, list[str]]:
    """{key: [reason]} for the values of ``data`` whose type the field does not take:
    in a JSON body, a value of the wrong JSON type; in a form, a nested object."""
    if not isinstance(data, Mapping):
        return {}
    form = html.is_html_input(data)
    errors = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None or field.read_only:
            continue
        if form:
            nested = isinstance(field, serializers.BaseSerializer)
            error = NOT_IN_A_FORM if nested else None
        else:
            error = _json_type_error(field, value)
        if error:
            errors[str(key)] = [error]
    return errors


def unknown_keys_errors(data, fields) -> dict[str, list[str]]:
    """{key: [reason]} for the keys of ``data`` that are not writable ``fields``."""
    if not isinstance(data, Mapping):
        return {}
    errors = {}
    for key in data:
        if key in IGNORED_KEYS:
            continue
        field = fields.get(key)
        if field is None:
            errors[str(key)] = [UNKNOWN]
        elif field.read_only:
            errors[str(key)] = [READ_ONLY]
    return errors


class OnlyTheseFieldsMixin:
    """Refuse (400) any key that is not a writable field of the serializer, with the
    errors of the other fields in the same answer. Put it first among the bases:
    ``class FooSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer)``."""

    def to_internal_value(self, data):
        unknown = unknown_keys_errors(data, self.fields) | type_errors(data, self.fields)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not unknown:
                raise
            detail = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            raise serializers.ValidationError({**detail, **unknown}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    """A plain input serializer with the unknown-field guard."""


class StrictModelSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    """A model serializer with the unknown-field guard."""
