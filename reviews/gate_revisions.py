"""What the deployment gate's answers (and promotion requests' states) depend on, kept by
the database itself (issue 13).

A gate answer is a pure function of the rows it reads and of the date. So the gate may
answer again what it answered before, without computing it, as long as none of those
rows has changed since: a **revision token** per use case (and one for the rows shared by
every use case: the policy, regulations, questions, datasets, people) changes whenever a
row the gate reads changes. The database keeps the tokens, not Python: a trigger on every
table the gate reads writes a fresh random token for the use case the row belongs to, in
the writer's own transaction, whatever writes it (a service, the admin, a bulk
``update()``, raw SQL, a migration). A token is random, not a counter, so a database
restored from a backup or emptied by the test runner cannot bring back a token an answer
was cached under for another state.

``SCOPES`` maps each table to the SQL that finds the use case of a row (``{row}`` is
``NEW`` or ``OLD``); ``None`` means the shared scope. A row whose use case cannot be found
(its parent already deleted) moves the shared token: every answer is recomputed. The gate
caches an answer only when every table it read while computing it is in ``SCOPES``
(``reviews.selectors.revision_cache``): a selector that starts reading another table makes the
gate compute every time until the table is added here, and
``tests/reviews/test_gate_cache.py`` fails until it is.

The token changes with the row, inside the writer's transaction: an answer computed
inside that transaction (after its writes) is stored under a token nobody else sees
unless the transaction commits, and then with the state it was computed from. (Moving the
tokens at commit instead, in a fixed order, would break that.) The price on PostgreSQL: a
bulk UPDATE outside any transaction across rows of several use cases, meeting a writer
that moves the same tokens in another order, can deadlock; PostgreSQL detects it and
aborts one after a second (a 503 for a page, a retry for a task). Writers inside
transactions are already serialised by the audit chain's lock.

``install_revision_triggers`` runs after every ``migrate`` (``reviews.apps``), like the
append-only guards: idempotent, and again after SQLite rebuilt a table; only on a
database at the latest migrations (the triggers read today's columns).
``remove_revision_triggers`` runs before every ``migrate``: a migration, forward or
back, may change or drop what they read (the token table itself, going back). It
deletes the tokens too, so no answer is served from a token that no longer moves; a
migration run without the command wraps itself in ``revision_triggers_lifted``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator

from django.db import transaction

logger = logging.getLogger(__name__)

SHARED = 0  # the scope of rows that belong to no single use case

_VERSION = (
    "(SELECT m.use_case_id FROM inventory_modelversion v JOIN inventory_mlmodel m "
    "ON m.id = v.model_id WHERE v.id = {row}.%s)"
)
_REQUEST = (
    "(SELECT m.use_case_id FROM reviews_promotionrequest p JOIN inventory_modelversion v "
    "ON v.id = p.model_version_id JOIN inventory_mlmodel m ON m.id = v.model_id "
    "WHERE p.id = {row}.request_id)"
)

SCOPES: dict[str, str | None] = {
    # Inventory
    "inventory_usecase": "{row}.id",
    "inventory_mlmodel": "{row}.use_case_id",
    "inventory_modelversion": (
        "(SELECT m.use_case_id FROM inventory_mlmodel m WHERE m.id = {row}.model_id)"
    ),
    "inventory_modelversion_authors": _VERSION % "modelversion_id",
    "inventory_usecase_datasets": "{row}.usecase_id",
    "inventory_usecase_regulations": "{row}.usecase_id",
    "inventory_dataset": None,
    "inventory_datasetcolumn": None,
    # Governance: the use case's records
    "governance_classification": "{row}.use_case_id",
    "governance_classificationconfirmation": "{row}.use_case_id",
    "governance_ethicsdeviation": "{row}.use_case_id",
    "governance_ethicsdeviationacceptance": (
        "(SELECT d.use_case_id FROM governance_ethicsdeviation d WHERE d.id = {row}.deviation_id)"
    ),
    "governance_obligation": "{row}.use_case_id",
    "governance_obligationevent": (
        "(SELECT o.use_case_id FROM governance_obligation o WHERE o.id = {row}.obligation_id)"
    ),
    # Governance: the framework every use case shares
    "governance_consideration": None,
    "governance_measure": None,
    "governance_policy": None,
    "governance_policyversion": None,
    "governance_policycell": None,
    "governance_policyfindingrule": None,
    "governance_regulation": None,
    "governance_requirement": None,
    "governance_requirementminimum": None,
    "governance_riskquestion": None,
    "governance_riskquestionoption": None,
    "auth_user": None,
    "auth_group": None,
    "auth_user_groups": None,
    "inventory_team": None,
    "inventory_team_members": None,
    # The RACI: the use case's cells and assignments, the shared template
    "governance_usecaseracicell": "{row}.use_case_id",
    "governance_raciassignment": "{row}.use_case_id",
    "governance_racirole": None,
    "governance_racitask": None,
    "governance_racitemplatecell": None,
    # Reviews and monitoring
    "reviews_promotionrequest": _VERSION % "model_version_id",
    "reviews_signature": _REQUEST,  # a request's; any other signature: the shared scope
    "reviews_signaturevoiding": _REQUEST,
    "reviews_blockingwaiver": _REQUEST,
    "reviews_finding": _VERSION % "model_version_id",
    "reviews_findingacceptance": (
        "(SELECT m.use_case_id FROM reviews_finding f JOIN inventory_modelversion v "
        "ON v.id = f.model_version_id JOIN inventory_mlmodel m ON m.id = v.model_id "
        "WHERE f.id = {row}.finding_id)"
    ),
    "reviews_findingevent": (
        "(SELECT m.use_case_id FROM reviews_finding f JOIN inventory_modelversion v "
        "ON v.id = f.model_version_id JOIN inventory_mlmodel m ON m.id = v.model_id "
        "WHERE f.id = {row}.finding_id)"
    ),
    "reviews_validation": _VERSION % "model_version_id",
    "reviews_periodicreview": _VERSION % "model_version_id",
    "reviews_monitoringconfig": _VERSION % "model_version_id",
    "reviews_monitoringwindow": (
        "(SELECT m.use_case_id FROM reviews_monitoringconfig c JOIN inventory_modelversion v "
        "ON v.id = c.model_version_id JOIN inventory_mlmodel m ON m.id = v.model_id "
        "WHERE c.id = {row}.config_id)"
    ),
}

TABLE = "reviews_gaterevision"


def _scope_sql(table: str, row: str) -> str:
    expr = SCOPES[table]
    if expr is None:
        return str(SHARED)
    return f"COALESCE({expr.format(row=row)}, {SHARED})"


_PG_BUMP = """
CREATE OR REPLACE FUNCTION gate_revision_bump(s bigint) RETURNS void AS $$
BEGIN
    INSERT INTO reviews_gaterevision (scope, token) VALUES (s, gen_random_uuid()::text)
    ON CONFLICT (scope) DO UPDATE SET token = EXCLUDED.token;
