"""Sessions end after a while without activity.

People who can sign or grant (risk officers, approvers, validators, governance leads,
superusers) are signed out after ``SESSION_IDLE_MINUTES_SIGNERS`` minutes without a request
(default 30), everyone else after ``SESSION_IDLE_MINUTES`` (default 120). The time of
the last request is kept in the session, rewritten at most once a minute. Placed
after ``AuthenticationMiddleware`` and ``MessageMiddleware``. API tokens have their own
expiry (``API_TOKEN_DAYS``); this concerns browser sessions only.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse

from accounts.permissions import user_roles
from accounts.roles import Role

LAST_ACTIVITY = "accounts_last_activity"
SIGNER_ROLES = frozenset({Role.RISK_OFFICER, Role.APPROVER, Role.GOVERNANCE_LEAD, Role.VALIDATOR})


def idle_limit_minutes(user) -> int:
    """How long ``user``'s session may stay idle."""
    if user.is_superuser or user_roles(user) & SIGNER_ROLES:
        return settings.SESSION_IDLE_MINUTES_SIGNERS
    return settings.SESSION_IDLE_MINUTES


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is None or not request.user.is_authenticated:
            return self.get_response(request)
        now = int(time.time())
        last = session.get(LAST_ACTIVITY)
        minutes = idle_limit_minutes(request.user)
        if last is not None and now - int(last) > minutes * 60:
            return self._expired(request, minutes)
        if last is None or now - int(last) >= 60:
            session[LAST_ACTIVITY] = now
        return self.get_response(request)

    def _expired(self, request, minutes: int):
        logout(request)
        message = f"Your session ended after {minutes} minutes without activity: sign in again."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "session-expired"}, status=403)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
