"""Reads of stored evidence: the obligation whose evidence file a person may download."""

from accounts.permissions import AnyUser
from governance.models import Obligation
from inventory.selectors import use_case_list


def obligation_evidence_get(*, user: AnyUser, pk: int, use_case_id: int | None = None):
    """The obligation ``pk`` (active or superseded) when the user may read its use case
    (and it belongs to ``use_case_id`` when given). Raises Obligation.DoesNotExist when
    it is missing, invisible to the user or under another use case."""
    qs = Obligation.objects.select_related("use_case", "consideration").filter(
        use_case__in=use_case_list(user=user).values("pk")
    )
    if use_case_id is not None:
        qs = qs.filter(use_case_id=use_case_id)
    return qs.get(pk=pk)


def obligation_evidence_label(obligation: Obligation) -> str:
    """How a download error names the file."""
    return f"Evidence of “{obligation.consideration}” for {obligation.use_case}"


def evidence_downloads(*, obligation_ids) -> list[dict]:
    """The stored evidence files of these obligations, for a page to link: consideration,
    file name, size, SHA-256 and the download URL (obligations with a link or nothing
    are left out)."""
    from django.urls import reverse

    rows = (
        Obligation.objects.filter(pk__in=list(obligation_ids))
        .exclude(evidence_file="")
        .select_related("consideration")
        .order_by("consideration__order", "pk")
    )
    return [
        {
            "key": o.consideration.code,
            "consideration": o.consideration.name,
            "name": o.evidence_name,
            "size": o.evidence_size,
            "sha256": o.evidence_sha256,
            "url": reverse("governance:obligation-evidence-file", args=[o.use_case_id, o.pk]),
        }
        for o in rows
    ]
