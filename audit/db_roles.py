"""Least privilege on PostgreSQL: two roles (issue 13).

- The **owner** owns the database's tables: it runs ``migrate`` (and so creates the
  append-only triggers, ``audit.db_guard``). Its URL is ``DATABASE_OWNER_URL``;
  ``migrate`` and ``db_roles`` connect with it when it is set.
- The **application role** (``DATABASE_URL``) is what the web server, the workers and
  beat use. It owns nothing, so it can neither ALTER a table nor disable a trigger, and
  it gets only what it needs: SELECT and INSERT on the append-only tables (no UPDATE,
  DELETE or TRUNCATE), SELECT on ``django_migrations``, SELECT, INSERT, UPDATE and
  DELETE on the other tables (never TRUNCATE, REFERENCES or TRIGGER), and the use of
  the sequences.

``grant_statements`` says what to run; ``apply_grants`` runs it in one transaction
(after every ``migrate``, through ``post_migrate``, when ``DATABASE_APP_ROLE`` is set),
and ``manage.py db_roles`` prints or applies it. Tables created later by the owner get
SELECT and INSERT only (default privileges) until the grants run again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import transaction

from audit.db_guard import append_only_tables

# Append-only tables whose rows a service locks (SELECT ... FOR UPDATE needs the UPDATE
# privilege on one column): UPDATE of their id column only; the row trigger still
# refuses any UPDATE. governance.services.framework_changes locks a proposal while it
# is decided; governance.services.ethics locks an answer set while it is approved.
ROW_LOCKED = (
    "governance_frameworkchange",
    "governance_ethicsanswerset",
    "governance_changedeclaration",  # change_confirm locks the declaration it confirms
)
READ_ONLY = ("django_migrations",)
CRUD = "SELECT, INSERT, UPDATE, DELETE"


def grant_statements(*, connection, app_role: str) -> list[str]:
    """The SQL that gives ``app_role`` exactly its privileges on the connection's
    database and current schema (run it as the owner)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema(), current_user")
        database, schema, owner = cursor.fetchone()
    role, schema_q = quote(app_role), quote(schema)
    tables = set(connection.introspection.table_names())
    guarded = set(append_only_tables(connection))
    read_only = tables & set(READ_ONLY)
    ordinary = sorted(tables - guarded - read_only)

    def on(names) -> str:
        return ", ".join(quote(name) for name in sorted(names))

    statements = [
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema_q} TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_q} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_q} FROM {role}",
    ]
    if ordinary:
        statements.append(f"GRANT {CRUD} ON {on(ordinary)} TO {role}")
    if guarded:
        statements.append(f"GRANT SELECT, INSERT ON {on(guarded)} TO {role}")
    statements += [f"GRANT UPDATE (id) ON {quote(t)} TO {role}" for t in ROW_LOCKED if t in guarded]
    if read_only:
        statements.append(f"GRANT SELECT ON {on(read_only)} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_q} TO {role}",
        # Tables a later migration creates: readable and insertable until the grants
        # run again (after that migrate), never more.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_q} "
        f"GRANT SELECT, INSERT ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_q} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return statements


def role_problems(*, connection, app_role: str) -> list[str]:
    """Why ``app_role`` is not a least-privilege role on this database (empty: it is)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, pg_has_role(%s, current_user, 'MEMBER') "
            "FROM pg_roles WHERE rolname = %s",
            [app_role, app_role],
        )
        row = cursor.fetchone()
        if row is None:
            return [f"the role {app_role} does not exist (CREATE ROLE {app_role} LOGIN ...)"]
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND tableowner = %s",
            [app_role],
        )
        owned = cursor.fetchone()[0]
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    problems = []
    if app_role == owner:
        problems.append(f"{app_role} is the role running this: the owner, not an application role")
    if row[0] or row[1]:
        problems.append(f"{app_role} is a superuser or bypasses row security")
    if row[2] and app_role != owner:
        problems.append(f"{app_role} is a member of the owner role {owner}")
    if owned:
        problems.append(f"{app_role} owns {owned} table(s): it could disable their triggers")
    return problems


def apply_grants(*, connection, app_role: str) -> list[str]:
    """Run ``grant_statements`` in one transaction; returns them. Refuses (ValueError)
    a role that is not a least-privilege role."""
    problems = role_problems(connection=connection, app_role=app_role)
    if problems:
        raise ValueError("; ".join(problems))
    statements = grant_statements(connection=connection, app_role=app_role)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[bool]:
    """Within the block the connection ``alias`` uses the owner's credentials
    (``DATABASE_OWNER``, from ``DATABASE_OWNER_URL``) if they are set and differ; yields
    whether it switched. Closes the connection on the way in and out, so it cannot be
    used inside a transaction."""
    from django.conf import settings
    from django.db import connections

    owner = getattr(settings, "DATABASE_OWNER", None) or {}
    connection = connections[alias]
    keys = ("USER", "PASSWORD", "HOST", "PORT")
    wanted = {key: owner[key] for key in keys if owner.get(key) not in (None, "")}
    if (
        connection.vendor != "postgresql"
        or not wanted.get("USER")
        or wanted["USER"] == connection.settings_dict.get("USER")
    ):
        yield False
        return
    if connection.in_atomic_block:
        raise RuntimeError("as_owner() cannot switch roles inside a transaction.")
    saved = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update(wanted)
    try:
        yield True
    finally:
        connection.close()
        connection.settings_dict.update(saved)
