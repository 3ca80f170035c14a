"""The policy's finding rules (issue 16): edited in a draft by a governance lead,
published with four eyes, frozen once published (model and database), and followed by
the findings opened after."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from core import finding_rules as fr
from governance.models import PolicyFindingRule
from governance.selectors import policy_default, policy_finding_rules, policy_published_latest
from governance.services import policy_draft_create, policy_finding_rules_set
from reviews.services import findings as findings_svc
from tests.factories import ModelVersionFactory
from tests.governance.four_eyes import policy_publish


def form_data(rows):
    data = {}
    for severity, row in rows.items():
        data[f"remediation_days_{severity}"] = row["remediation_days"]
        data[f"acceptance_authority_{severity}"] = row["acceptance_authority"]
        data[f"acceptance_max_days_{severity}"] = row["acceptance_max_days"]
        data[f"blocks_{severity}"] = list(row["blocks"])
    return data


def defaults():
    return {
        s: {k: v for k, v in r.to_dict().items() if k != "severity"}
        for s, r in fr.DEFAULT_RULES.items()
    }


@pytest.fixture
def draft(governance_lead):
    return policy_draft_create(policy=policy_default(), by=governance_lead)


def test_a_draft_starts_with_the_published_rules(draft):
    rows = {r.severity: r for r in PolicyFindingRule.objects.filter(version=draft)}
    assert set(rows) == set(fr.SEVERITIES)
    assert rows["critical"].remediation_days == 14


def test_a_lead_edits_the_rules_on_the_page(draft, client_for, governance_lead):
    rows = defaults()
    rows["medium"]["blocks"] = ["preprod", "prod"]
    rows["low"]["remediation_days"] = 120
    page = client_for(governance_lead)
    answer = page.post(reverse("governance:policy-finding-rules", args=[draft.pk]), form_data(rows))
    assert answer.status_code == 302
    rules = policy_finding_rules(draft)
    assert rules["medium"].blocks == ("preprod", "prod") and rules["low"].remediation_days == 120
    shown = page.get(reverse("governance:policy-version", args=[draft.pk]))
    assert b'data-testid="finding-rules"' in shown.content


def test_rules_that_loosen_with_severity_are_refused_and_nothing_saved(
    draft, client_for, governance_lead
):
    rows = defaults()
    rows["critical"]["remediation_days"] = 60
    answer = client_for(governance_lead).post(
        reverse("governance:policy-finding-rules", args=[draft.pk]), form_data(rows)
    )
    assert answer.status_code == 400
    assert b"cannot have longer to remediate than high" in answer.content
    assert policy_finding_rules(draft)["critical"].remediation_days == 14


def test_only_a_lead_edits_them(draft, client_for, risk_officer):
    answer = client_for(risk_officer).post(
        reverse("governance:policy-finding-rules", args=[draft.pk]), form_data(defaults())
    )
    assert answer.status_code == 403
    with pytest.raises(PermissionDenied):
        policy_finding_rules_set(version=draft, rules=defaults(), by=risk_officer)


def test_published_rules_govern_new_findings_and_are_frozen(
    draft, governance_lead, risk_officer, team
):
    rows = defaults()
    rows["medium"]["remediation_days"] = 45
    policy_finding_rules_set(version=draft, rules={"medium": rows["medium"]}, by=governance_lead)
    published = policy_publish(version=draft, by=governance_lead, note="Medium: 45 days.")
    assert policy_published_latest() == published
    version = ModelVersionFactory(model__use_case__team=team)
    finding, _ = findings_svc.finding_open(
        version=version, by=risk_officer, title="Docs stale", severity="medium"
    )
    assert finding.due_on == timezone.localdate() + dt.timedelta(days=45)
    assert finding.policy_version == published
    # Frozen: the service, the model and the database refuse.
    with pytest.raises(ValidationError):
        policy_finding_rules_set(version=published, rules=defaults(), by=governance_lead)
    rule = PolicyFindingRule.objects.get(version=published, severity="medium")
    rule.remediation_days = 400
    with pytest.raises(ValidationError, match="cannot be changed"):
        rule.save()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE governance_policyfindingrule SET remediation_days = 400 WHERE id = %s",
                [rule.pk],
            )
        refused = None
    except DatabaseError as exc:
        refused = str(exc)
    assert refused and "frozen" in refused
    assert PolicyFindingRule.objects.get(pk=rule.pk).remediation_days == 45


def test_a_proposed_draft_s_rules_cannot_change(draft, governance_lead):
    from governance.services.framework_changes import policy_publish_propose

    policy_publish_propose(version=draft, by=governance_lead, note="As is.")
    with pytest.raises(ValidationError, match="proposed for publication"):
        policy_finding_rules_set(version=draft, rules=defaults(), by=governance_lead)
