"""Helpers shared by every page: the role gate, 404s from selectors, chart data."""

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.permissions import has_any_role


def role_required(view):
    """Signed in (else redirect to the login page) and holding a governance role
    (else 403): the gate of every dashboard page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not has_any_role(request.user):
            raise PermissionDenied(
                "Your account has no governance role yet. Ask a governance lead to assign one."
            )
        return view(request, *args, **kwargs)

    return wrapper


def get_or_404(getter, **kwargs):
    """Call a ``*_get`` selector; a missing or invisible row is a 404."""
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


def chart_figure(fig) -> dict:
    """A figure as plain JSON data for the template's json_script filter."""
    return json.loads(fig.to_json())


def int_or_none(value) -> int | None:
    """A query or form value as an int, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
