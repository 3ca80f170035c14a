# Two commands for a new user:
#   make run    install, migrate, load the demo portfolio, start web + Celery worker + beat
#   make test   install the test tools and run the whole test suite (ARGS="-k ..." to narrow)
# Both work with no environment (SQLite + Celery's filesystem broker) and are idempotent.
# Set DATABASE_URL / CELERY_BROKER_URL (or put them in .env) for PostgreSQL / Redis.

VENV ?= .venv
PORT ?= 8000
ARGS ?=
# Test processes (pytest-xdist): auto = one per core; 0 runs everything in this process.
PYTEST_WORKERS ?= auto
PY := $(VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help run run-mlflow prod test venv venv-dev venv-evidently venv-mlflow oidc-provider migrate seed lint format

help:
	@echo "make run     start the dashboard on http://127.0.0.1:$(PORT)/ (web, Celery worker, beat)"
	@echo "make run-mlflow  make run with a local MLflow server holding a synced demo registry"
	@echo "make prod    the production topology on this host (README, \"Production\")"
	@echo "make test    run the test suite (pass pytest options with ARGS=...)"
	@echo "make lint    ruff, the app graph (lint-imports), module size and complexity"
	@echo "make format  ruff format + fix"
	@echo "Variables: PORT, VENV, PYTHON (interpreter to build the venv with), ARGS, PYTEST_WORKERS"

venv:
	@sh scripts/venv.sh "$(VENV)" requirements.txt

venv-dev:
	@sh scripts/venv.sh "$(VENV)" requirements-dev.txt

# Evidently (the drift reference the tests compare with) pins plotly < 6, which the
# product cannot use: it lives in a venv of its own, called by the tests as a program.
venv-evidently:
	@sh scripts/venv.sh .venv-evidently requirements-evidently.txt

# MLflow (the real tracking server the registry sync tests start): a venv of its own, as
# the product talks to MLflow over REST only.
venv-mlflow:
	@sh scripts/venv.sh .venv-mlflow requirements-mlflow.txt

# The real OpenID provider the single sign-on tests sign in at (the npm package
# oidc-provider, from the lockfile). Without node/npm the tests that need it skip
# (CI sets REQUIRE_OIDC_PROVIDER=1 and fails instead).
OIDC_PROVIDER_DIR := tests/oidc_provider
oidc-provider:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "==> npm not found: the single sign-on tests will skip"; \
	elif [ ! -f $(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json ] || \
		[ $(OIDC_PROVIDER_DIR)/package-lock.json -nt $(OIDC_PROVIDER_DIR)/node_modules/.package-lock.json ]; then \
		echo "==> Installing the test OpenID provider (npm ci)"; \
		cd $(OIDC_PROVIDER_DIR) && npm ci --no-audit --no-fund --loglevel=error; \
	fi

# Written once, never overwritten: a generated secret key that the web process and the
# workers share across restarts.
.env: | venv
	@echo "==> Writing .env with a generated DJANGO_SECRET_KEY (see .env.example for more)"
	@umask 077 && $(PY) -c "import secrets; print('# Written by make run; never committed. See .env.example.'); print('DJANGO_SECRET_KEY=' + secrets.token_urlsafe(50))" > .env.tmp && mv .env.tmp .env

migrate: venv .env
	@echo "==> Migrating the database"
	@$(PY) manage.py migrate --noinput

seed: migrate
	@echo "==> Loading the demo portfolio"
	@$(PY) manage.py seed_demo

run: seed
	@exec $(PY) scripts/devrun.py --port $(PORT)

# make run with a local MLflow tracking server (from .venv-mlflow, on a free port from
# MLFLOW_PORT=5000, data under var/mlflow/) holding the demo registry, synced here
# (README, "MLflow registry sync").
run-mlflow: venv-mlflow seed
	@exec $(PY) scripts/devrun.py --port $(PORT) --mlflow

# The production topology on this host: check --deploy, migrate, collectstatic, then
# gunicorn, a heavy and a light Celery worker and beat (scripts/prodrun.py). Needs
# DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and
# CELERY_BROKER_URL in the environment or .env; never loads the demo.
prod: venv
	@exec $(PY) scripts/prodrun.py --port $(PORT)

test: venv-dev venv-evidently venv-mlflow oidc-provider
	@$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(ARGS)

lint: venv-dev
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(VENV)/bin/lint-imports
	@$(PY) scripts/check_size.py

format: venv-dev
	@$(PY) -m ruff format .
	@$(PY) -m ruff check --fix .
