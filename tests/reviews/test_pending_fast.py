"""Issue 18: "my pending approvals" decides the requests nobody has signed yet from a
few queries for all of them (``reviews.selectors.pending``); it must answer exactly as
each request's full state does (``request_state``: ``slot_for`` and ``why_cannot_sign``
to reject), for every signer, including those segregation of duties excludes."""

import pytest
from django.contrib.auth.models import User

from reviews.models import PromotionRequest, Signature
from reviews.selectors.pending import pending_for, sign_candidates
from reviews.selectors.promotion import request_state

pytestmark = pytest.mark.django_db

PEOPLE = ["risk.officer", "approver", "governance.lead", "data.scientist", "model.validator"]


def full_answer(user, req):
    state = request_state(req)
    slot = state.slot_for(user)
    if slot and state.why_cannot_sign(user, Signature.Meaning.REJECTED) is None:
        return slot
    return None


def answers(user):
    mine, _ = pending_for(user=user, candidates=sign_candidates(user=user))
    return {req.pk: slot for req, slot in mine}


def check_every_pending_request():
    pending = list(PromotionRequest.objects.filter(status="pending"))
    assert pending
    for username in PEOPLE:
        user = User.objects.get(username=username)
        fast = answers(user)
        for req in pending:
            assert fast.get(req.pk) == full_answer(user, req), (username, req.pk)


def test_the_unsigned_path_answers_as_the_full_state(db):
    from demo import scale

    scale.load(n=30, seed=0)
    check_every_pending_request()
    assert answers(User.objects.get(username="risk.officer"))


def test_excluded_signers_are_refused_as_by_the_full_state(db):
    """The risk officer as an author of one version, the approver as the requester of
    another: neither may decide it, on either path."""
    from demo import scale

    scale.load(n=3, seed=0)
    scale.load(n=30, seed=0)  # one more pending request
    first, second = PromotionRequest.objects.filter(status="pending").order_by("pk")[:2]
    risk_officer = User.objects.get(username="risk.officer")
    approver = User.objects.get(username="approver")
    first.model_version.authors.add(risk_officer)
    PromotionRequest.objects.filter(pk=second.pk).update(requested_by=approver)
    assert first.pk not in answers(risk_officer)
    assert second.pk not in answers(approver)
    check_every_pending_request()
