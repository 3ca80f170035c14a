"""Issue 12, "Bad input", on the pages: an act the service refuses is answered on the
page it was made from, with the reason shown beside the form (``role="alert"``) and
the status a pipeline, a test or an auditor can tell from success: 403 (the role may
not), 409 (the state changed underneath: already decided, published, locked) or 400
(bad input, a rule). It used to be a redirect with a flash message (302), which looked
like success and lost what the person typed.

Each test is the governed user who tried it, through the page (Django test client):
the status, the reason in the page, and that nothing was written (rows, the audit
trail). Successful acts keep their redirect (POST/redirect/GET).
"""

import html
import re
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import RoleGrant
from accounts.roles import Role
from audit.models import AuditEvent
from experiments import services as experiment_svc
from experiments.models import Experiment
from fairness.models import BiasSummary
from governance.models import (
    EthicsAnswerSet,
    EthicsApproval,
    EthicsTemplateVersion,
    FrameworkChange,
    FrameworkChangeDecision,
    Obligation,
    ObligationEvent,
    PolicyVersion,
    RaciAssignment,
    RaciRole,
    RiskRule,
)
from governance.selectors import ethics_version_current, policy_default, policy_published_latest
from governance.services import (
    ethics_position_answer,
    obligation_accept,
    obligation_submit_evidence,
    obligations_recompute,
    policy_draft_create,
)
from governance.services.framework_changes import (
    framework_change_withdraw,
    risk_rule_propose_active,
)
from inventory.choices import RiskTier
from monitoring.models import MonitoringBatch
from tests.experiments.test_experiments_services import draft, start
from tests.experiments.test_experiments_views import form_data
from tests.factories import PASSWORD, BiasSummaryFactory, ScoredDatasetFactory, UseCaseFactory
from tests.governance.four_eyes import other_lead, position_approve
from tests.governance.test_ethics_services import position_answers
from tests.governance.test_ethics_views import use_case_post

pytestmark = pytest.mark.django_db

REFUSAL = re.compile(r'<div class="[^"]*" role="alert" data-testid="refusal">(.*?)</div>', re.S)


def refusal_of(response) -> str:
    """The reason shown in the page's alert (there must be one)."""
    match = REFUSAL.search(response.content.decode())
    assert match, "no refusal shown in the page"
    text = re.sub(r"<[^>]+>", " ", match.group(1))
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def trail() -> int:
    """The audit trail's events besides the refusals' own records: every 403 leaves one
    ``access.refused`` event (``audit.refusals``), checked by ``refusal_audited``."""
    return AuditEvent.objects.exclude(action="access.refused").count()


def refusal_audited(user: User, reason: str) -> None:
    """The 403 left its ``access.refused`` event, with the reason the person was shown."""
    event = AuditEvent.objects.filter(action="access.refused", actor=user).latest("seq")
    assert reason in event.reason and event.context["method"] == "POST"


# --- Step 5: obligations ---------------------------------------------------------------------


@pytest.fixture
def use_case(team, media):
    with mock.patch("governance.tasks.obligations_notify_owners.delay"):
        use_case = UseCaseFactory(team=team, name="Credit limit", risk_tier=RiskTier.HIGH)
        obligations_recompute(use_case=use_case)
    return use_case


@pytest.fixture
def documentation(use_case):
    """A use-case-scope obligation (version-scope ones are owed by versions)."""
    return Obligation.objects.get(
        use_case=use_case, consideration__code="audit-documentation", active=True
    )


def obligation_url(name: str, obligation: Obligation) -> str:
    return reverse(f"governance:obligation-{name}", args=[obligation.use_case_id, obligation.pk])


def snapshot(obligation: Obligation) -> tuple:
    """What a refused act must leave as it was: the row, its events, the audit trail."""
    row = Obligation.objects.values().get(pk=obligation.pk)
    return row, ObligationEvent.objects.filter(obligation=obligation).count(), trail()


def test_evidence_with_neither_link_nor_file_is_a_400_on_the_page(
    client_for, data_scientist, documentation
):
    before = snapshot(documentation)
    response = client_for(data_scientist).post(obligation_url("evidence", documentation), {})
    assert response.status_code == 400
    assert "Give either a link or a file" in refusal_of(response)
    assert "Nothing was saved" in refusal_of(response)
    assert snapshot(documentation) == before


def test_a_bad_evidence_link_is_a_400_and_what_was_typed_is_kept(
    client_for, data_scientist, documentation
):
    before = snapshot(documentation)
    response = client_for(data_scientist).post(
        obligation_url("evidence", documentation), {"link": "ftp://files.example/report"}
    )
    assert response.status_code == 400
    assert "Enter a valid http(s) URL" in refusal_of(response)
    assert 'value="ftp://files.example/report"' in response.content.decode()
    assert snapshot(documentation) == before


