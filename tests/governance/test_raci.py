"""Step 3: the default RACI content, its rules, and who is responsible."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from core import raci_rules
from governance.models import RaciRole, RaciTemplateCell, UseCaseRaciCell
from governance.selectors import (
    raci_accountable_for,
    raci_my_responsibilities,
    raci_people_for,
    raci_view,
)
from governance.services import raci_assign, raci_matrix_set
from tests.factories import UseCaseFactory, UserFactory, user_with_role

# DOMAIN.md, Step 3 (the book's Figure 8-4), column by column.
ROLES = [
    "business-stakeholders",
    "business-analysts",
    "data-scientists",
    "risk-audit",
    "data-ops",
    "production",
    "architect",
    "validation",  # issue 12: independent validation, consulted on model acceptance
]
DEFAULT = {
    "identification": ["AR", "C", "", "I", "", "", "", ""],
    "data-preparation": ["C", "AR", "C", "", "", "", "", ""],
    "data-modeling": ["C", "A", "R", "", "", "", "", ""],
    "model-acceptance": ["I", "C", "C", "AR", "", "", "", "C"],
    "productionalization": ["", "C", "AR", "I", "C", "", "", ""],
    "capitalization": ["", "", "R", "", "R", "", "A", ""],
    "integration": ["", "", "", "", "AR", "", "", ""],
    "global-orchestration": ["", "C", "", "", "R", "A", "", ""],
    "user-acceptance-tests": ["AR", "R", "C", "", "I", "", "", ""],
    "deployments": ["", "", "", "", "R", "A", "I", ""],
    "monitoring": ["I", "C", "", "", "", "AR", "I", ""],
}


@pytest.mark.django_db
def test_default_template_matches_the_domain_matrix_cell_by_cell():
    got = {(c.task.code, c.role.code): c.letters for c in RaciTemplateCell.objects.all()}
    expected = {
        (task, role): letters
        for task, row in DEFAULT.items()
        for role, letters in zip(ROLES, row, strict=True)
        if letters
    }
    assert got == expected
    assert list(RaciRole.objects.values_list("code", flat=True)) == ROLES
    levels = dict(RaciRole.objects.values_list("code", "level"))
    assert levels["business-stakeholders"] == "strategic"
    assert levels["data-scientists"] == "operational"


def test_rules_name_each_violation():
    tasks, roles = [("t", "Task")], [("a", "Alpha"), ("b", "Beta")]
    assert raci_rules.violations({("t", "a"): "AR"}, tasks=tasks, roles=roles) == []
    assert [v.message for v in raci_rules.violations({}, tasks=tasks, roles=roles)] == [
        "Task: nobody is Accountable.",
        "Task: nobody is Responsible.",
    ]
    two = raci_rules.violations({("t", "a"): "A", ("t", "b"): "AR"}, tasks=tasks, roles=roles)
    assert [v.message for v in two] == ["Task: two Accountables (Alpha and Beta)."]
    unstaffed = raci_rules.violations(
        {("t", "a"): "AR"}, tasks=tasks, roles=roles, staffed_roles=set()
    )
    assert [v.message for v in unstaffed] == ["Task: nobody is named for Alpha."]


@pytest.mark.parametrize(("given", "expected"), [("ra", "AR"), ("A/R", "AR"), ("i", "I"), ("", "")])
def test_letters_are_normalised(given, expected):
    assert raci_rules.normalise_letters(given) == expected


@pytest.mark.parametrize("bad", ["X", "AA", "A R Z"])
def test_bad_letters_are_refused(bad):
    with pytest.raises(ValueError):
        raci_rules.normalise_letters(bad)


@pytest.mark.django_db
def test_a_use_case_follows_the_template_until_it_is_changed(data_scientist, team):
    use_case = UseCaseFactory(team=team)
    view = raci_view(use_case=use_case)
    assert view.follows_template and not view.complete
    # Nobody is named yet: every A/R role is unstaffed.
    assert any("nobody is named for Risk / audit" in v.message for v in view.violations)
    raci_matrix_set(use_case=use_case, cells={("integration", "data-ops"): "R"}, by=data_scientist)
    view = raci_view(use_case=use_case)
    assert not view.follows_template
    assert UseCaseRaciCell.objects.filter(use_case=use_case).count() == len(
        RaciTemplateCell.objects.all()
    )
    assert "Integration to external systems: nobody is Accountable." in [
        v.message for v in view.violations
    ]


@pytest.mark.django_db
def test_two_accountables_are_refused_and_nothing_is_written(data_scientist, team):
    use_case = UseCaseFactory(team=team)
    with pytest.raises(ValidationError) as exc:
        raci_matrix_set(
            use_case=use_case,
            cells={("monitoring", "business-analysts"): "A", ("identification", "data-ops"): "C"},
            by=data_scientist,
        )
    assert "Monitoring: only one role can be Accountable." in exc.value.message_dict["cells"]
    assert not UseCaseRaciCell.objects.exists()


@pytest.mark.django_db
def test_unknown_codes_and_letters_are_refused(data_scientist, team):
    use_case = UseCaseFactory(team=team)
    with pytest.raises(ValidationError) as exc:
        raci_matrix_set(
            use_case=use_case,
            cells={("nope", "data-ops"): "R", ("monitoring", "production"): "AZ"},
            by=data_scientist,
        )
    assert set(exc.value.message_dict) == {"nope/data-ops", "monitoring/production"}
    assert not UseCaseRaciCell.objects.exists()


@pytest.mark.django_db
def test_another_team_cannot_change_the_matrix(other_data_scientist, team, auditor):
    use_case = UseCaseFactory(team=team)
    for user in (other_data_scientist, auditor):
        with pytest.raises(PermissionDenied):
            raci_matrix_set(use_case=use_case, cells={}, by=user)


@pytest.mark.django_db
def test_a_fully_staffed_default_matrix_is_complete_and_names_the_accountables(
    governance_lead, team
):
    use_case = UseCaseFactory(team=team)
    people = {code: UserFactory(username=f"p-{code}") for code in ROLES}
    # approval roles are staffed by people holding their product role (issue 12)
    people["risk-audit"] = user_with_role(Role.RISK_OFFICER, username="p-risk-audit")
    people["production"] = user_with_role(Role.APPROVER, username="p-production")
    people["validation"] = user_with_role(Role.VALIDATOR, username="p-validation")
    for role in RaciRole.objects.all():
        raci_assign(use_case=use_case, role=role, user=people[role.code], by=governance_lead)
    assert raci_view(use_case=use_case).complete
    assert raci_accountable_for(use_case=use_case, task_code="model-acceptance") == [
        people["risk-audit"]
    ]
    assert raci_accountable_for(use_case=use_case, task_code="monitoring") == [people["production"]]
    informed = raci_people_for(use_case=use_case, task_code="deployments", letters="I")
    assert informed == [people["architect"]]


@pytest.mark.django_db
def test_team_assignment_counts_for_its_members_and_my_responsibilities(
    governance_lead, team, data_scientist
):
    use_case = UseCaseFactory(team=team, name="Fraud scoring")
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="data-scientists"),
        team=team,
        by=governance_lead,
    )
    assert data_scientist in raci_people_for(
        use_case=use_case, task_code="data-modeling", letters="R"
    )
    rows = raci_my_responsibilities(user=data_scientist)
    assert {(r["task"].code, r["letters"]) for r in rows} == {
        ("data-preparation", "C"),
        ("data-modeling", "R"),
        ("model-acceptance", "C"),
        ("productionalization", "AR"),
        ("capitalization", "R"),
        ("user-acceptance-tests", "C"),
    }
    assert {r["use_case"].name for r in rows} == {"Fraud scoring"}


@pytest.mark.django_db
def test_assignment_names_a_person_or_a_team(governance_lead, team):
    use_case = UseCaseFactory(team=team)
    role = RaciRole.objects.get(code="data-ops")
    with pytest.raises(ValidationError):
        raci_assign(use_case=use_case, role=role, by=governance_lead)
    first = raci_assign(use_case=use_case, role=role, user=governance_lead, by=governance_lead)
    again = raci_assign(use_case=use_case, role=role, user=governance_lead, by=governance_lead)
    assert first.pk == again.pk


@pytest.mark.django_db
def test_every_signoff_slot_names_its_role_and_the_default_accountables_hold_it():
    """Issue 12: each sign-off slot says which product role signs it, and the default
    RACI makes an approval role (staffed only by holders of that role) its Accountable."""
    from accounts.roles import APPROVAL_RACI_ROLES, SIGNING_TASK_ROLES
    from core.promotion_rules import SLOT_TASKS

    assert set(SIGNING_TASK_ROLES) == set(SLOT_TASKS)
    assert set(APPROVAL_RACI_ROLES) <= set(RaciRole.objects.values_list("code", flat=True))
    for task, needed in SIGNING_TASK_ROLES.items():
        accountable = RaciTemplateCell.objects.get(task__code=task, letters__contains="A")
        assert set(APPROVAL_RACI_ROLES[accountable.role.code]) <= set(needed)
