"""Four eyes on the framework (issue 12, "Four eyes on the framework"): a change to the
policy, a classification rule or the ethical position is proposed by one governance
lead and takes effect only when another lead signs its approval with their password.
Services; the routes a lead could try are in tests/bypass/test_four_eyes.py."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from governance import tasks
from governance.models import FrameworkChange, FrameworkChangeDecision, PolicyVersion, RiskRule
from governance.selectors import policy_default, policy_published_latest
from governance.services import policy_cells_set, policy_draft_create, policy_draft_discard
from governance.services.framework_changes import (
    framework_change_approve,
    framework_change_approve_seeded,
    framework_change_reject,
    framework_change_withdraw,
    policy_publish_propose,
    risk_rule_propose,
    risk_rule_propose_active,
)
from governance.services.framework_content import content_sha256, risk_rule_content
from inventory.choices import RiskTier
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead
from tests.outbox import queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead2(db):
    return other_lead()


@pytest.fixture
def delay():
    """The re-evaluations queued (the task outbox's rows, tests/outbox.py)."""
    return lambda: queued(tasks.use_cases_reclassify)


@pytest.fixture
def draft(governance_lead):
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    policy_cells_set(
        version=draft, cells={(RiskTier.LOW, "transparency"): "medium"}, by=governance_lead
    )
    return draft


def rule() -> RiskRule:
    return RiskRule.objects.get(name="Customer-facing")


# --- policy publication -------------------------------------------------------------------


def test_a_proposed_draft_is_published_only_when_another_lead_signs(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="Explain more.")
    draft.refresh_from_db()
    assert draft.status == PolicyVersion.Status.DRAFT and change.is_pending
    assert change.content_sha256 == content_sha256(change.content)
    assert change.content["cells"][0][:3] != ["1", "transparency", "medium"]  # ints, not str
    assert [1, "transparency", "medium"] in [c[:3] for c in change.content["cells"]]

    decision = framework_change_approve(change=change, by=lead2, password=PASSWORD)
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.published_by) == ("published", 4, lead2)
    assert draft.change_note == "Explain more."
    assert (decision.outcome, decision.auth_method) == ("approved", "password")
    assert decision.signed_content_sha256 == change.content_sha256
    assert policy_published_latest() == draft


def test_the_proposer_cannot_approve_their_own_proposal(draft, governance_lead):
    change = policy_publish_propose(version=draft, by=governance_lead, note="Mine.")
    with pytest.raises(PermissionDenied, match="other than the proposer"):
        framework_change_approve(change=change, by=governance_lead, password=PASSWORD)
    draft.refresh_from_db()
    assert draft.is_draft and not FrameworkChangeDecision.objects.exists()


def test_only_governance_leads_propose_and_decide(draft, governance_lead, risk_officer):
    with pytest.raises(PermissionDenied):
        policy_publish_propose(version=draft, by=risk_officer, note="x")
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(PermissionDenied):
        framework_change_approve(change=change, by=risk_officer, password=PASSWORD)
    assert change.is_pending


