"""Step 7, engage and educate (issue 16): attestation campaigns and their
acknowledgements, training modules (content as data) and their completions.

Campaigns, attestations and completions are governance records: append-only and
attributable (``AppendOnlyModel``: refused in Python and by database triggers). A
module's content is edited by governance leads in the admin site; each change of its
text or questions makes a new version number, and a completion records the version
passed.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.roles import Role
from audit.append_only import AppendOnlyModel
from core import engagement_rules


class AttestationCampaign(AppendOnlyModel):
    """Everyone in ``roles`` must read what was published and acknowledge it by
    ``due_on``. Started by the approval that published it; the latest campaign of a
    subject supersedes the earlier ones."""

    class Subject(models.TextChoices):
        POLICY = "policy", "Policy version"
        ETHICS = "ethics", "Ethical position"

    subject = models.CharField(max_length=10, choices=Subject.choices)
    policy_version = models.OneToOneField(
        "governance.PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attestation_campaign",
    )
    ethics_approval = models.OneToOneField(
        "governance.EthicsApproval",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attestation_campaign",
    )
    framework_change = models.ForeignKey(
        "governance.FrameworkChange",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="What changed and why (the change note).")
    statement = models.TextField(help_text="What each person acknowledges.")
    roles = models.JSONField(help_text="The roles whose holders must acknowledge.")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    subject="policy", policy_version__isnull=False, ethics_approval__isnull=True
                )
                | models.Q(
                    subject="ethics", ethics_approval__isnull=False, policy_version__isnull=True
                ),
                name="attestationcampaign_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def statement_sha256(self) -> str:
        return hashlib.sha256(self.statement.encode()).hexdigest()

    def role_labels(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(r, r)) for r in self.roles)


class Attestation(AppendOnlyModel):
    """One person's acknowledgement of a campaign: who, when, and the hash of the
    statement they acknowledged. Never changed or deleted."""

    campaign = models.ForeignKey(
        AttestationCampaign, on_delete=models.PROTECT, related_name="attestations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attestations"
    )
    at = models.DateTimeField()
    statement_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "user"], name="attestation_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.campaign}"


class TrainingModule(models.Model):
    """A training module as data: sections to read and a knowledge check, for some
    roles, valid for ``validity_days`` once passed. Edited by governance leads in the
    admin site; editing the text or questions raises ``version``."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    roles = models.JSONField(help_text="Role codes the module is required of.")
    validity_days = models.PositiveIntegerField(default=365)
    sections = models.JSONField(help_text='[{"heading": ..., "body": ...}, ...]')
    questions = models.JSONField(
        help_text='[{"text": ..., "choices": [...], "answer": index of the right choice}, ...]'
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    required_from = models.DateField(help_text="From this day the module is required of its roles.")
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.pk is not None:
            old = TrainingModule.objects.filter(pk=self.pk).values("sections", "questions").first()
            if old and (old["sections"], old["questions"]) != (self.sections, self.questions):
                self.version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        problems = engagement_rules.validate_module(self.content(), known_roles=Role.values)
        if problems:
            raise ValidationError(problems)

    def content(self) -> dict:
        return {
            "roles": self.roles,
            "validity_days": self.validity_days,
            "sections": self.sections,
            "questions": self.questions,
        }

    def role_labels(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(r, r)) for r in self.roles)


class TrainingCompletion(AppendOnlyModel):
    """One attempt at a module's knowledge check; a passed one counts until
    ``expires_on``. Never changed or deleted."""

    module = models.ForeignKey(TrainingModule, on_delete=models.PROTECT, related_name="completions")
    module_version = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_completions"
    )
    at = models.DateTimeField()
    passed = models.BooleanField()
    correct = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=list)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "module", "passed"], name="training_user_module")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passed=False, expires_on__isnull=True)
                | models.Q(passed=True, expires_on__isnull=False),
                name="trainingcompletion_pass_expires",
            ),
        ]

    def __str__(self) -> str:
        outcome = "passed" if self.passed else "did not pass"
        return f"{self.user} {outcome} {self.module} (v{self.module_version})"