END;
$$ LANGUAGE plpgsql
"""


def _name(table: str, suffix: str = "") -> str:
    return f"gate_rev_{table}{suffix}"[:63]


def _pg_statements(table: str) -> list[str]:
    function = _name(table)
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM gate_revision_bump({SHARED});
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM gate_revision_bump({_scope_sql(table, "OLD")});
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM gate_revision_bump({_scope_sql(table, "NEW")});
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql""",
        f'CREATE OR REPLACE TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f'CREATE OR REPLACE TRIGGER {_name(table, "_t")} AFTER TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _sqlite_bump(scope: str) -> str:
    # "WHERE true": SQLite's parser needs it between a SELECT and ON CONFLICT.
    return (
        f"INSERT INTO {TABLE} (scope, token) SELECT {scope}, lower(hex(randomblob(16))) "
        "WHERE true ON CONFLICT (scope) DO UPDATE SET token = excluded.token;"
    )


def _sqlite_statements(table: str) -> list[str]:
    rows = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}
    statements = []
    for op, which in rows.items():
        name = _name(table, "_" + op.lower())
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f'CREATE TRIGGER {name} AFTER {op} ON "{table}" BEGIN '
            + " ".join(_sqlite_bump(_scope_sql(table, row)) for row in which)
            + " END",
        ]
    return statements


