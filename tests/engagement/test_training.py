"""Training modules (issue 16, Step 7): content as data, a knowledge check on the page,
completion with expiry, the lapse that stops a signer, completion by role and team,
and the settings on the policy page."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from engagement import selectors as sel
from engagement.models import TrainingCompletion, TrainingModule
from engagement.services import engagement_remind, training_module_save
from governance.selectors import policy_default
from governance.services import policy_draft_create
from governance.services.framework_changes import framework_change_approve, policy_publish_propose
from notifications.models import Notification
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead

pytestmark = pytest.mark.django_db


def right_answers(module):
    return {f"q{i}": str(q["answer"]) for i, q in enumerate(module.questions)}


def wrong_answers(module):
    return {
        f"q{i}": str((q["answer"] + 1) % len(q["choices"])) for i, q in enumerate(module.questions)
    }


@pytest.fixture
def signing():
    return TrainingModule.objects.get(code="signing-part-11")


def test_the_product_ships_its_modules_as_data():
    codes = set(TrainingModule.objects.values_list("code", flat=True))
    assert {"eight-steps", "signing-part-11", "bias-testing"} <= codes
    for module in TrainingModule.objects.all():
        module.full_clean()  # the shipped content passes its own checks


def test_passing_the_check_on_the_page(signing, client_for, approver):
    page = client_for(approver)
    shown = page.get(reverse("engagement:module-detail", args=[signing.code]))
    assert shown.status_code == 200 and b'data-testid="quiz"' in shown.content
    done = page.post(
        reverse("engagement:module-submit", args=[signing.code]), right_answers(signing)
    )
    assert done.status_code == 302
    passed = TrainingCompletion.objects.get(user=approver)
    assert passed.passed and passed.module_version == signing.version
    assert passed.expires_on == timezone.localdate() + timedelta(days=signing.validity_days)
    assert AuditEvent.objects.filter(action="training.passed", actor=approver).exists()
    status = sel.module_status_for(approver, signing)
    assert status.state == "done"


def test_a_wrong_answer_does_not_pass_and_three_failures_wait_an_hour(
    signing, client_for, approver
):
    page = client_for(approver)
    url = reverse("engagement:module-submit", args=[signing.code])
    failed = page.post(url, wrong_answers(signing))
    assert failed.status_code == 200 and b'data-testid="quiz-result"' in failed.content
    assert not TrainingCompletion.objects.filter(passed=True).exists()
    page.post(url, wrong_answers(signing))
    page.post(url, wrong_answers(signing))
    locked = page.post(url, right_answers(signing))
    assert locked.status_code == 400 and b"try after" in locked.content
    assert TrainingCompletion.objects.count() == 3
    assert not TrainingCompletion.objects.filter(passed=True).exists()


@pytest.mark.parametrize(
    "answers", [{}, {"q0": "1"}, {"q0": "9", "q1": "0", "q2": "0"}, {"q0": "x", "q1": "1"}]
)
def test_missing_or_impossible_answers_are_a_400_and_write_nothing(
    signing, client_for, approver, answers
):
    answer = client_for(approver).post(
        reverse("engagement:module-submit", args=[signing.code]), answers
    )
    assert answer.status_code == 400 and b"Answer every question" in answer.content
    assert not TrainingCompletion.objects.exists()


def test_a_withdrawn_module_cannot_be_taken(signing, client_for, approver, governance_lead):
    training_module_save(data={"active": False}, by=governance_lead, module=signing)
    answer = client_for(approver).post(
        reverse("engagement:module-submit", args=[signing.code]), right_answers(signing)
    )
    assert answer.status_code == 400 and not TrainingCompletion.objects.exists()
    assert client_for(approver).get("/training/no-such-module/").status_code == 404


def test_only_a_lead_edits_a_module_and_content_is_checked(signing, approver, governance_lead):
    with pytest.raises(PermissionDenied):
        training_module_save(data={"title": "Mine"}, by=approver, module=signing)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least one question"):
        training_module_save(data={"questions": []}, by=governance_lead, module=signing)
    signing.refresh_from_db()
    assert signing.questions and signing.version == 1
    edited = training_module_save(
        data={"sections": [*signing.sections, {"heading": "New", "body": "More."}]},
        by=governance_lead,
        module=signing,
    )
    assert edited.version == 2


def test_a_signer_whose_training_lapsed_may_not_sign(signing, governance_lead, monkeypatch):
    """Past the grace days with no pass, a lead may not approve a framework change; a
    pass makes them current again."""
    lead2 = other_lead()
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    change = policy_publish_propose(version=draft, by=governance_lead, note="Change.")
    later = timezone.localdate() + timedelta(days=45)
    monkeypatch.setattr(sel, "today", lambda: later)
    why = sel.signing_lapse_refusal(lead2)
    assert why and "complete it on the Training page" in why
    with pytest.raises(PermissionDenied, match="Training page"):
        framework_change_approve(change=change, by=lead2, password=PASSWORD)
    for module in TrainingModule.objects.all():
        TrainingCompletion.objects.create(
            module=module,
            module_version=module.version,
            user=lead2,
            at=timezone.now(),
            passed=True,
            correct=len(module.questions),
            total=len(module.questions),
            answers=[q["answer"] for q in module.questions],
            expires_on=later + timedelta(days=300),
        )
    lead2 = User.objects.get(pk=lead2.pk)  # the next request's user
    framework_change_approve(change=change, by=lead2, password=PASSWORD)


def test_training_reminders_once_per_due_date(signing, approver, risk_officer):
    approver.email = "approver@example.org"
    approver.save()
    soon = timezone.localdate() + timedelta(days=20)  # grace ends in 10 days
    first = engagement_remind(on=soon)["training"]
    assert first >= 1
    assert Notification.objects.filter(kind="training_due", recipient=approver).exists()
    assert engagement_remind(on=soon)["training"] == 0


def test_completion_by_role_and_team_on_the_training_page(
    signing, client_for, approver, risk_officer, auditor, data_scientist
):
    client_for(approver).post(
        reverse("engagement:module-submit", args=[signing.code]), right_answers(signing)
    )
    completion = sel.module_completion(signing)
    roles = {r.label: (r.done, r.required) for r in completion.by_role}
    assert roles["Approver"] == (1, 1) and roles["Risk officer"] == (0, 1)
    overseen = client_for(auditor).get(reverse("engagement:modules"))
    assert overseen.status_code == 200 and b'data-testid="module-completion"' in overseen.content
    own = client_for(data_scientist).get(reverse("engagement:modules"))
    assert b"module-completion" not in own.content and b"my-training" in own.content
    kpis = sel.engagement_kpis()
    assert 0 < kpis["training_completion"] < 1


def test_policy_page_sets_the_draft_attestation_settings(client_for, governance_lead, approver):
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    url = reverse("governance:policy-engagement", args=[draft.pk])
    data = {
        "attestation_roles": ["approver", "risk-officer"],
        "attestation_days": 7,
        "training_grace_days": 20,
        "lapsed_may_sign": "on",
    }
    assert client_for(approver).post(url, data).status_code == 403
    bad = client_for(governance_lead).post(url, {**data, "attestation_days": 0})
    assert bad.status_code == 400
    draft.refresh_from_db()
    assert draft.attestation_days == 14
    assert client_for(governance_lead).post(url, data).status_code == 302
    draft.refresh_from_db()
    assert (draft.attestation_days, draft.training_grace_days, draft.lapsed_may_sign) == (
        7,
        20,
        True,
    )
    assert draft.attestation_roles == ["approver", "risk-officer"]
    page = client_for(governance_lead).get(reverse("governance:policy-version", args=[draft.pk]))
    assert b'data-testid="engagement-settings"' in page.content
    # Proposed, then edited behind the proposal: publishing refuses.
    change = policy_publish_propose(version=draft, by=governance_lead, note="Faster.")
    refused = client_for(governance_lead).post(url, {**data, "attestation_days": 9})
    assert refused.status_code in (400, 409)
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    draft.refresh_from_db()
    assert draft.status == "published" and draft.attestation_days == 7
    # Published: frozen.
    assert client_for(governance_lead).post(url, data).status_code in (400, 409)


def test_pages_read_constant_queries_whatever_the_people(client_for, governance_lead, team):
    """Completion by role and team is read set-based: adding people adds no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.roles import Role
    from tests.factories import user_with_role

    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    from tests.governance.four_eyes import policy_publish

    version = policy_publish(version=draft, by=governance_lead, note="Counted.")
    campaign_url = reverse("engagement:campaign-detail", args=[version.attestation_campaign.pk])
    client = client_for(governance_lead)

    def queries(url):
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = [reverse("engagement:campaigns"), reverse("engagement:modules"), campaign_url]
    before = [queries(u) for u in urls]
    for i in range(12):
        user = user_with_role(Role.APPROVER, username=f"more{i}")
        team.members.add(user)
    assert [queries(u) for u in urls] == before