def test_an_evidence_file_of_a_refused_type_stores_nothing(
    client_for, data_scientist, documentation, media
):
    before = snapshot(documentation)
    response = client_for(data_scientist).post(
        obligation_url("evidence", documentation),
        {"file": SimpleUploadedFile("run.exe", b"MZ\x90\x00")},
    )
    assert response.status_code == 400
    assert "Files of this type are not accepted" in refusal_of(response)
    assert snapshot(documentation) == before
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_an_auditor_submitting_evidence_is_a_403_on_the_page(client_for, auditor, documentation):
    before = snapshot(documentation)
    response = client_for(auditor).post(
        obligation_url("evidence", documentation), {"link": "https://wiki.example/doc"}
    )
    assert response.status_code == 403
    assert "Only the obligation's owner, the use case's team" in refusal_of(response)
    assert snapshot(documentation) == before
    refusal_audited(auditor, "Only the obligation's owner")


def test_a_data_scientist_accepting_evidence_is_a_403(client_for, data_scientist, documentation):
    obligation_submit_evidence(
        obligation=documentation, by=data_scientist, link="https://wiki.example/doc"
    )
    before = snapshot(documentation)
    response = client_for(data_scientist).post(obligation_url("accept", documentation))
    assert response.status_code == 403
    assert "Only risk officers and governance leads can accept evidence" in refusal_of(response)
    assert snapshot(documentation) == before
    refusal_audited(data_scientist, "Only risk officers and governance leads")


def test_accepting_evidence_accepted_meanwhile_is_a_409(
    client_for, data_scientist, risk_officer, governance_lead, documentation
):
    obligation_submit_evidence(
        obligation=documentation, by=data_scientist, link="https://wiki.example/doc"
    )
    obligation_accept(obligation=documentation, by=risk_officer)
    before = snapshot(documentation)
    response = client_for(governance_lead).post(obligation_url("accept", documentation))
    assert response.status_code == 409
    assert "this one is accepted" in refusal_of(response)
    assert snapshot(documentation) == before


def test_a_waiver_without_a_justification_is_a_400(client_for, governance_lead, documentation):
    before = snapshot(documentation)
    response = client_for(governance_lead).post(
        obligation_url("waive", documentation), {"justification": "  "}
    )
    assert response.status_code == 400
    assert "Say why this obligation is waived" in refusal_of(response)
    assert snapshot(documentation) == before


def test_a_data_scientist_waiving_is_a_403(client_for, data_scientist, documentation):
    before = snapshot(documentation)
    response = client_for(data_scientist).post(
        obligation_url("waive", documentation), {"justification": "Not needed for us."}
    )
    assert response.status_code == 403
    assert "Only governance leads can waive obligations" in refusal_of(response)
    assert snapshot(documentation) == before
    refusal_audited(data_scientist, "Only governance leads can waive")


def test_a_waiver_that_is_allowed_still_redirects(client_for, governance_lead, documentation):
    response = client_for(governance_lead).post(
        obligation_url("waive", documentation), {"justification": "Compensating control."}
    )
    assert response.status_code == 302
    documentation.refresh_from_db()
    assert documentation.status == "waived"


# --- Step 4: policy ----------------------------------------------------------------------


def test_a_second_policy_draft_is_a_400_on_the_policy_page(client_for, governance_lead):
    policy_draft_create(policy=policy_default(), by=governance_lead)
    count, audit = PolicyVersion.objects.count(), trail()
    response = client_for(governance_lead).post(reverse("governance:policy-draft-new"))
    assert response.status_code == 400
    assert "already has a draft" in refusal_of(response)
    assert (PolicyVersion.objects.count(), trail()) == (count, audit)


def test_discarding_a_published_version_is_a_409(client_for, governance_lead):
    published = policy_published_latest()
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("governance:policy-version-discard", args=[published.pk])
    )
    assert response.status_code == 409
    assert "is published and cannot be changed" in refusal_of(response)
    assert PolicyVersion.objects.filter(pk=published.pk, status="published").exists()
    assert trail() == audit


def test_proposing_a_published_version_is_a_409(client_for, governance_lead):
    published = policy_published_latest()
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("governance:policy-version-publish", args=[published.pk]), {"note": "Again."}
    )
    assert response.status_code == 409
    assert "is published and cannot be changed" in response.content.decode()
    assert not FrameworkChange.objects.exists() and trail() == audit


# --- four eyes on the framework ------------------------------------------------------------


@pytest.fixture
def proposal(governance_lead):
    rule = RiskRule.objects.get(name="Customer-facing")
    return risk_rule_propose_active(rule=rule, active=False, by=governance_lead, reason="Tidy.")


