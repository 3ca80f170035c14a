"""Step 3 pages through the client: the RACI grid and "my responsibilities"."""

import pytest

from accounts.roles import Role
from governance.models import RaciRole, UseCaseRaciCell
from governance.services import raci_assign
from tests.factories import UseCaseFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_case(team):
    return UseCaseFactory(team=team, name="Credit limit model")


def test_every_role_reads_the_grid_with_its_violations(client_for, users_by_role, use_case):
    for user in users_by_role.values():
        response = client_for(user).get(f"/raci/use-cases/{use_case.pk}/")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Model acceptance" in content and "Incomplete" in content
        assert "nobody is named for Risk / audit" in content


def test_no_role_and_anonymous_are_kept_out(client, client_for, no_role_user, use_case):
    assert client_for(no_role_user).get(f"/raci/use-cases/{use_case.pk}/").status_code == 403
    assert client.get(f"/raci/use-cases/{use_case.pk}/").status_code == 302
    assert client_for(no_role_user).get("/raci/use-cases/999999/").status_code == 403


def test_team_member_edits_the_grid(client_for, data_scientist, use_case):
    response = client_for(data_scientist).post(
        f"/raci/use-cases/{use_case.pk}/", {"cell-integration-data-ops": "R"}
    )
    assert response.status_code == 302
    cell = UseCaseRaciCell.objects.get(
        use_case=use_case, task__code="integration", role__code="data-ops"
    )
    assert cell.letters == "R" and cell.updated_by == data_scientist


def test_two_accountables_are_a_clear_error_and_nothing_is_saved(
    client_for, data_scientist, use_case
):
    response = client_for(data_scientist).post(
        f"/raci/use-cases/{use_case.pk}/",
        {"cell-monitoring-business-analysts": "A", "cell-integration-data-ops": "R"},
    )
    assert response.status_code == 400
    assert "Monitoring: only one role can be Accountable." in response.content.decode()
    assert not UseCaseRaciCell.objects.exists()


@pytest.mark.parametrize("who", ["other_data_scientist", "auditor", "approver"])
def test_others_cannot_change_the_grid_or_its_people(request, client_for, use_case, who):
    client = client_for(request.getfixturevalue(who))
    role = RaciRole.objects.get(code="risk-audit")
    assert client.post(f"/raci/use-cases/{use_case.pk}/", {}).status_code == 403
    assert (
        client.post(
            f"/raci/use-cases/{use_case.pk}/assignments/", {"role": role.pk, "team": 1}
        ).status_code
        == 403
    )
    assert not UseCaseRaciCell.objects.exists() and not use_case.raci_assignments.exists()


def test_a_risk_officer_changes_only_who_signs(client_for, risk_officer, use_case):
    """The second line edits the signing rows and approval columns, not the rest."""
    client = client_for(risk_officer)
    response = client.post(f"/raci/use-cases/{use_case.pk}/", {"cell-integration-data-ops": "R"})
    assert response.status_code == 403
    assert not UseCaseRaciCell.objects.exists()
    data_ops = RaciRole.objects.get(code="data-ops")
    response = client.post(
        f"/raci/use-cases/{use_case.pk}/assignments/",
        {"role": data_ops.pk, "user": risk_officer.pk},
    )
    assert response.status_code == 403 and not use_case.raci_assignments.exists()
    response = client.post(f"/raci/use-cases/{use_case.pk}/", {"cell-monitoring-risk-audit": "I"})
    assert response.status_code == 302
    assert (
        UseCaseRaciCell.objects.get(
            use_case=use_case, task__code="monitoring", role__code="risk-audit"
        ).letters
        == "I"
    )


def test_naming_and_removing_people(client_for, governance_lead, risk_officer, auditor, use_case):
    client = client_for(governance_lead)
    role = RaciRole.objects.get(code="risk-audit")
    # risk / audit takes risk officers only (issue 12): the auditor is refused, 400
    refused = client.post(
        f"/raci/use-cases/{use_case.pk}/assignments/", {"role": role.pk, "user": auditor.pk}
    )
    assert refused.status_code == 400
    assert "does not hold the risk officer role" in refused.content.decode()
    assert not use_case.raci_assignments.exists()
    client.post(
        f"/raci/use-cases/{use_case.pk}/assignments/", {"role": role.pk, "user": risk_officer.pk}
    )
    assignment = use_case.raci_assignments.get()
    assert assignment.user == risk_officer and assignment.assigned_by == governance_lead
    # Neither or both of person and team: refused, nothing written.
    client.post(f"/raci/use-cases/{use_case.pk}/assignments/", {"role": role.pk})
    client.post(f"/raci/use-cases/{use_case.pk}/assignments/", {"role": "x", "user": "y"})
    assert use_case.raci_assignments.count() == 1
    response = client.post(f"/raci/use-cases/{use_case.pk}/assignments/{assignment.pk}/remove/")
    assert response.status_code == 302 and not use_case.raci_assignments.exists()
    assert client.get(f"/raci/use-cases/{use_case.pk}/assignments/").status_code == 405


def test_my_responsibilities_lists_what_i_am_named_for(
    client_for, governance_lead, risk_officer, use_case
):
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="risk-audit"),
        user=risk_officer,
        by=governance_lead,
    )
    content = client_for(risk_officer).get("/raci/mine/").content.decode()
    assert "Credit limit model" in content and "Model acceptance" in content
    assert "<strong>AR</strong>" in content
    empty = client_for(governance_lead).get("/raci/mine/").content.decode()
    assert "not named in any use case" in empty


def test_home_counts_use_cases_with_an_incomplete_raci(
    client_for, governance_lead, risk_officer, approver, use_case
):
    from governance.selectors.raci import use_cases_with_incomplete_raci

    UseCaseFactory(status="retired")
    response = client_for(governance_lead).get("/")
    assert response.context["raci_incomplete"] == 1
    staff = {
        "risk-audit": risk_officer,
        "production": approver,
        "validation": user_with_role(Role.VALIDATOR, username="val"),
    }
    for role in RaciRole.objects.all():
        who = staff.get(role.code, governance_lead)
        raci_assign(use_case=use_case, role=role, user=who, by=governance_lead)
    assert use_cases_with_incomplete_raci(user=governance_lead) == []
    # The figure is kept between views (audit.figures) until something is audited:
    # the staffing above was, so the home page counts again at once.
    response = client_for(governance_lead).get("/")
    assert response.context["raci_incomplete"] == 0
    assert "RACI incomplete" in response.content.decode()
