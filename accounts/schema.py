"""The project's OpenAPI generator (``DEFAULT_SCHEMA_CLASS``): drf-spectacular's, made
to say what the API really answers (issue 13: Schemathesis ``--checks all`` found
values returned null where the schema said non-nullable, and error codes the schema did
not name).

- A field read from a nullable model field (``created_by`` of a row made by a
  migration, ``opened_by`` of a finding opened by a worker) or from a method annotated
  ``-> X | None`` is nullable.
- A URL field that may be blank has no ``uri`` format ("" is not a URI).
- Every operation documents the errors any of them may answer: 400 (a bad query value
  or body, a refused rule), 401, 403, 404 (an unknown id, a page past the end), and for
  writes 409 (a conflict with the row's state), 415 and 429. An error body is an object;
  its ``detail`` is a message, or a field's messages when the body has a field of that
  name.
- A list filter's query parameter may be sent empty (``?status=``, as a list page's
  form sends "any"): it then does not filter (``allowEmptyValue``).
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    },
    "additionalProperties": {},
    "description": "`detail`, or the parameters and fields in error with their messages.",
}
READ_ERRORS = {
    "400": "A query value is not valid (named in the answer).",
    "401": "No valid credentials.",
    "403": "Your role may not do this.",
    "404": "No such object (or not visible to you), or a page past the end.",
}
WRITE_ERRORS = {
    **READ_ERRORS,
    "400": "The body or a query value is not valid, or a rule refuses the change.",
    "409": "The object's state does not allow this now.",
    "415": "The body's media type is not accepted.",
    "429": "Too many attempts; try again later.",
}


def _model_fields(field):
    """The model fields ``field`` reads through its source (``a.b.c``), or []."""
    parent = field.parent
    if isinstance(parent, serializers.ListSerializer):
        parent = parent.parent
    model = getattr(getattr(parent, "Meta", None), "model", None)
    found = []
    for attr in getattr(field, "source_attrs", None) or []:
        if model is None:
            return found
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return found
        found.append(model_field)
        model = model_field.related_model
    return found


def _may_be_null(field) -> bool:
    if isinstance(field, serializers.SerializerMethodField):
        method = getattr(field.parent, field.method_name, None)
        annotation = getattr(method, "__annotations__", {}).get("return")
        text = annotation if isinstance(annotation, str) else repr(annotation)
        return annotation is not None and ("None" in text or "Optional" in text)
    return any(getattr(f, "null", False) for f in _model_fields(field))


class AutoSchema(SpectacularAutoSchema):
    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and "nullable" not in meta and _may_be_null(field):
            meta["nullable"] = True
        return meta

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        for name, field in serializer.fields.items():
            prop = schema.get("properties", {}).get(name, {})
            if isinstance(field, serializers.URLField) and prop.get("format") == "uri":
                blank = field.allow_blank or any(
                    getattr(f, "blank", False) for f in _model_fields(field)
                )
                if blank:
                    prop.pop("format")
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = READ_ERRORS if self.method in ("GET", "HEAD", "OPTIONS") else WRITE_ERRORS
        for code, description in errors.items():
            responses.setdefault(
                code,
                {
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                    "description": description,
                },
            )
        return responses
