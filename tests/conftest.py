"""Shared fixtures: one user per role, a team, clients signed in as each."""

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.factories import TeamFactory, api_token_for, user_with_role

# No timing threshold in a unit test: Hypothesis's per-example deadline (200 ms by
# default) fails property tests on a busy machine, whatever the code does.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")

# Fixtures shared across apps' tests, defined beside the data they build: the sign-off
# world (people in every RACI role), a monitoring configuration, an experiment's arms,
# a model version for bias summaries.
pytest_plugins = [
    "tests.reviews.signoff_world",
    "tests.monitoring.monitoring_data",
    "tests.experiments.experiment_data",
    "tests.fairness.bias_data",
    "tests.fairness.warehouse_data",
    "tests.dashboard.scale_world",
    "tests.db_guard_plugin",
    "tests.sso_fixtures",
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def team(db):
    return TeamFactory(name="Credit risk", slug="credit-risk")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Marketing analytics", slug="marketing")


@pytest.fixture
def data_scientist(team):
    return user_with_role(Role.DATA_SCIENTIST, teams=[team], username="ds")


@pytest.fixture
def other_data_scientist(other_team):
    return user_with_role(Role.DATA_SCIENTIST, teams=[other_team], username="ds-other")


@pytest.fixture
def risk_officer(db):
    return user_with_role(Role.RISK_OFFICER, username="risk")


@pytest.fixture
def governance_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead", is_staff=True)


@pytest.fixture
def approver(db):
    return user_with_role(Role.APPROVER, username="approver")


@pytest.fixture
def auditor(db):
    return user_with_role(Role.AUDITOR, username="auditor")


@pytest.fixture
def validator(db):
    return user_with_role(Role.VALIDATOR, username="validator")


@pytest.fixture
def no_role_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="norole")


@pytest.fixture
def users_by_role(data_scientist, risk_officer, governance_lead, approver, auditor, validator):
    return {
        Role.DATA_SCIENTIST: data_scientist,
        Role.RISK_OFFICER: risk_officer,
        Role.GOVERNANCE_LEAD: governance_lead,
        Role.APPROVER: approver,
        Role.AUDITOR: auditor,
        Role.VALIDATOR: validator,
    }


@pytest.fixture
def api_client_for():
    """api_client_for(user) -> APIClient authenticated with the user's token."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
        return client

    return make


@pytest.fixture
def client_for(client):
    """client_for(user) -> Django test client logged in as the user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


PROJECT_APPS = (
    "audit",
    "notifications",
    "inventory",
    "governance",
    "engagement",
    "reviews",
    "fairness",
    "monitoring",
    "experiments",
)


def load_data_migrations() -> None:
    """Re-run every data migration of the project's apps, each against the model state
    at its place in the migration graph (as ``migrate`` does)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    from accounts.roles import sync_role_permissions
    from audit.db_guard import frozen_lifted

    loader = MigrationLoader(connection)
    leaves = [node for node in loader.graph.leaf_nodes() if node[0] in PROJECT_APPS]
    # The data migrations rewrite published policy cells (governance 0022, 0023), as
    # ``migrate`` lets them (its pre_migrate lifts the frozen rows' guards).
    with frozen_lifted(connection):
        for key in _plan(loader, leaves):
            if key[0] not in PROJECT_APPS:
                continue
            migration = loader.graph.nodes[key]
            if not any(isinstance(op, RunPython) for op in migration.operations):
                continue
            state = loader.project_state(key, at_end=False)
            with connection.schema_editor(atomic=True) as editor:
                for operation in migration.operations:
                    if isinstance(operation, RunPython):
                        operation.code(state.apps, editor)
                    else:
                        operation.state_forwards(key[0], state)
    sync_role_permissions()


def _plan(loader, leaves):
    seen, plan = set(), []
    for leaf in leaves:
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(key)
    return plan


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: a figure kept by ``audit.figures`` for an
    earlier test's records (rolled back, so the audit head may repeat) is not served."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def migrated_content(request):
    """Tests on committed data (transactional_db, live_server, or the mark
    ``django_db(transaction=True)``) start with the content of
    the data migrations (roles, default questionnaire, rules, policy...), as after
    ``migrate``: the teardown of an earlier such test empties every table."""
    marker = request.node.get_closest_marker("django_db")
    committed = marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback")
    )
    if not committed and not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group

    if not Group.objects.exists():
        from audit.db_roles import as_owner

        with as_owner():  # the data migrations' triggers need the tables' owner
            load_data_migrations()


@pytest.fixture(autouse=True, scope="session")
def no_stray_broker_messages():
    """What application code queues (``notifications.jobs.enqueue``, published after
    commit) goes to kombu's in-memory transport, so tests never leave messages in a
    developer's broker. Tests check what is queued in the outbox rows
    (``notifications.JobMarker``); the integration tests send to their private worker."""
    from tests.broker import app_broker

    with app_broker("memory://"):
        yield


# Under pytest-xdist (``make test`` runs two test processes, ``--dist loadgroup``), the
# tests that start worker processes or a browser stay together on one test process, as
# do the demo tests (their portfolio is seeded once per process that runs them).
SERIAL_GROUPS = ("integration", "browser", "demo")


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = item.nodeid.split("/")
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in SERIAL_GROUPS:
            item.add_marker(pytest.mark.xdist_group(parts[1]))