def test_withdrawing_a_withdrawn_proposal_is_a_409(client_for, governance_lead, proposal):
    framework_change_withdraw(change=proposal, by=governance_lead, reason="Later.")
    decisions, audit = FrameworkChangeDecision.objects.count(), trail()
    response = client_for(governance_lead).post(
        reverse("governance:framework-change-withdraw", args=[proposal.pk]), {"reason": "Again"}
    )
    assert response.status_code == 409
    assert "it cannot be withdrawn" in refusal_of(response)
    assert (FrameworkChangeDecision.objects.count(), trail()) == (decisions, audit)


def test_approving_a_withdrawn_proposal_is_a_409_and_applies_nothing(
    client_for, governance_lead, proposal
):
    framework_change_withdraw(change=proposal, by=governance_lead, reason="Later.")
    second = client_for(other_lead())
    decisions, audit = FrameworkChangeDecision.objects.count(), trail()
    response = second.post(
        reverse("governance:framework-change-approve", args=[proposal.pk]),
        {"password": PASSWORD},
    )
    assert response.status_code == 409
    assert "it cannot be approved" in response.content.decode()
    assert RiskRule.objects.get(name="Customer-facing").active
    assert (FrameworkChangeDecision.objects.count(), trail()) == (decisions, audit)


def test_an_unchanged_raci_role_proposed_in_the_admin_is_a_400_on_the_form(
    client_for, governance_lead
):
    role = RaciRole.objects.get(code="risk-audit")
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("admin:governance_racirole_change", args=[role.pk]),
        {"name": role.name, "level": role.level, "order": role.order, "proposal_reason": "x"},
    )
    assert response.status_code == 400
    assert "Nothing changed; there is nothing to propose." in response.content.decode()
    assert not FrameworkChange.objects.exists() and trail() == audit


def test_proposing_a_published_questionnaire_in_the_admin_is_a_409(client_for, governance_lead):
    published = ethics_version_current(scope="organisation")
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("admin:governance_ethicstemplateversion_changelist"),
        {"action": "publish", "_selected_action": [published.pk]},
    )
    assert response.status_code == 409
    assert "is published and cannot be changed" in refusal_of(response)
    assert "Nothing was done" in refusal_of(response)
    assert not FrameworkChange.objects.exists() and trail() == audit
    assert EthicsTemplateVersion.objects.get(pk=published.pk).status == "published"


def test_a_refused_admin_action_writes_nothing_for_any_selected_row(client_for, governance_lead):
    """Two questionnaires selected, one of which cannot be proposed: neither is."""
    from governance.selectors import ethics_template_get
    from governance.services import ethics_version_draft_create

    published = ethics_version_current(scope="organisation")
    fresh = ethics_version_draft_create(
        template=ethics_template_get(scope="use_case"), by=governance_lead, note="Reworded."
    )
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("admin:governance_ethicstemplateversion_changelist"),
        {"action": "publish", "_selected_action": [fresh.pk, published.pk]},
    )
    assert response.status_code == 409
    assert "any of the 2 selected rows" in refusal_of(response)
    assert not FrameworkChange.objects.exists() and trail() == audit


def test_proposing_an_active_rule_active_in_the_admin_is_a_400(client_for, governance_lead):
    rule = RiskRule.objects.get(name="Customer-facing")
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("admin:governance_riskrule_changelist"),
        {"action": "propose_activate", "_selected_action": [rule.pk]},
    )
    assert response.status_code == 400
    assert "is already active" in refusal_of(response)
    assert not FrameworkChange.objects.exists() and trail() == audit


def test_the_requesting_lead_confirming_a_role_grant_is_a_403(
    client_for, governance_lead, data_scientist
):
    grant = RoleGrant.objects.create(
        user=data_scientist,
        role=Role.APPROVER,
        reason="Joins the CAB.",
        requested_by=governance_lead,
    )
    audit = trail()
    response = client_for(governance_lead).post(
        reverse("admin:accounts_rolegrant_changelist"),
        {"action": "confirm", "_selected_action": [grant.pk]},
    )
    assert response.status_code == 403
    assert "cannot confirm it" in refusal_of(response)
    grant.refresh_from_db()
    assert grant.status == "pending" and trail() == audit
    refusal_audited(governance_lead, "cannot confirm it")
    assert not User.objects.get(pk=data_scientist.pk).groups.filter(name=Role.APPROVER).exists()


# --- Step 2: ethics --------------------------------------------------------------------------


def test_bad_ethics_answers_are_a_400_with_the_errors(client_for, data_scientist, team):
    use_case = UseCaseFactory(team=team)
    audit = trail()
    response = client_for(data_scientist).post(
        reverse("governance:ethics-use-case-answer", args=[use_case.pk]),
        use_case_post(transparency="9", aspects=["astrology"]),
    )
    assert response.status_code == 400
    assert b"field-error" in response.content and b'role="alert"' in response.content
    assert not EthicsAnswerSet.objects.exists() and trail() == audit


