"""A database that cannot answer is a 503 with a clear message, never a 500 traceback.

PostgreSQL restarting, a dropped connection or a SQLite file held by another writer
beyond the busy timeout raise ``OperationalError`` / ``InterfaceError``: nothing the
person did wrong, and worth trying again. Two places turn them into a 503 with
``Retry-After``:

- ``DatabaseUnavailableMiddleware.process_exception`` for errors raised in a view or an
  API view (DRF re-raises what it does not handle);
- ``server_error``, the project's ``handler500``, for errors raised in middleware (a
  session or user loaded before the view); any other error keeps Django's 500 page.

API paths answer JSON, pages a standalone page that needs no database to render.
"""

import logging
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "The database is not answering just now. Try again in a few seconds; if you were "
    "saving a change, check whether it was recorded before saving it again."
)
logger = logging.getLogger(__name__)


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def unavailable_response(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        # No request context: rendering must not touch the session or the user.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_unavailable(exception):
            return None
        logger.error(
            "Database unavailable during %s %s", request.method, request.path, exc_info=exception
        )
        return unavailable_response(request)


def server_error(request, template_name="500.html"):
    """``handler500``: a 503 when the database is what failed, Django's 500 otherwise."""
    if is_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request, template_name=template_name)
