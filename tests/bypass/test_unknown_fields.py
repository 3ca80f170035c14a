"""Unknown keys in a write payload are a 400 naming them, on every endpoint (issue 13:
``PATCH /api/v1/use-cases/{id}/`` with ``description`` answered 200 and ignored it).

The request serializers are found from the OpenAPI schema, so a new endpoint is
checked without being listed here: every serializer that reads a request body (and
every serializer nested in one) must carry ``accounts.serializers.OnlyTheseFieldsMixin``
and refuse a key it does not know.
"""

import functools

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from accounts.serializers import OnlyTheseFieldsMixin
from inventory.models import MLModel, UseCase
from tests.factories import MLModelFactory, UseCaseFactory
from tests.list_checks import api_client

BOGUS = "zz_not_a_field"


@functools.cache
def request_serializers() -> dict[type, str]:
    """{serializer class: "METHOD path"} for every request body of the API schema and
    every serializer nested in one."""
    found: dict[type, str] = {}
    original = AutoSchema._get_request_for_media_type

    def record(schema, serializer, *args, **kwargs):
        if schema.method in ("POST", "PUT", "PATCH"):
            todo = [serializer]
            while todo:
                item = todo.pop()
                if isinstance(item, serializers.ListSerializer):
                    item = item.child
                if isinstance(item, type) and issubclass(item, serializers.BaseSerializer):
                    item = item()
                if not isinstance(item, serializers.Serializer):
                    continue
                found.setdefault(type(item), f"{schema.method} {schema.path}")
                todo.extend(item.fields.values())
        return original(schema, serializer, *args, **kwargs)

    AutoSchema._get_request_for_media_type = record
    try:
        SchemaGenerator().get_schema(request=None, public=True)
    finally:
        AutoSchema._get_request_for_media_type = original
    return found


def test_the_schema_has_request_serializers():
    found = request_serializers()
    # The guard is checked on what the schema gives: make sure it gives something.
    assert len(found) > 30
    assert any("/api/v1/use-cases/" in where for where in found.values())


def test_every_request_serializer_refuses_unknown_keys(db):
    missing = []
    for cls, where in request_serializers().items():
        if not issubclass(cls, OnlyTheseFieldsMixin):
            missing.append(f"{cls.__module__}.{cls.__qualname__} ({where})")
            continue
        serializer = cls(data={BOGUS: "x"})
        assert not serializer.is_valid(), cls
        assert BOGUS in serializer.errors, (cls, serializer.errors)
    assert not missing, (
        "Request serializers without the unknown-field guard "
        "(add accounts.serializers.OnlyTheseFieldsMixin first among the bases): "
        + ", ".join(sorted(missing))
    )


@pytest.mark.django_db
def test_patching_a_use_case_with_an_unknown_key_is_refused(data_scientist):
    use_case = UseCaseFactory(team=data_scientist.teams.first(), name="Churn")
    response = api_client(data_scientist).patch(
        f"/api/v1/use-cases/{use_case.pk}/",
        {"name": "Churn v2", "description": "ignored before"},
        format="json",
    )
    assert response.status_code == 400
    assert "description" in response.json()
    assert UseCase.objects.get(pk=use_case.pk).name == "Churn"


@pytest.mark.django_db
def test_a_read_only_field_in_a_payload_is_refused(data_scientist):
    use_case = UseCaseFactory(team=data_scientist.teams.first(), name="Churn")
    response = api_client(data_scientist).patch(
        f"/api/v1/use-cases/{use_case.pk}/", {"risk_tier": 1, "name": "X"}, format="json"
    )
    assert response.status_code == 400
    assert "risk_tier" in response.json()
    assert UseCase.objects.get(pk=use_case.pk).name == "Churn"


@pytest.mark.django_db
def test_registering_a_model_with_an_unknown_key_writes_nothing(data_scientist):
    use_case = UseCaseFactory(team=data_scientist.teams.first())
    response = api_client(data_scientist).post(
        "/api/v1/models/",
        {"use_case": use_case.pk, "name": "m1", "owner": "someone"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["owner"]
    assert not MLModel.objects.filter(use_case=use_case).exists()


@pytest.mark.django_db
def test_unknown_keys_are_named_with_the_other_errors(data_scientist):
    model = MLModelFactory(use_case__team=data_scientist.teams.first())
    response = api_client(data_scientist).patch(
        f"/api/v1/models/{model.pk}/", {"descriptionn": "typo"}, format="json"
    )
    assert response.status_code == 400
    assert "descriptionn" in response.json()
