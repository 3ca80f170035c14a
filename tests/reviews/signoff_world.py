"""A governed use case ready for sign-off tests: High tier (two sign-offs per move),
a complete RACI (risk officer Accountable for model acceptance, approver for
deployments), obligations computed, and a version authored by the data scientist."""

import pytest

from accounts.roles import Role
from governance.models import RaciRole
from governance.selectors import obligation_list
from governance.services import obligations_recompute, raci_assign
from inventory.choices import RiskTier
from tests.factories import (
    ModelVersionFactory,
    UseCaseFactory,
    confirmed_classification,
    user_with_role,
)

PASSWORD = "correct horse battery staple"

# role code -> fixture name of the person named for it
STAFF = {
    "business-stakeholders": "business_owner",
    "business-analysts": "analyst",
    "data-scientists": "data_scientist",
    "risk-audit": "risk_officer",
    "data-ops": "data_ops",
    "production": "approver",
    "architect": "architect",
}


def with_password(user, email=True):
    user.set_password(PASSWORD)
    if email:
        user.email = f"{user.username}@example.org"
    user.save()
    return user


@pytest.fixture
def business_owner(db):
    return with_password(user_with_role(Role.RISK_OFFICER, username="owner"))


@pytest.fixture
def analyst(db):
    return with_password(user_with_role(Role.DATA_SCIENTIST, username="analyst"))


@pytest.fixture
def data_ops(db):
    return with_password(user_with_role(Role.DATA_SCIENTIST, username="dataops"))


@pytest.fixture
def architect(db):
    return with_password(user_with_role(Role.APPROVER, username="architect"))


@pytest.fixture
def second_risk_officer(db):
    return with_password(user_with_role(Role.RISK_OFFICER, username="risk2"))


@pytest.fixture
def world(
    request,
    team,
    governance_lead,
    data_scientist,
    risk_officer,
    approver,
    business_owner,
    analyst,
    data_ops,
    architect,
):
    for user in (governance_lead, data_scientist, risk_officer, approver):
        with_password(user)
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.HIGH, criticality=3)
    for role_code, fixture in STAFF.items():
        raci_assign(
            use_case=use_case,
            role=RaciRole.objects.get(code=role_code),
            by=governance_lead,
            user=request.getfixturevalue(fixture),
        )
    obligations_recompute(use_case=use_case)
    confirmed_classification(use_case, by=risk_officer)
    version = ModelVersionFactory(
        model__use_case=use_case,
        authors=[data_scientist],
        training_data_ref="warehouse://applications/2026-10-01",
    )
    # The version owes its own obligations (issue 12).
    obligations_recompute(use_case=use_case)
    return use_case, version


def obligation(use_case, code, version=None):
    """The active obligation on ``code``: the use case's only one, or ``version``'s."""
    if version is not None:
        return obligation_list(version=version).get(consideration__code=code)
    return obligation_list(use_case=use_case).get(consideration__code=code)


def satisfy(version, environment, *, by, checker, lead=None, skip=()):
    """Meet every obligation that gates ``version``'s move into ``environment`` (as
    the policy says): evidence submitted by ``by`` and accepted by ``checker``; an
    obligation met by a monitoring configuration is waived by ``lead`` (tests configure
    no monitoring); a signed validation where the policy requires one. Codes in ``skip``
    (and "validation") stay as they are."""
    from governance.selectors import obligations_gating_move
    from governance.services import obligation_accept, obligation_submit_evidence, obligation_waive
    from reviews.selectors.validation import validation_blocking
    from tests.factories import signed_validation

    # Independent validation (issue 12): signed by an independent validator where the
    # policy asks for one, unless "validation" is in ``skip``.
    if "validation" not in skip and any(
        code == "validation:missing" for code, _ in validation_blocking(version, environment)
    ):
        signed_validation(version)

    for item in obligations_gating_move(version=version, environment=environment):
        if item["code"] in skip or item["problem"] is None:
            continue
        ob = item["row"]
        if item["evidence"] == "monitoring-config":
            obligation_waive(obligation=ob, by=lead, justification="Monitored outside the test.")
            continue
        if ob.status == "open":
            ob = obligation_submit_evidence(
                obligation=ob,
                by=by,
                link=f"https://evidence.example.org/{version.pk}/{item['code']}",
            )
        obligation_accept(obligation=ob, by=checker)
