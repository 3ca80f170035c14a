"""The MLflow registry page (what was imported, each run, what was left out and why),
its sync button for governance leads, and the webhook endpoint MLflow posts to."""

import logging
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import is_governance_lead
from accounts.web import refused, role_required
from mlflow_sync import selectors, services, webhooks
from mlflow_sync.models import UseCaseConflict

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, *, refusal: str | None = None) -> HttpResponse:
    context = {
        "configured": bool(settings.MLFLOW_TRACKING_URI),
        "tracking_uri": settings.MLFLOW_TRACKING_URI,
        "use_case_tag": settings.MLFLOW_USE_CASE_TAG,
        "can_sync": is_governance_lead(request.user),
        "runs": selectors.sync_runs_recent(),
        "links": selectors.registry_links(),
        "conflicts": selectors.use_case_conflicts(),
        "resolutions": UseCaseConflict.Resolution.choices,
        "refusal": refusal,
    }
    return render(request, "mlflow_sync/registry.html", context)


@role_required
def registry_view(request: HttpRequest) -> HttpResponse:
    return _page(request)


@role_required
@require_POST
def sync_view(request: HttpRequest) -> HttpResponse:
    """A governance lead queues a sync now (the server checks the role)."""
    try:
        services.registry_sync_request(by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_page, request), exc)
    messages.success(request, "Sync queued: the registry is being imported.")
    return redirect("mlflow_sync:registry")


@role_required
@require_POST
def conflict_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A governance lead decides where a re-tagged model's new versions go."""
    try:
        services.use_case_conflict_resolve(
            conflict_id=pk,
            by=request.user,
            resolution=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
        )
    except UseCaseConflict.DoesNotExist as exc:
        raise Http404("No such conflict.") from exc
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_page, request), exc)
    messages.success(request, "Conflict resolved: the model's held versions are being imported.")
    return redirect("mlflow_sync:registry")


@csrf_exempt  # authenticated by MLflow's signature, not a session
@require_POST
def webhook_view(request: HttpRequest) -> JsonResponse:
    """A registry webhook: 202 with the queued job, or a clear 4xx with nothing queued."""
    try:
        delivery_id, payload = webhooks.verify(request.headers, request.body)
        key = webhooks.delivery_accept(delivery_id=delivery_id, payload=payload)
    except webhooks.Refusal as refusal:
        logger.warning("MLflow webhook refused (%s): %s", refusal.status, refusal.reason)
        return JsonResponse({"detail": refusal.reason}, status=refusal.status)
    return JsonResponse({"queued": bool(key)}, status=202)
