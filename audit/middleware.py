"""Request middleware of the governance project."""

from audit.services import audit_request


class AuditContextMiddleware:
    """Keep the current request for the audit trail, so that every event recorded
    while serving it names the signed-in user (resolved when the event is recorded:
    DRF authenticates API tokens inside the view) and the channel (page, API or
    admin). Placed after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_request(request):
            return self.get_response(request)
