"""My pending approvals: the pending requests a user may sign now, read in a bounded
number of queries however many requests are pending (issue 13)."""

from __future__ import annotations

from accounts.permissions import AnyUser, has_any_role
from governance.selectors.raci import raci_accountable_tasks
from reviews.models import PromotionRequest, Signature
from reviews.selectors.promotion import request_list
from reviews.selectors.revision_cache import request_state_for_reading


def sign_candidates(*, user: AnyUser) -> list[PromotionRequest]:
    """Pending requests with a sign-off slot the user is Accountable for (in person or
    through a team), oldest first: the only requests that can be theirs to sign. Cheap
    (about five queries whatever the number of requests); whether the user may sign
    one now needs its full state (``pending_for``)."""
    if not has_any_role(user):
        return []
    pending = list(
        request_list(user=user)
        .filter(status=PromotionRequest.Status.PENDING)
        .order_by("requested_at", "id")
    )
    mine = raci_accountable_tasks(
        user=user, use_case_ids={r.model_version.model.use_case_id for r in pending}
    )
    return [
        req
        for req in pending
        if any((req.model_version.model.use_case_id, slot) in mine for slot in req.slots)
    ]


def pending_for(
    *, user: AnyUser, candidates: list[PromotionRequest] | None = None, limit: int | None = None
) -> tuple[list[tuple[PromotionRequest, str]], int]:
    """My pending approvals: the candidates (``sign_candidates``) the user may sign now
    (Accountable for an open slot, not excluded, not yet signed), oldest first, as
    (request, slot) pairs, with how many candidates were evaluated.

    ``limit`` stops once that many are found: each request's state costs a few dozen
    queries, and a page listing every one of hundreds of pending requests took seconds
    under load (issue 13); the page says how many candidates it did not evaluate."""
    if candidates is None:
        candidates = sign_candidates(user=user)
    out: list[tuple[PromotionRequest, str]] = []
    checked = 0
    for req in candidates:
        if limit is not None and len(out) >= limit:
            break
        checked += 1
        # Read only: computed once per state of what it reads (reviews.selectors.revision_cache).
        state = request_state_for_reading(req)
        slot = state.slot_for(user)
        if slot and state.why_cannot_sign(user, Signature.Meaning.REJECTED) is None:
            out.append((req, slot))
    return out, checked
