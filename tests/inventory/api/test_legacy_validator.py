"""The version's old ``validator`` column (named at registration, before validations
were recorded and signed, issue 12) is legacy: nobody sets it any more, and pages and
the API show the version's signed validation as its validation, the old name only as
legacy."""

import pytest
from django.urls import reverse

from inventory.models import ModelVersion
from tests.factories import signed_validation

pytestmark = pytest.mark.django_db

API = "/api/v1/model-versions/"


def payload(version, **extra):
    return {
        "model": version.model_id,
        "version_label": "7.0",
        "artifact_uri": "s3://models/x/7.0/model.pkl",
        "artifact_sha256": "c" * 64,
        "framework": "xgboost 3.0",
        **extra,
    }


def test_the_api_refuses_to_name_a_validator_and_writes_nothing(
    world, api_client_for, data_scientist, risk_officer
):
    _, version = world
    answer = api_client_for(data_scientist).post(
        API, payload(version, validator=risk_officer.username), format="json"
    )
    assert answer.status_code == 400
    assert "read-only" in answer.json()["validator"][0]
    assert not ModelVersion.objects.filter(version_label="7.0").exists()


def test_the_registration_form_has_no_validator_and_ignores_one_posted(
    world, client_for, data_scientist, risk_officer
):
    _, version = world
    url = reverse("inventory:version-create", args=[version.model_id])
    page = client_for(data_scientist).get(url)
    assert page.status_code == 200 and b'name="validator"' not in page.content
    posted = client_for(data_scientist).post(
        url,
        {**payload(version, validator=risk_officer.pk), "authors": [data_scientist.pk]},
    )
    assert posted.status_code == 302, posted.content
    assert ModelVersion.objects.get(version_label="7.0").validator_id is None


def test_the_api_shows_the_signed_validation_and_the_old_name_as_legacy(
    world, api_client_for, auditor, risk_officer
):
    _, version = world
    ModelVersion.objects.filter(pk=version.pk).update(validator=risk_officer)
    body = api_client_for(auditor).get(f"{API}{version.pk}/").json()
    assert body["validator"] is None and body["validation"] is None
    assert body["legacy_validator"] == risk_officer.username
    validation = signed_validation(version)
    body = api_client_for(auditor).get(f"{API}{version.pk}/").json()
    assert body["validator"] == validation.validator.username
    assert body["validation"]["id"] == validation.pk
    assert body["validation"]["conclusion"] == "approve"
    listed = api_client_for(auditor).get(API).json()["results"]
    assert {v["validator"] for v in listed if v["id"] == version.pk} == {
        validation.validator.username
    }


def test_the_version_page_shows_the_signed_validation_not_the_legacy_name(
    world, client_for, auditor, risk_officer
):
    _, version = world
    ModelVersion.objects.filter(pk=version.pk).update(validator=risk_officer)
    url = reverse("reviews:version", args=[version.pk])
    page = client_for(auditor).get(url).content.decode()
    assert "none signed" in page and "Named at registration (legacy)" in page
    validation = signed_validation(version)
    page = client_for(auditor).get(url).content.decode()
    assert reverse("reviews:validation-detail", args=[validation.pk]) in page
    assert "none signed" not in page