def test_a_wrong_password_approves_nothing_and_is_recorded(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(ValidationError) as exc:
        framework_change_approve(change=change, by=lead2, password="wrong")
    assert "password" in exc.value.message_dict
    draft.refresh_from_db()
    assert draft.is_draft and not FrameworkChangeDecision.objects.exists()
    refused = AuditEvent.objects.get(action="signature.password_refused")
    assert refused.actor == lead2 and f"#{change.pk}" in refused.reason


def test_too_many_wrong_passwords_lock_signing(draft, governance_lead, lead2, settings):
    settings.SIGNING_MAX_FAILURES = 2
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    for _ in range(2):
        with pytest.raises(ValidationError):
            framework_change_approve(change=change, by=lead2, password="wrong")
    with pytest.raises(PermissionDenied, match="locked"):
        framework_change_approve(change=change, by=lead2, password=PASSWORD)
    assert change.is_pending


def test_an_api_token_never_signs(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(PermissionDenied, match="API token"):
        framework_change_approve(change=change, by=lead2, password=PASSWORD, via_token=True)


def test_a_proposed_draft_cannot_be_edited_or_discarded(draft, governance_lead):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(ValidationError, match=f"proposal #{change.pk}"):
        policy_cells_set(version=draft, cells={(1, "transparency"): "strict"}, by=governance_lead)
    with pytest.raises(ValidationError, match="withdraw"):
        policy_draft_discard(version=draft, by=governance_lead)
    # Withdrawn, the draft is editable again, and a new proposal holds the new content.
    framework_change_withdraw(change=change, by=governance_lead, reason="One more cell.")
    policy_cells_set(version=draft, cells={(1, "transparency"): "strict"}, by=governance_lead)
    again = policy_publish_propose(version=draft, by=governance_lead, note="y")
    assert [1, "transparency", "strict"] in [c[:3] for c in again.content["cells"]]
    assert change.content != again.content


def test_the_measures_frozen_are_those_proposed(draft, governance_lead, lead2):
    from governance.models import Measure

    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    measure = Measure.objects.get(consideration__code="transparency", level="medium")
    proposed_text = measure.text
    measure.text = "Edited after the proposal."
    measure.save()
    framework_change_approve(change=change, by=lead2, password=PASSWORD)
    cell = draft.cells.get(tier=RiskTier.LOW, consideration__code="transparency")
    assert cell.text == proposed_text


# --- rejection, withdrawal, supersession ------------------------------------------------------


def test_rejection_needs_a_reason_and_another_lead(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(ValidationError, match="reason"):
        framework_change_reject(change=change, by=lead2, password=PASSWORD, reason=" ")
    with pytest.raises(PermissionDenied):
        framework_change_reject(change=change, by=governance_lead, password=PASSWORD, reason="n")
    decision = framework_change_reject(
        change=change, by=lead2, password=PASSWORD, reason="Not this year."
    )
    assert decision.outcome == "rejected"
    draft.refresh_from_db()
    assert draft.is_draft
    with pytest.raises(ValidationError, match="rejected"):
        framework_change_approve(change=change, by=lead2, password=PASSWORD)


def test_only_the_proposer_withdraws(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    with pytest.raises(PermissionDenied, match="proposed it"):
        framework_change_withdraw(change=change, by=lead2)
    assert framework_change_withdraw(change=change, by=governance_lead).outcome == "withdrawn"


def test_proposing_again_supersedes_the_pending_proposal(governance_lead, lead2, delay):
    first = risk_rule_propose_active(rule=rule(), active=False, by=governance_lead, reason="a")
    content = {**risk_rule_content(rule()), "min_tier": 3}
    second = risk_rule_propose(content=content, by=governance_lead, reason="b", rule=rule())
    first.refresh_from_db()
    assert first.status == "superseded" and first.decision.reason.endswith(f"#{second.pk}.")
    with pytest.raises(ValidationError, match="superseded"):
        framework_change_approve(change=first, by=lead2, password=PASSWORD)
    assert rule().active


def test_proposals_and_decisions_are_append_only(draft, governance_lead, lead2):
    change = policy_publish_propose(version=draft, by=governance_lead, note="x")
    change.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        FrameworkChange.objects.filter(pk=change.pk).update(content={})
    decision = framework_change_approve(change=change, by=lead2, password=PASSWORD)
    with pytest.raises(AppendOnlyError):
        decision.delete()
    actions = list(
        AuditEvent.objects.filter(object_type="governance.frameworkchange").values_list(
            "action", flat=True
        )
    )
    assert actions == ["framework_change.proposed"]
    assert AuditEvent.objects.filter(action="framework_change.approved").count() == 1


# --- classification rules ----------------------------------------------------------------------


def test_a_rule_edit_takes_effect_on_approval_and_re_evaluates(
    governance_lead, lead2, delay, django_capture_on_commit_callbacks
):
    content = {
        **risk_rule_content(rule()),
        "min_tier": 3,
        "conditions": [{"question": "audience", "operator": "any_of", "values": ["customers"]}],
    }
    change = risk_rule_propose(content=content, by=governance_lead, reason="Stricter.", rule=rule())
    assert change.kind == "risk_rule_edit" and rule().min_tier == 2
    with django_capture_on_commit_callbacks(execute=True):
        framework_change_approve(change=change, by=lead2, password=PASSWORD)
    edited = rule()
    assert (edited.min_tier, edited.updated_by) == (3, lead2)
    assert risk_rule_content(edited)["conditions"] == content["conditions"]
    assert len(delay()) == 1


def test_a_new_rule_exists_only_after_approval(governance_lead, lead2, delay):
    content = {
        "name": "Manipulative nudges",
        "explanation": "Recommenders that nudge customers need oversight.",
        "min_tier": 3,
        "conditions": [{"question": "audience", "operator": "equals", "values": ["customers"]}],
    }
    change = risk_rule_propose(content=content, by=governance_lead, reason="New rule.")
    assert change.kind == "risk_rule_add"
    assert not RiskRule.objects.filter(name="Manipulative nudges").exists()
    framework_change_approve(change=change, by=lead2, password=PASSWORD)
    assert RiskRule.objects.get(name="Manipulative nudges").active


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"conditions": []}, "conditions"),
        (
            {"conditions": [{"question": "audience", "operator": "equals", "values": ["mars"]}]},
            "conditions",
        ),
        (
            {"conditions": [{"question": "uses_pii", "operator": "equals", "values": ["y"]}]},
            "conditions",
        ),
        ({"min_tier": None, "min_criticality": None}, "min_tier"),
        ({"min_tier": 9}, "min_tier"),
        ({"name": " "}, "name"),
        ({"active": "yes"}, "active"),
    ],
)
def test_an_invalid_rule_is_refused_when_proposed(governance_lead, changes, field):
    content = {**risk_rule_content(rule()), **changes}
    with pytest.raises(ValidationError) as exc:
        risk_rule_propose(content=content, by=governance_lead, reason="x", rule=rule())
    assert field in exc.value.message_dict
    assert not FrameworkChange.objects.exists()


