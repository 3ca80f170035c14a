"""The OpenAPI schema is valid with no warnings; the documentation pages work under
the strict CSP (no inline scripts) and need a signed-in user."""

import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/use-cases/", "/api/v1/model-versions/", "/api/v1/auth/token/"} <= set(
        schema["paths"]
    )
    register = schema["paths"]["/api/v1/model-versions/"]["post"]["responses"]
    assert {"200", "201"} <= set(register)
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_needs_a_role(client, auditor, no_role_user, api_client_for):
    assert client.get("/api/schema/").status_code == 401
    assert api_client_for(no_role_user).get("/api/schema/").status_code == 403
    response = api_client_for(auditor).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/use-cases/" in response.json()["paths"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_send_anonymous_visitors_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _inline_scripts(html: str) -> list[str]:
    return [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
        if "src=" not in tag
    ]


def test_swagger_ui_has_no_inline_script_under_strict_csp(client_for, auditor):
    client = client_for(auditor)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert _inline_scripts(html) == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html  # served offline
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    script_src = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    script = client.get(script_src.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content and b"/api/schema/" in script.content


def test_redoc_relaxes_only_inline_styles(client_for, auditor):
    page = client_for(auditor).get("/api/redoc/")
    assert page.status_code == 200
    assert _inline_scripts(page.content.decode()) == []
    csp = page["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "'unsafe-inline'" in next(d for d in csp.split(";") if "style-src" in d)
