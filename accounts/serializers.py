"""Serializer pieces shared by every app's API.

``OnlyTheseFieldsMixin`` is the project's unknown-field guard: every serializer that
reads a request body puts it first among its bases, so that a key the endpoint does
not take is a 400 naming it, instead of being silently ignored (a pipeline that sends
``description`` to an endpoint that has none expects it to be applied; issue 13).
``tests/test_unknown_fields.py`` finds every serializer with a writable field in the
project and fails for one without the guard.
"""

from collections.abc import Mapping

from rest_framework import serializers

# Keys a browser form adds to any body (the browsable API's forms): not fields.
IGNORED_KEYS = frozenset({"csrfmiddlewaretoken"})
UNKNOWN = "Unknown field: this endpoint does not take it."
READ_ONLY = "This field is read-only: it cannot be set here."


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
        unknown = unknown_keys_errors(data, self.fields)
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
