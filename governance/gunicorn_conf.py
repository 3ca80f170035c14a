"""Gunicorn settings of the production web server.

    gunicorn -c governance/gunicorn_conf.py

``make prod`` (scripts/prodrun.py) starts it this way; on a host that runs only web
servers, run the same command. Read from the environment (or ``.env``, as the Django
settings are):

- ``HOST`` / ``PORT``: where it listens (127.0.0.1:8000); ``WEB_BIND`` overrides both
  (e.g. ``0.0.0.0:8000`` behind a load balancer on another host).
- ``WEB_CONCURRENCY``: processes (2 x CPUs + 1); ``WEB_THREADS``: threads per process (8).
- ``WEB_TIMEOUT``: a process silent this many seconds is replaced (60).
- ``DJANGO_TRUST_X_FORWARDED_PROTO``: only when true does gunicorn, like Django, take
  ``X-Forwarded-Proto`` from the proxies in ``FORWARDED_ALLOW_IPS`` (127.0.0.1,::1).
"""

import multiprocessing
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env", overwrite=False)
_env = environ.Env()

wsgi_app = "governance.wsgi:application"
bind = [
    _env.str(
        "WEB_BIND",
        default=f"{_env.str('HOST', default='127.0.0.1')}:{_env.int('PORT', default=8000)}",
    )
]
workers = _env.int("WEB_CONCURRENCY", default=multiprocessing.cpu_count() * 2 + 1)
# Threads: a process waiting on the database or a slow upload still serves others, and
# the process's heartbeat goes on during a long request (a sync worker would be killed
# after `timeout` in the middle of a large upload).
worker_class = "gthread"
threads = _env.int("WEB_THREADS", default=8)
timeout = _env.int("WEB_TIMEOUT", default=60)
graceful_timeout = 30
# A process is replaced after this many requests (bounded memory over weeks of uptime).
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Not from clients: the scheme a proxy says it received is trusted only when configured.
if not _env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    secure_scheme_headers = {}
# No control socket: its default path is per user, so two installations (or a test run
# beside a real one) on one host would take each other's; nothing here uses gunicornc.
control_socket_disable = True
