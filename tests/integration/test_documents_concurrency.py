"""Documents asked for and signed at the same moment (issue 15), by two OS processes on
the test database (a file SQLite or PostgreSQL), each with several threads, through
Django test clients that count a view's exception as a 500: six requests for one new
document make one row and no 5xx; a validator who double-clicks "Sign" from two
browsers gets one signature."""

import pytest
from django.urls import reverse

from documents import rendering
from documents.models import DocumentSignature, GeneratedDocument
from documents.services import generation
from tests.factories import (
    PASSWORD,
    ModelVersionFactory,
    api_token_for,
    signed_validation,
    validator_user,
)
from tests.integration.conftest import production_password, run_burst

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_six_simultaneous_requests_for_one_new_document_make_one_row(
    transactional_db, media, team, data_scientist, tmp_path
):
    version = ModelVersionFactory(model__use_case__team=team)
    post = {
        "kind": "document",
        "threads": 3,
        "url": "/api/v1/documents/",
        "data": {"kind": "model_card", "model_version": version.pk},
    }
    plans = [
        {"name": name, "token": api_token_for(data_scientist), "json_posts": [post]}
        for name in ("a", "b")
    ]

    results = run_burst(plans, tmp_path)

    codes = sorted(code for _kind, code in results)
    assert len(codes) == 6 and set(codes) <= {200, 202}
    assert codes.count(202) == 1  # one made it; the others got that one back
    assert GeneratedDocument.objects.filter(model_version=version).count() == 1


def test_a_validator_signing_from_two_browsers_at_once_signs_once(
    transactional_db, media, team, risk_officer, tmp_path, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    version = ModelVersionFactory(model__use_case__team=team)
    validator = validator_user("double-click")
    signed_validation(version, by=validator)
    document, _ = generation.document_request(
        user=risk_officer, version=version, kind="validation_report"
    )
    generation.document_render(document_id=document.pk)
    production_password(validator, PASSWORD)
    sign = {
        "user": validator.username,
        "url": reverse("documents:document-sign", args=[document.pk]),
        "data": {"password": PASSWORD},
    }
    plans = [{"name": name, "token": "", "sign": sign} for name in ("a", "b")]

    results = run_burst(plans, tmp_path)

    codes = sorted(code for _kind, code in results)
    assert codes[0] == 302 and codes[1] in (400, 403), codes  # one signed; one told why
    assert DocumentSignature.objects.filter(document=document).count() == 1
