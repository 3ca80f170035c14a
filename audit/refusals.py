"""Refusals are audited (issue 12, "Bad input"): a signed-in person refused a page,
an API endpoint or an admin action (HTTP 403) leaves one ``access.refused`` event with
the path, the method and the reason they were given.

Not flooding the trail: a refused write (POST, PUT, PATCH, DELETE) is always recorded;
a refused read is recorded once per person and path in ``READ_REFUSAL_WINDOW`` (someone
without the role reloading a list page makes one event, not hundreds). Anonymous
requests are the login page's business (``accounts.lockout``), not recorded here. A
refusal the service recorded already (its own ``*refused*`` event in this request, e.g.
a refused signature) is not recorded twice.
"""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record

logger = logging.getLogger(__name__)

ACTION = "access.refused"
READ_REFUSAL_WINDOW = timedelta(minutes=10)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _reason(request, response) -> str:
    reason = getattr(request, "_refusal_reason", "")
    if not reason:
        data = getattr(response, "data", None)  # a DRF response
        if isinstance(data, dict) and data.get("detail"):
            reason = str(data["detail"])
    return (reason or "Forbidden (403).")[:1000]


def access_refusal_record(request, response) -> AuditEvent | None:
    """Record the 403 answered to ``request`` unless the rules above skip it. Returns
    the event, or None when nothing was recorded."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    started = getattr(request, "_refusal_audit_started", timezone.now())
    already = AuditEvent.objects.filter(
        actor=user, occurred_at__gte=started, action__contains="refused"
    )
    if already.exists():
        return None
    path = request.path[:300]
    if request.method in SAFE_METHODS:
        recent = AuditEvent.objects.filter(
            action=ACTION,
            actor=user,
            object_id=path[:64],
            occurred_at__gte=timezone.now() - READ_REFUSAL_WINDOW,
        )
        if recent.filter(context__path=path).exists():
            return None
    return audit_record(
        action=ACTION,
        actor=user,
        object_type="http.path",
        object_id=path[:64],
        object_repr=path,
        reason=_reason(request, response),
        context={"method": request.method, "path": path, "status": response.status_code},
    )


class AccessRefusalAuditMiddleware:
    """Audit every 403 answered to a signed-in person (see the module's rules). Placed
    after ``audit.middleware.AuditContextMiddleware`` so that the event names the
    channel. A failure to record is logged and never turns the 403 into a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._refusal_audit_started = timezone.now()
        response = self.get_response(request)
        if response.status_code == 403:
            try:
                access_refusal_record(request, response)
            except DatabaseError:
                logger.exception("Could not audit the refusal of %s", request.path)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            request._refusal_reason = str(exception)
        return None
