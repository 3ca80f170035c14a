"""Schemathesis against the API on the demo portfolio, as each demo role (issue 13:
``--checks all`` found 500s from input, values null where the schema said
non-nullable, and status codes the schema did not name).

Every operation of the OpenAPI schema gets a few generated requests, each sent with
the API token of every demo role through the WSGI application (no server), and each
answer is checked as CI checks it (.ci/run step 4c, ``scripts/api_fuzz.py``): every
check of ``--checks all`` with the expected answers of ``schemathesis.toml`` (found
and read by ``schemathesis.openapi.from_dict``), except the two that only a stateful
run against a server can make (``use_after_free``, ``ensure_resource_availability``:
they follow a created or deleted resource across calls; CI's stateful phase does).
Bounded (``MAX_EXAMPLES``); RUN_API_FUZZ=1 to run it, as it takes minutes.
"""

import json
import os

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from accounts.services import api_token_create

MAX_EXAMPLES = 2
ROLES = (
    "risk.officer",
    "governance.lead",
    "data.scientist",
    "approver",
    "auditor",
    "model.validator",
)

raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
schema = schemathesis.openapi.from_dict(raw)
app = get_wsgi_application()


@pytest.fixture
def tokens(demo_output, db):
    # The WSGI handler closes the connection after each request, which would end the
    # test's transaction: the test client does the same disconnection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {
            username: api_token_create(user=User.objects.get(username=username), name="fuzz")[1]
            for username in ROLES
        }
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Off in `make test` (minutes; CI fuzzes a live server in step 4c):
# RUN_API_FUZZ=1 make test ARGS="tests/demo/test_api_schemathesis.py".
@pytest.mark.skipif(
    os.environ.get("RUN_API_FUZZ") != "1", reason="set RUN_API_FUZZ=1 to fuzz the API"
)
@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, tokens):
    for token in tokens.values():
        case.call_and_validate(
            app=app,
            headers={"Authorization": f"Token {token}"},
            excluded_checks=[use_after_free, ensure_resource_availability],
        )
