"""What of Step 7 the audit trail records (registered from ``EngagementConfig.ready``)."""

from audit.registry import register


def _completion_action(instance, kind: str, changes: dict) -> str | None:
    if kind == "create":
        return "training.passed" if instance.passed else "training.not_passed"
    return None


def register_all() -> None:
    from engagement import models as em

    register(
        em.AttestationCampaign,
        action=lambda i, kind, ch: "attestation_campaign.started" if kind == "create" else None,
    )
    register(
        em.Attestation,
        parent="campaign",
        action=lambda i, kind, ch: "attestation.acknowledged" if kind == "create" else None,
    )
    register(em.TrainingModule, exclude=("updated_at",))
    register(em.TrainingCompletion, parent="module", action=_completion_action)
