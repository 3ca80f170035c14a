"""Step 2, the ethical position: versioned questionnaire templates, the answer sets
given to them (the organisation's position and each use case's answers) and the
approvals of the organisation's position.

Published versions are immutable (their questions and options cannot be changed or
deleted); answer sets and approvals are append-only decision records.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from audit.append_only import AppendOnlyModel
from core import ethics_rules


class EthicsTemplate(models.Model):
    """A questionnaire of Step 2: the organisation's ethical position, or the ethical
    questions asked of every use case. One template per scope; its content lives in
    versions."""

    class Scope(models.TextChoices):
        ORGANISATION = "organisation", "Organisation-wide position"
        USE_CASE = "use_case", "Per use case"

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=20, choices=Scope.choices, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["scope"]
        verbose_name = "ethics questionnaire"

    def __str__(self) -> str:
        return self.name


class EthicsTemplateVersion(models.Model):
    """One version of a questionnaire. A draft is edited; once published it never
    changes again (a new version starts as a copy of the current one). The current
    version is the latest published one; older published versions are superseded."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    template = models.ForeignKey(EthicsTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=500, blank=True, help_text="What changed and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        verbose_name = "ethics questionnaire version"
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="ethicsversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=models.Q(status="draft"),
                name="ethicsversion_one_draft",
                violation_error_message="This questionnaire already has a draft version.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="ethicsversion_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise ValidationError("A published questionnaire version cannot be deleted.")
        return super().delete(*args, **kwargs)


def _check_editable(version: EthicsTemplateVersion) -> None:
    if version.is_published:
        raise ValidationError(
            f"{version} is published and cannot be changed; create a new version instead."
        )


class EthicsQuestion(models.Model):
    """One question of a questionnaire version, identified across versions by its code
    (answers and comparisons match questions by code)."""

    class Kind(models.TextChoices):
        SINGLE = ethics_rules.SINGLE, "Single choice"
        MULTI = ethics_rules.MULTI, "Multiple choice"
        SCALE = ethics_rules.SCALE, "Scale"
        TEXT = ethics_rules.TEXT, "Free text"

    version = models.ForeignKey(
        EthicsTemplateVersion, on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(max_length=50)
    text = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    required = models.BooleanField(
        default=True, help_text="Multiple-choice questions accept an empty answer ('none')."
    )
    order = models.PositiveIntegerField(default=0)
    scale_min = models.SmallIntegerField(null=True, blank=True)
    scale_max = models.SmallIntegerField(null=True, blank=True)
    scale_min_label = models.CharField(max_length=120, blank=True)
    scale_max_label = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["version", "order", "id"]
        verbose_name = "ethics question"
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="ethicsquestion_unique_code"),
        ]

    def __str__(self) -> str:
        return self.text

    def save(self, *args, **kwargs):
        _check_editable(self.version)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _check_editable(self.version)
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.kind == self.Kind.SCALE:
            if self.scale_min is None or self.scale_max is None:
                raise ValidationError({"scale_max": "A scale needs a lowest and a highest value."})
            if self.scale_min >= self.scale_max:
                raise ValidationError({"scale_max": "The highest value must exceed the lowest."})
        elif self.scale_min is not None or self.scale_max is not None:
            raise ValidationError({"scale_min": "Only scale questions take a range."})


class EthicsQuestionOption(models.Model):
    """One possible answer of a single- or multiple-choice ethics question. Its code
    is stable across versions (e.g. the aspect codes ``bias``, ``privacy``)."""

    question = models.ForeignKey(EthicsQuestion, on_delete=models.CASCADE, related_name="options")
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name = "ethics question option"
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="ethicsoption_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        _check_editable(self.question.version)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _check_editable(self.question.version)
        return super().delete(*args, **kwargs)


