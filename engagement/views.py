"""Pages of Step 7 (issue 16): attestation campaigns (what to acknowledge, and
completion by role and team for the second line and auditors) and training modules
(read, answer the knowledge check, completion by role and team).

Thin: reads from ``engagement.selectors``, writes through ``engagement.services``; a
refusal is answered on the page with the reason (403 who, 400/409 what), nothing
written.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.web import refused, role_required
from core import engagement_rules as er
from engagement import selectors as sel
from engagement import services as svc
from engagement.models import AttestationCampaign, TrainingModule
from governance.selectors.policy import policy_engagement


def _campaign_or_404(pk: int) -> AttestationCampaign:
    campaign = sel.campaign_list().filter(pk=pk).first()
    if campaign is None:
        raise Http404("No such attestation campaign.")
    return campaign


@role_required
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    oversee = sel.may_oversee(request.user)
    current = sel.campaigns_current()
    return render(
        request,
        "engagement/campaigns.html",
        {
            "mine": sel.attestations_for(request.user),
            "campaigns": sel.campaign_list()[:100],
            "current_ids": {c.pk for c in current},
            "completion": [(c, sel.campaign_completion(c)) for c in current] if oversee else [],
            "oversee": oversee,
            "settings": policy_engagement(),
        },
    )


def _campaign_page(request, campaign, *, refusal: str | None = None, status: int = 200):
    oversee = sel.may_oversee(request.user)
    mine = request.user.attestations.filter(campaign=campaign).first()
    why = None if mine else svc.attestation_refusal(campaign, request.user)
    response = render(
        request,
        "engagement/campaign.html",
        {
            "campaign": campaign,
            "mine": mine,
            "why_not": why,
            "current": sel.campaign_is_current(campaign),
            "completion": sel.campaign_completion(campaign) if oversee else None,
            "oversee": oversee,
            "refusal": refusal,
        },
    )
    response.status_code = status
    return response


@role_required
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_page(request, _campaign_or_404(pk))


@role_required
@require_POST
def campaign_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(pk)
    try:
        svc.attestation_acknowledge(
            campaign=campaign, by=request.user, confirmed=request.POST.get("confirmed") == "on"
        )
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_campaign_page, request, campaign), exc)
    messages.success(request, f"Acknowledged: {campaign.title}.")
    return redirect("engagement:campaign-detail", pk=campaign.pk)


@role_required
def module_list_view(request: HttpRequest) -> HttpResponse:
    oversee = sel.may_oversee(request.user)
    modules = list(sel.module_list())
    return render(
        request,
        "engagement/modules.html",
        {
            "mine": sel.training_for(request.user),
            "modules": modules,
            "completion": [(m, sel.module_completion(m)) for m in modules] if oversee else [],
            "oversee": oversee,
            "settings": policy_engagement(),
        },
    )


def _module_or_404(code: str) -> TrainingModule:
    module = sel.module_list(active=None).filter(code=code).first()
    if module is None:
        raise Http404("No such training module.")
    return module


def _module_page(
    request, module, *, refusal: str | None = None, status: int = 200, result=None, answers=None
):
    response = render(
        request,
        "engagement/module.html",
        {
            "module": module,
            "status": sel.module_status_for(request.user, module),
            "attempts": sel.attempts_for(request.user, module)[:10],
            "refusal": refusal,
            "result": result,
            "answers": answers or {},
            "completion": sel.module_completion(module) if sel.may_oversee(request.user) else None,
            "states": er.STATE_LABELS,
        },
    )
    response.status_code = status
    return response


@role_required
def module_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    return _module_page(request, _module_or_404(code))


@role_required
@require_POST
def module_submit_view(request: HttpRequest, code: str) -> HttpResponse:
    module = _module_or_404(code)
    answers = {
        key.removeprefix("q"): value
        for key, value in request.POST.items()
        if key.startswith("q") and key[1:].isdigit()
    }
    try:
        attempt = svc.training_submit(module=module, by=request.user, answers=answers)
    except (ValidationError, PermissionDenied) as exc:
        page = partial(_module_page, request, module, answers=answers)
        return refused(request, page, exc)
    if attempt.passed:
        messages.success(
            request, f"Passed: {module.title}. It counts until {attempt.expires_on:%d %b %Y}."
        )
        return redirect("engagement:module-detail", code=module.code)
    return _module_page(request, module, result=attempt, answers=answers, status=200)
