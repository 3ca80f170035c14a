"""``/healthz`` (liveness) and ``/readyz`` (readiness) for load balancers and process
managers.

- ``GET /healthz``: 200 ``{"status": "ok"}`` while the process serves requests. It
  touches nothing else (no database), so a database outage does not get every web
  process restarted.
- ``GET /readyz``: 200 when the database answers a query, the broker accepts a
  connection and the media storage takes a write; otherwise 503 naming what failed:
  ``{"status": "unavailable", "checks": {"database": "ok", "broker": "failing", ...},
  "failing": ["broker"]}``. The reason is logged, never answered (it may hold a host
  name or a credential).

Both answer from a middleware placed first (settings, "Production topology"): before the
host check (a probe comes by address), the https redirect (a probe speaks http), sessions
and the login lockout; unauthenticated and never rate-limited. They say nothing about
the data.
"""

import logging
import os
import time
import uuid
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 3.0  # seconds: a probe must answer before the load balancer gives up
PROBE_PREFIX = "readyz"


def check_database() -> None:
    """One query on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """Connect to the Celery broker (Redis answers a PING); the embedded broker's folder
    must be writable."""
    from governance.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        folder = conn.transport_options.get("data_folder_out")
        if folder and not os.access(folder, os.W_OK | os.X_OK):
            raise OSError(f"the broker folder {folder} is not writable")


def check_storage() -> None:
    """Write, read back and delete a small file in the media storage (uploads)."""
    name = default_storage.save(f"{PROBE_PREFIX}/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("the media storage returned other bytes than written")
    finally:
        default_storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


def readiness() -> dict[str, str]:
    """{check: "ok" | "failing"} for every check; the reason of a failure is logged."""
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception:  # any failure means not ready
            logger.exception("readyz: the %s check failed", name)
            results[name] = "failing"
        else:
            results[name] = "ok"
        took = time.monotonic() - started
        if took > BROKER_TIMEOUT:
            logger.warning("readyz: the %s check took %.1f s", name, took)
    return results


def healthz() -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> HttpResponse:
    checks = readiness()
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        body = {"status": "unavailable", "checks": checks, "failing": failing}
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answers the two probe paths (with or without a trailing slash) itself."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"detail": "Only GET and HEAD."}, status=405)
            response["Allow"] = "GET, HEAD"
        else:
            response = probe()
        response["Cache-Control"] = "no-store"
        return response
