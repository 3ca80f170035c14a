"""API route of an obligation's evidence file (``GET /api/v1/obligations/{id}/evidence/
file/``): the verified bytes as an attachment, 404 for an obligation the caller may not
read or without a file, 409 with a code when the stored bytes fail their SHA-256."""

from django.http import Http404
from rest_framework.decorators import api_view

from audit.downloads import download_api, download_schema
from governance.models import Obligation
from governance.selectors.evidence import obligation_evidence_get, obligation_evidence_label


@download_schema(
    summary="Download an obligation's evidence file",
    not_found="No such obligation, not readable, or no file.",
)
@api_view(["GET"])
def obligation_evidence_file(request, pk: int):
    try:
        obligation = obligation_evidence_get(user=request.user, pk=pk)
    except Obligation.DoesNotExist as exc:
        raise Http404("Not found.") from exc
    return download_api(
        file=obligation.evidence_file,
        sha256=obligation.evidence_sha256,
        filename=obligation.evidence_name,
        obj=obligation,
        what=obligation_evidence_label(obligation),
    )
