"""PostgreSQL restarted mid-request (issue 13): the person gets a clear 503 with
Retry-After, never a 500 page with a traceback; other errors keep the 500 page.

The driver's failure is reproduced where it happens, in the database cursor: every
statement after the switch raises the ``OperationalError`` a closed connection raises.
"""

import pytest
from django.db.backends import utils as db_utils
from django.db.utils import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import api_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_gone(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    def switch():
        monkeypatch.setattr(db_utils.CursorWrapper, "execute", refuse)
        monkeypatch.setattr(db_utils.CursorWrapper, "executemany", refuse)

    return switch


def test_a_page_answers_503_when_the_database_is_gone(risk_officer, database_gone):
    client = Client(raise_request_exception=False)
    client.force_login(risk_officer)  # the session is loaded in middleware, before the view
    database_gone()
    response = client.get("/inventory/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "cannot reach its database" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_an_api_call_answers_503_json_when_the_database_is_gone(risk_officer, database_gone):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(risk_officer)}")
    database_gone()
    response = client.post(
        "/api/v1/gate/", {"model_version": 1, "environment": "prod"}, format="json"
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "not answering" in response.json()["detail"]


def _failing_on(monkeypatch, table: str, error: Exception):
    """Statements on ``table`` raise ``error``; the session and the user still load."""
    original = db_utils.CursorWrapper.execute

    def execute(self, sql, params=None):
        if table in sql:
            raise error
        return original(self, sql, params)

    monkeypatch.setattr(db_utils.CursorWrapper, "execute", execute)


def test_the_view_own_query_failing_is_a_503_too(risk_officer, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(risk_officer)
    _failing_on(monkeypatch, "inventory_usecase", OperationalError("terminating connection"))
    response = client.get("/inventory/")
    assert response.status_code == 503
    assert "cannot reach its database" in response.content.decode()


def test_other_errors_keep_the_500_page(risk_officer, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(risk_officer)
    _failing_on(monkeypatch, "inventory_usecase", ZeroDivisionError("a bug"))
    response = client.get("/inventory/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
