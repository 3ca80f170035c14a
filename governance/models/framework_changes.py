"""Four eyes on the framework: a change to the policy, the classification rules or the
organisation's ethical position is proposed by one governance lead and takes effect
only when a different lead signs its approval (password re-entered).

Both records are append-only. A proposal holds the exact content it proposes (and its
SHA-256); to change the content, a lead proposes again, which supersedes the pending
proposal for the same target. A proposal is pending until it has a decision: approved
(the change is then applied, in the same transaction), rejected, withdrawn or
superseded; one decision per proposal (a one-to-one row, so two leads approving at
once cannot both win).
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyModel


class FrameworkChange(AppendOnlyModel):
    """One proposed change to the governance framework, awaiting a second lead."""

    class Kind(models.TextChoices):
        POLICY_PUBLISH = "policy_publish", "Publish a policy version"
        RISK_RULE_ADD = "risk_rule_add", "Add a classification rule"
        RISK_RULE_EDIT = "risk_rule_edit", "Edit a classification rule"
        RISK_RULE_ACTIVATE = "risk_rule_activate", "Activate a classification rule"
        RISK_RULE_DEACTIVATE = "risk_rule_deactivate", "Deactivate a classification rule"
        ETHICS_POSITION = "ethics_position", "Change the organisation's ethical position"
        CATALOGUE_EDIT = (
            "catalogue_edit",
            "Change the catalogue (measures, requirements, regulations, questionnaire, RACI)",
        )
        ETHICS_PUBLISH = "ethics_publish", "Publish an ethics questionnaire version"
        DOCUMENT_TEMPLATE_PUBLISH = (
            "document_template_publish",
            "Publish a document template version",
        )

    kind = models.CharField(max_length=30, choices=Kind.choices)
    policy_version = models.ForeignKey(
        "governance.PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="framework_changes",
    )
    risk_rule = models.ForeignKey(
        "governance.RiskRule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="framework_changes",
        help_text="The rule changed; empty for a new rule until it is approved.",
    )
    answer_set = models.ForeignKey(
        "governance.EthicsAnswerSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="framework_changes",
    )
    target_key = models.CharField(
        max_length=60, help_text="What the change is about, e.g. 'risk_rule:3'; one pending each."
    )
    content = models.JSONField(help_text="The exact content proposed.")
    content_sha256 = models.CharField(max_length=64)
    base_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="The target's content when proposed; approval refuses if it changed since.",
    )
    reason = models.CharField(max_length=1000, help_text="What changes and why.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = "framework change proposal"
        indexes = [models.Index(fields=["target_key", "-proposed_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def status(self) -> str:
        decision = getattr(self, "decision", None)
        return decision.outcome if decision is not None else "pending"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"


class FrameworkChangeDecision(AppendOnlyModel):
    """The decision on a proposal: a second lead's signed approval or rejection, the
    proposer's withdrawal, or its supersession by a newer proposal. Never changed."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SUPERSEDED = "superseded", "Superseded"

    change = models.OneToOneField(
        FrameworkChange, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.CharField(max_length=1000, blank=True)
    signed_content_sha256 = models.CharField(
        max_length=64, help_text="The proposal's content hash the decision was made on."
    )
    printed_name = models.CharField(max_length=300)
    auth_method = models.CharField(
        max_length=40,
        help_text="'password' for a signature typed now; 'seeded' for the demo loader.",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "framework change decision"

    def __str__(self) -> str:
        return f"{self.change}: {self.get_outcome_display()} by {self.by}"
