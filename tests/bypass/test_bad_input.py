"""Bad values in a URL, a query string or a body are a 400/404 with a reason, never a
500, on every API route; every call to the gate is logged, malformed ones included
(issue 13, "500s from input"). The routes and their parameters are read from the
OpenAPI schema, so a new route is checked without being listed here."""

import functools
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from reviews.models import GateCall
from tests.list_checks import HUGE, api_client

pytestmark = pytest.mark.django_db

BAD_INTEGERS = ["abc", HUGE, "-1", "1.5"]


@functools.cache
def operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper(), op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _kind(param: dict) -> str:
    schema = param.get("schema", {})
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    if "enum" in schema:
        return "enum"
    return schema.get("type", "")


def _fill(path: str, name: str, value: str) -> str:
    """The path with ``{name}`` set to value and every other parameter to 1."""
    path = path.replace("{" + name + "}", value)
    return re.sub(r"\{[^}]+\}", "1", path)


def path_cases():
    for path, method, op in operations():
        for param in op.get("parameters", []):
            if param["in"] == "path" and _kind(param) == "integer":
                for value in BAD_INTEGERS:
                    yield method, _fill(path, param["name"], value)


def query_cases():
    for path, method, op in operations():
        if method != "GET" or "{" in path:
            continue
        for param in op.get("parameters", []):
            if param["in"] != "query" or param["name"] == "page":
                continue
            kind = _kind(param)
            values = {"integer": ["abc", HUGE], "boolean": ["bogus"], "enum": ["bogus"]}
            for value in values.get(kind, []):
                yield path, param["name"], value


def test_the_schema_gives_cases():
    assert len(list(path_cases())) > 100
    names = {name for _, name, _ in query_cases()}
    assert {"use_case", "unclassified", "status"} <= names


def test_bad_ids_in_paths_are_404_never_500(governance_lead):
    client = api_client(governance_lead)
    wrong = []
    for method, url in path_cases():
        response = getattr(client, method.lower())(url, {}, format="json")
        if response.status_code >= 500 or response.status_code == 200:
            wrong.append(f"{method} {url} -> {response.status_code}")
        elif response.status_code == 404:
            assert response["Content-Type"].startswith("application/json"), url
    assert not wrong, wrong


def test_bad_query_values_are_400_naming_the_parameter(governance_lead):
    client = api_client(governance_lead)
    wrong = []
    for url, name, value in query_cases():
        response = client.get(url, {name: value})
        if response.status_code != 400 or name not in response.json():
            wrong.append(f"{url}?{name}={value} -> {response.status_code}")
    assert not wrong, wrong


@pytest.mark.parametrize("value", ["", "abc", HUGE])
def test_a_bad_page_is_404_saying_page(governance_lead, value):
    response = api_client(governance_lead).get("/api/v1/use-cases/", {"page": value})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("page:")


def test_a_non_numeric_raci_matrix_id_is_404(governance_lead):
    # issue 13: /api/v1/raci-matrices/abc/ was a ValueError (500)
    client = api_client(governance_lead)
    assert client.get("/api/v1/raci-matrices/abc/").status_code == 404
    response = client.delete("/api/v1/raci-matrices/null,null/assignments/0/")
    assert response.status_code == 404


def test_an_unmatched_api_url_is_a_json_404(governance_lead):
    response = api_client(governance_lead).get("/api/v1/framework-changes/abc/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


class TestGateLogsMalformedCalls:
    """``POST /api/v1/gate/``: every call is a GateCall, blocked, whatever the body."""

    def _post(self, user, body, content_type):
        return api_client(user).generic("POST", "/api/v1/gate/", body, content_type=content_type)

    @pytest.mark.parametrize(
        "body, content_type",
        [
            ("[1, 2]", "application/json"),
            ('"a string"', "application/json"),
            ("{not json", "application/json"),
            ("model_version=1", "text/plain"),
            ('{"environment": "prod", "model_version": 1, "extra": 1}', "application/json"),
            ('{"environment": "prod", "model_version": 99999999999999999999}', "application/json"),
        ],
    )
    def test_malformed_body_is_refused_and_logged(self, data_scientist, body, content_type):
        response = self._post(data_scientist, body, content_type)
        assert 400 <= response.status_code < 500
        data = response.json()
        assert data["allowed"] is False and data["decision"] == "blocked"
        call = GateCall.objects.get(pk=data["call"])
        assert call.caller == data_scientist
        assert call.allowed is False
        assert call.reasons[0]["code"] == "bad-request"

    def test_a_caller_without_a_role_is_refused_and_logged(self, no_role_user):
        response = self._post(no_role_user, '{"environment": "prod"}', "application/json")
        assert response.status_code == 403
        call = GateCall.objects.get(pk=response.json()["call"])
        assert call.caller == no_role_user and call.reasons[0]["code"] == "no-role"
