"""My pending approvals: the pending requests a user may sign now, read in a bounded
number of queries however many requests are pending (issue 13)."""

from __future__ import annotations

from accounts.permissions import AnyUser, has_any_role, has_role
from accounts.roles import SIGNING_ROLES, SIGNING_TASK_ROLES
from core import promotion_rules as rules
from governance.selectors.raci import raci_accountable_tasks
from inventory.models import ModelVersion
from reviews.models import PromotionRequest, Signature, Validation
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


class _Unsigned:
    """Who may decide the candidates nobody has signed yet, read for all of them at
    once (issue 18: each request's full state cost ~28 queries, and "my pending
    approvals" took 1.3 s with 328 queries at 10,000 use cases).

    For a pending request with no signature, ``request_state(req)`` has every slot open
    and no signature to check, so the user may sign it (reject at least) exactly when
    they hold a signing role, are not excluded by segregation of duties (the requester,
    an author, the named or a signing validator of the version: ``rules.excluded_signers``
    and ``_eligible_signers``) and are Accountable for one of its slots holding that
    slot's product role; the slot is the first such. ``tests/reviews/test_pending_fast``
    checks this against ``request_state`` on every demo and scale request."""

    def __init__(self, user: AnyUser, candidates: list[PromotionRequest]):
        self.user = user
        ids = [r.pk for r in candidates]
        self.signed = set(
            Signature.objects.filter(request_id__in=ids).values_list("request_id", flat=True)
        )
        version_ids = {r.model_version_id for r in candidates if r.pk not in self.signed}
        self.authors: dict[int, list[int]] = {}
        authors = ModelVersion.authors.through.objects.filter(modelversion_id__in=version_ids)
        for version_id, author_id in authors.values_list("modelversion_id", "user_id"):
            self.authors.setdefault(version_id, []).append(author_id)
        self.validators = set(
            Validation.objects.filter(
                model_version_id__in=version_ids, signed_at__isnull=False
            ).values_list("model_version_id", "validator_id")
        )
        self.mine = raci_accountable_tasks(
            user=user, use_case_ids={r.model_version.model.use_case_id for r in candidates}
        )
        self.may_sign = has_role(user, *SIGNING_ROLES)

    def slot(self, req: PromotionRequest) -> str | None:
        version = req.model_version
        excluded = rules.excluded_signers(
            requester_id=req.requested_by_id,
            author_ids=self.authors.get(version.pk, []),
            validator_id=version.validator_id,
        )
        if not self.may_sign or self.user.pk in excluded:
            return None
        if (version.pk, self.user.pk) in self.validators:
            return None
        use_case_id = version.model.use_case_id
        for slot in req.slots:
            roles = SIGNING_TASK_ROLES.get(slot, SIGNING_ROLES)
            if (use_case_id, slot) in self.mine and has_role(self.user, *roles):
                return slot
        return None


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
    unsigned = _Unsigned(user, candidates) if candidates else None
    for req in candidates:
        if limit is not None and len(out) >= limit:
            break
        checked += 1
        if req.pk not in unsigned.signed:
            slot = unsigned.slot(req)
            if slot:
                out.append((req, slot))
            continue
        # Read only: computed once per state of what it reads (reviews.selectors.revision_cache).
        state = request_state_for_reading(req)
        slot = state.slot_for(user)
        if slot and state.why_cannot_sign(user, Signature.Meaning.REJECTED) is None:
            out.append((req, slot))
    return out, checked