def test_a_rule_changed_since_the_proposal_is_not_overwritten(governance_lead, lead2, delay):
    stale = risk_rule_propose(
        content={**risk_rule_content(rule()), "order": 7},
        by=governance_lead,
        reason="Reorder.",
        rule=rule(),
    )
    # A different lead's proposal on the same rule supersedes the first; a rule edited by
    # an approved change since then must not be overwritten by an older proposal either.
    edit = risk_rule_propose(
        content={**risk_rule_content(rule()), "min_tier": 3},
        by=lead2,
        reason="Stricter.",
        rule=rule(),
    )
    framework_change_approve(change=edit, by=governance_lead, password=PASSWORD)
    stale.refresh_from_db()
    assert stale.status == "superseded"
    assert (rule().order, rule().min_tier) != (7, 2)


def test_activation_proposals(governance_lead, lead2, delay):
    with pytest.raises(ValidationError, match="already active"):
        risk_rule_propose_active(rule=rule(), active=True, by=governance_lead, reason="x")
    change = risk_rule_propose_active(rule=rule(), active=False, by=governance_lead, reason="x")
    assert change.kind == "risk_rule_deactivate" and rule().active
    framework_change_approve(change=change, by=lead2, password=PASSWORD)
    assert not rule().active


def test_seeded_approval_is_recorded_as_such_and_keeps_four_eyes(governance_lead, lead2, delay):
    change = risk_rule_propose_active(rule=rule(), active=False, by=governance_lead, reason="x")
    with pytest.raises(PermissionDenied):
        framework_change_approve_seeded(change=change, by=governance_lead)
    decision = framework_change_approve_seeded(change=change, by=lead2, reason="Demo.")
    assert decision.auth_method == "seeded" and not rule().active


def test_a_rejected_position_no_longer_awaits_approval(governance_lead, lead2):
    from governance.selectors import ethics_position_pending
    from governance.services import ethics_position_answer
    from tests.governance.test_ethics_services import position_answers

    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead, note="v")
    change = answer_set.framework_changes.get()
    assert change.content["tolerance"] == 1 and ethics_position_pending() == answer_set
    framework_change_reject(change=change, by=lead2, password=PASSWORD, reason="Too loose.")
    assert ethics_position_pending() is None
