"""Who develops a model (issue 12): whoever does neither validates it, verifies a
remediation of its findings, nor accepts their risk."""

from __future__ import annotations

from accounts.permissions import AnyUser
from governance.models import RaciTask
from governance.selectors.raci import raci_people_for
from inventory.models import ModelVersion

# The RACI tasks of building the model: who is Responsible or Accountable for one of
# them develops it, and so does not validate it.
DEVELOPMENT_TASKS = ("data-preparation", "data-modeling", "productionalization")


def developer_relation(user: AnyUser, version: ModelVersion) -> str | None:
    """How ``user`` takes part in developing ``version`` (a member of its use case's
    team, the technical owner, an author or the registrant, Responsible or Accountable
    for a development task in the RACI), as words for a refusal, or None when they do
    not. Whoever develops a model neither validates it nor accepts its findings."""
    use_case = version.model.use_case
    if use_case.team.members.filter(pk=user.pk).exists():
        return f"a member of {use_case.team}, the team that develops this use case"
    if user.pk == use_case.technical_owner_id:
        return "the use case's technical owner"
    if user.pk == version.registered_by_id or version.authors.filter(pk=user.pk).exists():
        return "an author or the registrant of this version"
    for task in DEVELOPMENT_TASKS:
        if any(u.pk == user.pk for u in raci_people_for(use_case=use_case, task_code=task)):
            name = RaciTask.objects.filter(code=task).values_list("name", flat=True).first()
            return f"Responsible or Accountable for {name or task} in the use case's RACI"
    return None
