"""The page route of an obligation's evidence file: a verified, streamed attachment for
everyone who may read the use case (issue 12: evidence is available)."""

from django.http import HttpRequest, HttpResponse

from accounts.web import get_or_404, role_required
from audit.downloads import download_page
from governance.selectors.evidence import obligation_evidence_get, obligation_evidence_label


@role_required
def obligation_evidence_file_view(
    request: HttpRequest, pk: int, obligation_pk: int
) -> HttpResponse:
    obligation = get_or_404(
        obligation_evidence_get, user=request.user, pk=obligation_pk, use_case_id=pk
    )
    return download_page(
        request,
        file=obligation.evidence_file,
        sha256=obligation.evidence_sha256,
        filename=obligation.evidence_name,
        obj=obligation,
        what=obligation_evidence_label(obligation),
    )
