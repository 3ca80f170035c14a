"""Helpers shared by every page: the role gate, 404s from selectors, chart data, a
service's errors on a form."""

import json
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
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


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to a form: errors keyed by a form field go
    next to that field, everything else to the top of the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            if target is None and field != NON_FIELD_ERRORS:
                error = ValidationError(f"{field.replace('_', ' ').capitalize()}: {error.message}")
            form.add_error(target, error)
