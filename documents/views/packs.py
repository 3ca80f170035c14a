"""Pages of evidence packs: the list with the request form, one pack with its live
progress, its JSON status and its download.

Governance leads, risk officers and auditors (those who read the whole audit trail)
see, ask for and download packs; everyone else gets a 403, on every one of these URLs.
A request that names nothing, or a range out of bounds, is a 400 with the reason on
the page, and nothing is written.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.web import get_or_404, role_required
from audit.downloads import download_page
from documents import services as svc
from documents.models import EvidencePack
from documents.selectors import packs as sel
from inventory.models import ModelVersion, UseCase


class PackForm(forms.Form):
    scope = forms.ChoiceField(choices=EvidencePack.Scope.choices)
    use_case = forms.ModelChoiceField(queryset=UseCase.objects.order_by("name"), required=False)
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.select_related("model").order_by("model__name", "pk"),
        required=False,
        widget=forms.NumberInput,
        help_text="The version's number (#) as the inventory shows it.",
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _allowed(request: HttpRequest) -> None:
    if not sel.can_make_evidence_packs(request.user):
        raise PermissionDenied(
            "Evidence packs are for governance leads, risk officers and auditors."
        )


def _list_page(request: HttpRequest, form: PackForm, status: int = 200) -> HttpResponse:
    today = timezone.localdate()
    return render(
        request,
        "documents/pack_list.html",
        {
            "form": form,
            "packs": sel.evidence_pack_list(request.user)[:100],
            "default_from": today - dt.timedelta(days=90),
            "today": today,
        },
        status=status,
    )


@role_required
def pack_list_view(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    return _list_page(request, PackForm(initial={"scope": EvidencePack.Scope.USE_CASE}))


@role_required
@require_POST
def pack_request_view(request: HttpRequest) -> HttpResponse:
    """Queue a pack; 400 with the form and the reason when it names nothing."""
    _allowed(request)
    form = PackForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    try:
        pack = svc.evidence_pack_request(user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _list_page(request, form, status=400)
    return redirect("documents:pack", pk=pack.pk)


@role_required
def pack_view(request: HttpRequest, pk: int) -> HttpResponse:
    _allowed(request)
    pack = get_or_404(sel.evidence_pack_get, user=request.user, pk=pk)
    return render(request, "documents/pack.html", {"pack": pack})


@role_required
def pack_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    _allowed(request)
    pack = get_or_404(sel.evidence_pack_get, user=request.user, pk=pk)
    return JsonResponse(
        {
            "status": pack.status,
            "status_display": pack.get_status_display(),
            "percent": pack.percent,
            "label": f"{pack.stage or pack.get_status_display()}: "
            f"{pack.steps_done:,} of {pack.steps_total:,} items ({pack.percent}%)",
            "finished": not pack.is_active,
        }
    )


@role_required
def pack_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The ZIP, re-hashed against its recorded SHA-256 as it is served; audited."""
    _allowed(request)
    pack = get_or_404(sel.evidence_pack_get, user=request.user, pk=pk)
    download = sel.pack_download(pack)
    if download is None:
        return render(request, "documents/pack.html", {"pack": pack}, status=409)
    response = download_page(request, **download)
    if response.status_code == 200:
        svc.evidence_pack_downloaded(pack=pack, user=request.user)
    return response
