"""Who may run and sign experiments (pages and the API use the same checks)."""

from accounts.permissions import AnyUser, is_governance_lead
from inventory.permissions import can_change_use_case


def can_run_experiment(user: AnyUser, use_case) -> bool:
    """Create, edit, start, feed and abandon a use case's experiments: its team's data
    scientists and governance leads."""
    return can_change_use_case(user, use_case)


def can_sign_experiment_result(user: AnyUser, experiment) -> bool:
    """The experiment's owner (still able to run it) or a governance lead."""
    if is_governance_lead(user):
        return True
    return user.pk == experiment.owner_id and can_run_experiment(user, experiment.use_case)
