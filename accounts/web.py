"""Helpers shared by every page: the role gate, 404s from selectors, chart data, a
service's errors on a form, a refused write answered on its own page."""

import json
from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from accounts.errors import CONFLICT
from accounts.permissions import has_any_role
from accounts.sso.signing import signing_data, signing_form


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


def refusal_reason(error: ValidationError | PermissionDenied | str) -> str:
    """A refusal as one sentence a person reads (a ValidationError's messages joined)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do this."


def refusal_status(error: ValidationError | PermissionDenied | str) -> int:
    """403 when the role may not, 409 when the state changed underneath (a
    ValidationError coded ``CONFLICT``), 400 otherwise (bad input, a rule refusing it)."""
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, ValidationError):
        groups = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
        if any(e.code == CONFLICT for errors in groups for e in errors):
            return 409
    return 400


def refused(
    request: HttpRequest,
    page: Callable[..., HttpResponse],
    error: ValidationError | PermissionDenied | str,
    *,
    status: int | None = None,
) -> HttpResponse:
    """A write a service refused, answered on the page it was made from (issue 12: a
    refusal is never a redirect that looks like success): ``page(refusal=reason)``
    renders the page again, its template showing ``refusal`` next to the form
    (``_partials/refusal.html``), with ``status`` or the error's (``refusal_status``).
    Nothing was written: services validate before they write, in one transaction. A
    403 carries its reason to the audited refusal (``audit.refusals``), as a raised
    PermissionDenied does."""
    reason = refusal_reason(error)
    response = page(refusal=reason)
    response.status_code = status or refusal_status(error)
    if response.status_code == 403:
        request._refusal_reason = reason
    return response


class PasswordSignForm(forms.Form):
    """The password typed again for an electronic signature."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=4096,
        help_text="Re-enter your password: signing needs it every time.",
    )


def signing_dialog(request, form, why, *, refused, sign):
    """A signing dialog's answer: (signed, form, status, refusal). Who may not sign is
    refused before any password (403, the posted attempt recorded by ``refused``); a bad
    form or a service's ValidationError is a 400 on the form; a PermissionDenied from
    the service (a locked signer) a 403. An SSO signer's dialog has no password: it
    goes to the provider (``accounts.sso.signing``)."""
    form = signing_form(request, form)
    if why:
        if request.method == "POST":
            refused()
        return False, None, 403, why
    if request.method != "POST":
        return False, form, 200, None
    if not form.is_valid():
        return False, form, 400, None
    try:
        sign(signing_data(request, form))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False, form, 400, None
    except PermissionDenied as exc:
        return False, None, 403, str(exc)
    return True, form, 200, None


def page_by_ids(ordered: QuerySet, rows: QuerySet, number, *, per_page: int = 50) -> Page:
    """A page of ``rows`` in ``ordered``'s order: the ids are counted and paged first
    (a narrow query the database answers from an index), then only the page's rows are
    read with what they show (``rows``: their joins and prefetches). A list of 100,000
    rows sorted after its joins took 200 ms on SQLite; this takes a few."""
    page = Paginator(ordered.values_list("pk", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    found = rows.in_bulk(ids)
    page.object_list = [found[pk] for pk in ids if pk in found]
    return page
