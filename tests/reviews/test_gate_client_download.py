"""The dashboard serves the pipelines' gate client (issue 17): the same file from the
gate log page and from the API with the pipeline's own token."""

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse

from governance_gate import client as gate_client

pytestmark = pytest.mark.django_db

API_CLIENT = "/api/v1/gate/client/"
SOURCE = Path(gate_client.__file__).read_bytes()


def assert_is_the_client(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="governance_gate.py"'
    assert response.content == SOURCE


def test_the_gate_log_page_links_the_client_with_its_sha256(client_for, auditor):
    page = client_for(auditor).get(reverse("reviews:gate-log"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("reviews:gate-client") in html
    assert hashlib.sha256(SOURCE).hexdigest() in html
    assert f"version {gate_client.__version__}" in html
    assert_is_the_client(client_for(auditor).get(reverse("reviews:gate-client")))


def test_the_gate_log_page_shows_the_call_a_pipeline_log_names(
    client_for, api_client_for, auditor, data_scientist
):
    api = api_client_for(data_scientist)
    first, second = (
        api.post(
            "/api/v1/gate/", {"model_version": 999999, "environment": env}, format="json"
        ).json()["call"]
        for env in ("qa", "prod")
    )
    page = client_for(auditor).get(reverse("reviews:gate-log"), {"call": first})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<td class="mono">{first}</td>' in html
    assert f'<td class="mono">{second}</td>' not in html
    bad = client_for(auditor).get(reverse("reviews:gate-log"), {"call": "x"})
    assert bad.status_code == 200  # as the page's other filters: the form shows the error
    assert '<span class="mono">call</span>' in bad.content.decode()


def test_a_pipeline_fetches_the_client_with_its_token(api_client_for, data_scientist):
    api = api_client_for(data_scientist)
    assert_is_the_client(api.get(API_CLIENT))
    # Whatever the Accept header names, the answer is the file (no 406).
    assert_is_the_client(api.get(API_CLIENT, HTTP_ACCEPT="text/x-python"))
    assert_is_the_client(api.get(API_CLIENT, HTTP_ACCEPT="application/json"))


def test_the_api_schema_documents_the_download(auditor, api_client_for):
    schema = api_client_for(auditor).get("/api/schema/?format=json").json()
    answer = schema["paths"][API_CLIENT]["get"]["responses"]["200"]
    assert "text/x-python" in answer["content"]