class EthicsAnswerSet(AppendOnlyModel):
    """One complete set of answers to a questionnaire version: the organisation's
    position (no use case) or one use case's answers. Append-only: answering again adds
    a set; the latest set counts (for the organisation: the latest approved one)."""

    version = models.ForeignKey(
        EthicsTemplateVersion, on_delete=models.PROTECT, related_name="answer_sets"
    )
    use_case = models.ForeignKey(
        "inventory.UseCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ethics_answer_sets",
        help_text="Empty for the organisation-wide position.",
    )
    answers = models.JSONField(help_text="Answers by question code, as submitted.")
    note = models.CharField(max_length=500, blank=True)
    tolerance = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Organisation position only: how many points a use case's scale answer "
        "may fall below the position before it is a deviation.",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-id"]
        get_latest_by = ["answered_at", "id"]
        verbose_name = "ethics answer set"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(use_case__isnull=True) | models.Q(tolerance__isnull=True),
                name="ethicsanswerset_tolerance_org_only",
                violation_error_message="Only the organisation's position has a tolerance.",
            ),
        ]
        indexes = [models.Index(fields=["use_case", "-answered_at"])]

    def __str__(self) -> str:
        subject = self.use_case or "Organisation position"
        return f"{subject} ({self.answered_at:%Y-%m-%d %H:%M})"


class EthicsApproval(AppendOnlyModel):
    """The approval of an organisation position by a governance lead: the act that
    makes an answer set the organisation's position. Never edited or deleted."""

    answer_set = models.OneToOneField(
        EthicsAnswerSet, on_delete=models.PROTECT, related_name="approval"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        get_latest_by = ["approved_at", "id"]
        verbose_name = "ethics position approval"

    def __str__(self) -> str:
        return f"Approval of {self.answer_set} by {self.approved_by}"


class EthicsDeviation(models.Model):
    """One way a use case's ethics answers fall short of the organisation's approved
    position (``core.ethics_rules.deviations``): a scale answer below the position by
    more than its tolerance, or a prohibited harm declared. Owned by the Accountable
    of model acceptance. Opened by the answer set that showed it; closed, never
    deleted, by a later answer set (or position) within tolerance. Every change is in
    the audit trail."""

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.PROTECT, related_name="ethics_deviations"
    )
    code = models.CharField(
        max_length=120, help_text="e.g. 'transparency' or 'psychology:manipulation'."
    )
    kind = models.CharField(
        max_length=20, choices=[(k, k.replace("_", " ")) for k in ethics_rules.DEVIATION_KINDS]
    )
    message = models.CharField(max_length=500)
    position_value = models.JSONField(null=True, blank=True)
    use_case_value = models.JSONField(null=True, blank=True)
    opened_by_answers = models.ForeignKey(
        EthicsAnswerSet, on_delete=models.PROTECT, related_name="deviations_opened"
    )
    position = models.ForeignKey(EthicsAnswerSet, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ethics_deviations",
        help_text="The RACI Accountable of model acceptance when it was opened.",
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_answers = models.ForeignKey(
        EthicsAnswerSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["use_case", "-opened_at", "-id"]
        verbose_name = "ethics deviation"
        constraints = [
            models.UniqueConstraint(
                fields=["use_case", "code"],
                condition=models.Q(closed_at__isnull=True),
                name="ethicsdeviation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.use_case}: {self.message}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class EthicsDeviationAcceptance(AppendOnlyModel):
    """The Accountable of model acceptance judges one open deviation acceptable, for a
    time (issue 12, item 5: the ethical position is applied). A signed act (the
    password typed again), append-only. It covers that deviation row only: answering
    differently closes the row and opens a new one, which needs its own judgement. A
    declared prohibited harm cannot be accepted. Until accepted, an open deviation
    stops moves past QA."""

    deviation = models.ForeignKey(
        EthicsDeviation, on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=40, default="ethics deviation accepted")
    reason = models.CharField(max_length=2000)
    accepted_at = models.DateTimeField()
    expires_on = models.DateField(help_text="After this day the deviation blocks again.")

    class Meta:
        ordering = ["-accepted_at", "-id"]
        get_latest_by = ["accepted_at", "id"]
        verbose_name = "ethics deviation acceptance"

    def __str__(self) -> str:
        return f"{self.deviation.code} accepted by {self.printed_name} until {self.expires_on}"