def test_approving_an_approved_position_again_is_a_409(client_for, governance_lead):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        position_approve(answer_set=answer_set, by=other_lead())
    second = client_for(other_lead())
    audit = trail()
    response = second.post(
        reverse("governance:ethics-approve", args=[answer_set.pk]), {"password": PASSWORD}
    )
    assert response.status_code == 409
    assert "already approved" in refusal_of(response)
    assert EthicsApproval.objects.count() == 1 and trail() == audit


# --- experiments -----------------------------------------------------------------------------


def test_abandoning_without_a_reason_is_a_400_beside_the_form(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    audit = trail()
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-abandon", args=[experiment.pk]), {"reason": " "}
    )
    assert response.status_code == 400
    assert "Say why the experiment is abandoned" in refusal_of(response)
    html = response.content.decode()
    assert html.index('data-testid="refusal"') > html.index("<h2>Abandon</h2>")
    experiment.refresh_from_db()
    assert experiment.status == "draft" and trail() == audit


def test_abandoning_an_abandoned_experiment_is_a_409(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment_svc.experiment_abandon(experiment=experiment, by=data_scientist, reason="Wrong.")
    audit = trail()
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-abandon", args=[experiment.pk]), {"reason": "Again"}
    )
    assert response.status_code == 409
    assert "cannot be abandoned" in refusal_of(response)
    assert Experiment.objects.get(pk=experiment.pk).abandon_reason == "Wrong."
    assert trail() == audit


def test_editing_a_locked_protocol_is_a_409(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    protocol, audit = dict(experiment.protocol), trail()
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-edit", args=[experiment.pk]),
        form_data(champion, challenger, minimum_effect=0.5),
    )
    assert response.status_code == 409
    assert "signed and locked" in refusal_of(response)
    experiment.refresh_from_db()
    assert experiment.protocol == protocol and trail() == audit


# --- bias summaries and monitoring --------------------------------------------------------


def test_an_unfinished_bias_summary_as_evidence_is_a_400(client_for, data_scientist, version):
    summary = BiasSummaryFactory(dataset__model_version=version)
    audit, events = trail(), ObligationEvent.objects.count()
    response = client_for(data_scientist).post(
        reverse("fairness:bias-summary-evidence", args=[summary.pk])
    )
    assert response.status_code == 400
    assert "Only a finished summary can be submitted as evidence" in refusal_of(response)
    assert (trail(), ObligationEvent.objects.count()) == (audit, events)


def test_bad_summary_options_are_a_400(client_for, data_scientist, version):
    dataset = ScoredDatasetFactory(model_version=version)
    audit = trail()
    with mock.patch("fairness.tasks.bias_summary_run.delay") as delay:
        response = client_for(data_scientist).post(
            reverse("fairness:bias-summary-request", args=[dataset.pk]),
            {"reference": "best", "min_group_size": "-3", "favourable_prediction": "1"},
        )
    assert response.status_code == 400
    assert "Check the options" in refusal_of(response)
    assert not BiasSummary.objects.exists() and trail() == audit
    delay.assert_not_called()


def test_sending_data_before_monitoring_is_configured_is_a_409(
    client_for, data_scientist, version, media
):
    audit = trail()
    response = client_for(data_scientist).post(
        reverse("monitoring:monitoring-batch", args=[version.pk]),
        {"kind": "production", "file": SimpleUploadedFile("b.csv", b"ts,x\n")},
    )
    assert response.status_code == 409
    assert "Configure monitoring before sending data" in refusal_of(response)
    assert not MonitoringBatch.objects.exists() and trail() == audit


# --- RACI and change declarations -------------------------------------------------------------


def test_naming_nobody_in_the_raci_is_a_400(client_for, data_scientist, team):
    use_case = UseCaseFactory(team=team)
    count, audit = RaciAssignment.objects.count(), trail()
    response = client_for(data_scientist).post(
        reverse("governance:raci-assignment-add", args=[use_case.pk]),
        {"role": RaciRole.objects.get(code="data-scientists").pk},
    )
    assert response.status_code == 400
    assert "Choose a role and either a person or a team" in response.content.decode()
    assert (RaciAssignment.objects.count(), trail()) == (count, audit)


def test_confirming_a_change_declaration_that_does_not_exist_is_a_400(
    client_for, risk_officer, version
):
    audit = trail()
    response = client_for(risk_officer).post(
        reverse("governance:version-change-declaration-confirm", args=[version.pk]),
        {"password": PASSWORD},
    )
    assert response.status_code == 400
    assert "no change declaration to confirm" in refusal_of(response)
    assert trail() == audit
