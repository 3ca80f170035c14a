"""Who may change what in the inventory. Used by pages, the API and the admin alike.

- governance leads change everything;
- data scientists create and change the use cases, models, versions and datasets
  of their own teams, and answer their classification questionnaires;
- risk officers read everything and (re)classify any use case (effective challenge);
- approvers and auditors read only.
Everyone with a role reads the whole inventory: one inventory, no shadow IT.
"""

from accounts.permissions import AnyUser, has_role, is_governance_lead
from accounts.roles import Role
from inventory.models import Dataset, MLModel, ModelVersion, Team, UseCase


def _team_ids(user: AnyUser) -> set[int]:
    cached = getattr(user, "_team_ids", None)
    if cached is None:
        cached = set(user.teams.values_list("id", flat=True)) if user.is_authenticated else set()
        user._team_ids = cached
    return cached


def teams_user_can_write(user: AnyUser):
    """The teams under which the user may create inventory rows."""
    if is_governance_lead(user):
        return Team.objects.all()
    if has_role(user, Role.DATA_SCIENTIST):
        return Team.objects.filter(id__in=_team_ids(user))
    return Team.objects.none()


def can_write_for_team(user: AnyUser, team: Team | None) -> bool:
    if is_governance_lead(user):
        return True
    return team is not None and has_role(user, Role.DATA_SCIENTIST) and team.pk in _team_ids(user)


def can_create_use_case(user: AnyUser) -> bool:
    return is_governance_lead(user) or (
        has_role(user, Role.DATA_SCIENTIST) and bool(_team_ids(user))
    )


def can_change_use_case(user: AnyUser, use_case: UseCase) -> bool:
    return can_write_for_team(user, use_case.team)


def can_classify(user: AnyUser, use_case: UseCase) -> bool:
    return has_role(user, Role.RISK_OFFICER) or can_change_use_case(user, use_case)


def can_change_model(user: AnyUser, ml_model: MLModel) -> bool:
    return can_change_use_case(user, ml_model.use_case)


def can_change_version(user: AnyUser, version: ModelVersion) -> bool:
    return can_change_model(user, version.model)


def can_change_dataset(user: AnyUser, dataset: Dataset) -> bool:
    return can_write_for_team(user, dataset.team)


def can_create_dataset(user: AnyUser) -> bool:
    return can_create_use_case(user)
