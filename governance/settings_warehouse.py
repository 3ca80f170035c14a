"""Scored data where it lives (issue 17): bias counts pushed down to a registered
warehouse connection. Read from the environment (``governance.settings`` has loaded
``.env`` before importing this module); every variable is in ``.env.example``.

A connection's secret (its DSN, SQLAlchemy URL or DuckDB folder) is never stored: the
connection names an environment variable, which must start with
``WAREHOUSE_SECRET_PREFIX`` so that no connection can point at the product's own
database URL or secret key."""

import environ

env = environ.Env()

# Longest a pushed-down count statement may run; past it the engine cancels it and the
# summary fails with that reason (PostgreSQL statement_timeout, DuckDB interrupt).
WAREHOUSE_STATEMENT_TIMEOUT_SECONDS = env.int("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", default=300)
# Longest wait for a connection to the engine.
WAREHOUSE_CONNECT_TIMEOUT_SECONDS = env.int("WAREHOUSE_CONNECT_TIMEOUT_SECONDS", default=10)
# Count rows fetched per round trip.
WAREHOUSE_FETCH_ROWS = env.int("WAREHOUSE_FETCH_ROWS", default=10_000)
# Environment variables a connection may name for its secret start with this.
WAREHOUSE_SECRET_PREFIX = env.str("WAREHOUSE_SECRET_PREFIX", default="WAREHOUSE_DSN_")