def remove_revision_triggers(connection) -> list[str]:
    """Drop the triggers (before a migration: the triggers read columns and the token
    table of the current schema, which a migration, forward or back, may change or
    drop); returns the tables they were dropped from. The tokens go too: without
    triggers they would no longer move, and without tokens the gate computes every
    answer. One transaction, the triggers first and the tokens last: a writer meanwhile
    either waits for it (PostgreSQL's DROP TRIGGER locks the table) or bumps a token
    that is then deleted; none is left behind to key a cached answer."""
    existing = set(connection.introspection.table_names())
    tables = [table for table in SCOPES if table in existing]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                for name in (_name(table), _name(table, "_t")):
                    cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
            elif connection.vendor == "sqlite":
                for op in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table, '_' + op)}")
        if TABLE in existing:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
    return tables


@functools.cache
def _leaf_migrations() -> frozenset[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def _at_latest_schema(connection) -> bool:
    """Every app's latest migration is applied (read once per process: the test
    runner's flush sends ``post_migrate`` after every transactional test)."""
    from django.db.migrations.recorder import MigrationRecorder

    applied = MigrationRecorder(connection).applied_migrations()
    return _leaf_migrations() <= set(applied)


def install_revision_triggers(connection) -> list[str]:
    """Create (or refresh) the triggers on every table of ``SCOPES`` the database has,
    and give every scope a fresh token (rows written before the triggers existed have
    none; a migration may have changed anything); returns those tables. Needs the
    tables' owner. A database not at the latest migrations gets none (the triggers are
    written for the current schema); the gate then computes every answer."""
    existing = set(connection.introspection.table_names())
    if TABLE not in existing or not _at_latest_schema(connection):
        logger.warning(
            "The database is not at the latest migrations: no gate revision triggers; "
            "the deployment gate computes every answer until the next full migrate."
        )
        return []
    tables = [table for table in SCOPES if table in existing]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_BUMP)
            for table in tables:
                for statement in _pg_statements(table):
                    cursor.execute(statement)
            cursor.execute(
                f"INSERT INTO {TABLE} (scope, token) SELECT s, gen_random_uuid()::text "  # noqa: S608
                f"FROM (SELECT {SHARED} AS s UNION SELECT id FROM inventory_usecase) AS scopes "
                "ON CONFLICT (scope) DO UPDATE SET token = EXCLUDED.token"
            )
        elif connection.vendor == "sqlite":
            for table in tables:
                for statement in _sqlite_statements(table):
                    cursor.execute(statement)
            cursor.execute(
                f"INSERT INTO {TABLE} (scope, token) SELECT s, lower(hex(randomblob(16))) "  # noqa: S608
                f"FROM (SELECT {SHARED} AS s UNION SELECT id FROM inventory_usecase) "
                "WHERE true ON CONFLICT (scope) DO UPDATE SET token = excluded.token"
            )
        else:  # no triggers: the gate computes every answer
            return []
    return tables


@contextlib.contextmanager
def revision_triggers_lifted(connection) -> Iterator[None]:
    """Within the block there are no revision triggers (a migration run without
    ``migrate``); after it they are back if the database is at the latest schema."""
    remove_revision_triggers(connection)
    try:
        yield
    finally:
        install_revision_triggers(connection)


def remove_before_migrate(sender, using="default", **kwargs) -> None:
    """``pre_migrate`` receiver (once per migrate)."""
    from django.db import connections

    remove_revision_triggers(connections[using])


def install_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver (once per migrate)."""
    from django.db import connections

    install_revision_triggers(connections[using])
