"""Where the lapse rule could be routed around, or could lock out the wrong people
(issue 16, Step 7): someone given a role today, a superuser, a lapsed person stopping
something (rejecting, revoking), a lapsed lead approving by waiver, and a module newly
required of more people."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import RoleGrant
from accounts.roles import Role
from audit.models import AuditEvent
from engagement import selectors as sel
from engagement.models import TrainingModule
from engagement.services import training_module_save
from governance.selectors import policy_default
from governance.services import policy_draft_create
from governance.services.framework_changes import (
    framework_change_reject,
    policy_publish_propose,
)
from reviews.models import PromotionRequest, Signature
from reviews.services import promotion as promotion_svc
from tests.factories import PASSWORD, user_with_role
from tests.governance.four_eyes import other_lead
from tests.reviews.signoff_world import PASSWORD as SIGN_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def later(monkeypatch):
    """The engagement's clock 45 days on: past the 30 grace days of today's joiners."""
    day = timezone.localdate() + timedelta(days=45)
    monkeypatch.setattr(sel, "today", lambda: day)
    return day


def fresh(user):
    return User.objects.get(pk=user.pk)


def test_someone_given_a_role_late_gets_the_grace_days(later, governance_lead):
    approver = user_with_role(Role.APPROVER, username="late.approver")
    User.objects.filter(pk=approver.pk).update(date_joined=timezone.now() - timedelta(days=400))
    approver = fresh(approver)
    TrainingModule.objects.update(required_from=timezone.localdate() - timedelta(days=400))
    # Joined long ago, no grant on record: lapsed.
    assert sel.signing_lapse_refusal(approver)
    # The role was granted (four eyes) on the clock's day: due only 30 days later.
    grant = RoleGrant.objects.create(
        user=approver,
        role=Role.APPROVER,
        reason="Joins the model committee.",
        requested_by=governance_lead,
        status=RoleGrant.Status.CONFIRMED,
        decided_by=other_lead(),
        decided_at=timezone.now() + timedelta(days=45),
    )
    assert grant.pk
    assert sel.signing_lapse_refusal(fresh(approver)) is None


def test_a_superuser_is_counted_and_bound_like_a_lead(later):
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    held, _, users = sel.people_in_roles([Role.GOVERNANCE_LEAD])
    assert admin.pk in held and users[admin.pk] == admin
    assert sel.signing_lapse_refusal(fresh(admin))  # lapsed training, like any lead


def test_a_lapsed_person_may_still_reject_and_revoke(
    world, later, data_scientist, risk_officer, governance_lead
):
    _, version = world
    req = promotion_svc.request_create(version=version, by=data_scientist, justification="QA")
    risk_officer = fresh(risk_officer)
    assert sel.signing_lapse_refusal(risk_officer)
    with pytest.raises(PermissionDenied, match="Training page"):
        promotion_svc.request_sign(
            request=req, by=risk_officer, password=SIGN_PASSWORD, meaning="approved"
        )
    assert AuditEvent.objects.filter(action="signature.refused", actor=risk_officer).exists()
    promotion_svc.request_sign(
        request=req,
        by=fresh(risk_officer),
        password=SIGN_PASSWORD,
        meaning="rejected",
        reason="Holdout too small.",
    )
    assert PromotionRequest.objects.get(pk=req.pk).status == PromotionRequest.Status.REJECTED
    assert Signature.objects.filter(meaning="rejected").count() == 1
    # A lapsed lead still rejects a framework change (never keeps anyone from halting).
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    change = policy_publish_propose(version=draft, by=governance_lead, note="Change.")
    framework_change_reject(change=change, by=fresh(other_lead()), password=PASSWORD, reason="No.")


def test_a_lapsed_lead_cannot_approve_by_waiver(world, later, data_scientist, governance_lead):
    _, version = world
    req = promotion_svc.request_create(version=version, by=data_scientist, justification="QA")
    with pytest.raises(PermissionDenied, match="Training page"):
        promotion_svc.blocking_waive(
            request=req, by=fresh(governance_lead), code="raci", reason="Pilot."
        )
    assert not req.waivers.exists()


def test_a_lapsed_signer_sees_why_before_typing_a_password(
    world, later, client_for, data_scientist, risk_officer
):
    _, version = world
    req = promotion_svc.request_create(version=version, by=data_scientist, justification="QA")
    page = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert "complete it on the Training page" in page.content.decode()


def test_a_module_newly_required_of_more_people_starts_their_grace_today(governance_lead):
    module = TrainingModule.objects.get(code="bias-testing")
    TrainingModule.objects.filter(pk=module.pk).update(
        required_from=timezone.localdate() - timedelta(days=200)
    )
    module.refresh_from_db()
    module.roles = [*module.roles, Role.APPROVER]
    saved = training_module_save(data={}, by=governance_lead, module=module)
    assert saved.required_from == timezone.localdate()
    with pytest.raises(ValidationError, match="today or a later day"):
        training_module_save(
            data={
                "code": "new-one",
                "title": "New",
                "roles": [Role.APPROVER],
                "validity_days": 365,
                "sections": [{"heading": "H", "body": "B"}],
                "questions": [{"text": "Q", "choices": ["a", "b"], "answer": 0}],
                "required_from": timezone.localdate() - timedelta(days=1),
            },
            by=governance_lead,
            module=None,
        )
    assert not TrainingModule.objects.filter(code="new-one").exists()
