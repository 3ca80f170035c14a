"""Brute-force protection of the login page and the token endpoint (django-axes).

After ``AXES_FAILURE_LIMIT`` wrong passwords for one account, or from one address,
within ``AXES_COOLOFF_TIME``, both routes refuse that account or address (the right
password included) with a 403 that says why and for how long; every further attempt
restarts the wait. A superuser lifts a lock early in the admin (Axes › Access
attempts) or with ``manage.py axes_reset_username``. Each lock is an audit event
(``governance/audit_hooks.py``).
"""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render


def lockout_message(request=None) -> str:
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    wait = f"for {minutes} minutes after the last attempt" if minutes else "until it is unlocked"
    return (
        "Too many failed sign-in attempts for this account or from this address: "
        f"signing in is locked {wait}. If this was not you, tell a governance lead."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked-out attempt (``AXES_LOCKOUT_CALLABLE``): a JSON 403 on
    the API, the login page with the reason on pages."""
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked-out"}, status=403)
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request, data=None)
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_out_message": message, "next": request.POST.get("next", "")},
        status=403,
    )


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, first in ``AUTHENTICATION_BACKENDS``. Every route a person or a
    pipeline reaches passes its request; ``authenticate()`` called from code without
    one (the test client's ``login()``, a shell) is not a sign-in attempt to count,
    so it is let through to the next backend instead of raising."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
