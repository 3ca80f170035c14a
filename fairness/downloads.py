"""Downloads of stored scored datasets (bias evaluation, monitoring reference and
production batches): a verified, streamed attachment for everyone who may read the
dataset's use case, from a page and from the API (issue 12: evidence is available).
An upload still in quarantine, or rejected, is not served: 409 with the reason (issue 18)."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.decorators import api_view

from accounts.web import get_or_404, role_required
from audit.downloads import download_api, download_page, download_schema
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_readable_get


def _kwargs(dataset: ScoredDataset) -> dict:
    return {
        "file": dataset.file,
        "sha256": dataset.sha256,
        "filename": dataset.original_name,
        "obj": dataset,
        "what": f"Scored dataset “{dataset.original_name}” of {dataset.model_version}",
    }


def _stored(dataset: ScoredDataset) -> ScoredDataset:
    """A query source (issue 17) stores no rows: nothing to download."""
    if not dataset.file:
        raise Http404("A query source stores no file: its rows stay in the warehouse.")
    return dataset


@role_required
def scored_dataset_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_or_404(scored_dataset_readable_get, user=request.user, pk=pk)
    if dataset.unusable_reason():  # a rejected upload keeps no file: 409, not 404
        context = {"message": dataset.unusable_reason(), "code": "not_valid", "what": ""}
        return render(request, "audit/download_error.html", context, status=409)
    return download_page(request, **_kwargs(_stored(dataset)))


@download_schema(
    summary="Download a stored scored dataset",
    not_found="No such dataset, or not readable.",
)
@api_view(["GET"])
def scored_dataset_download(request, pk: int):
    try:
        dataset = scored_dataset_readable_get(user=request.user, pk=pk)
    except ScoredDataset.DoesNotExist as exc:
        raise Http404("Not found.") from exc
    if dataset.unusable_reason():  # a rejected upload keeps no file: 409, not 404
        return JsonResponse({"detail": dataset.unusable_reason(), "code": "not-valid"}, status=409)
    return download_api(**_kwargs(_stored(dataset)))
