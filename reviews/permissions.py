"""Who may do what in the sign-off workflow (pages and the API use the same checks).

- data scientists of the use case's team (and governance leads) ask for promotions;
  risk officers may also ask for a rollback or a retirement (effective challenge);
- who signs is decided per request by the RACI (see ``reviews.selectors``), minus the
  requester, the authors and the validator (segregation of duties);
- governance leads waive blocking items and revoke approvals;
- risk officers and governance leads (and the model's team) open findings; who moves
  a finding on is ``reviews.selectors.findings``; risk officers and governance leads sign
  periodic reviews (a model-acceptance Accountable without the risk officer role does not);
- everyone with a role reads.
"""

from accounts.permissions import AnyUser, has_role, is_governance_lead
from accounts.roles import Role
from core import promotion_rules as rules
from inventory.models import ModelVersion
from inventory.permissions import can_change_version


def can_request(user: AnyUser, version: ModelVersion, kind: str) -> bool:
    if can_change_version(user, version):
        return True
    return kind in (rules.ROLLBACK, rules.RETIRE) and has_role(user, Role.RISK_OFFICER)


def can_waive(user: AnyUser) -> bool:
    return is_governance_lead(user)


def can_open_finding(user: AnyUser, version: ModelVersion) -> bool:
    return has_role(user, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD) or can_change_version(
        user, version
    )
