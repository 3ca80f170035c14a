"""The governance framework: regulations, the Step 1 questionnaire, its rules, and
every classification ever made."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from audit.append_only import AppendOnlyModel
from core import risk_engine
from inventory.choices import Criticality, RiskTier


class RiskQuestion(models.Model):
    """One question of the Step 1 classification questionnaire."""

    class Kind(models.TextChoices):
        SINGLE = risk_engine.SINGLE, "Single choice"
        MULTI = risk_engine.MULTI, "Multiple choice"
        BOOLEAN = risk_engine.BOOLEAN, "Yes / no"

    class Source(models.TextChoices):
        ANSWER = "answer", "Answered in the questionnaire"
        REGULATIONS = "use_case.regulations", "The use case's regulations"
        USES_PII = "use_case.uses_pii", "Whether the use case uses PII"
        # Step 2: aspects the approved organisation position marks critical that the
        # use case's latest ethics answers touch (governance.selectors.ethics).
        CRITICAL_ASPECTS = "use_case.critical_aspects", "Critical ethical aspects it touches"

    class Dimension(models.TextChoices):
        REGULATION = "regulation", "Regulation and data"
        AUDIENCE = "audience", "Audience"
        AVAILABILITY = "availability", "Availability"
        IMPACT = "impact", "Impact of outcomes"
        LIFETIME = "lifetime", "Lifetime of model and outcomes"
        CHANGE = "change", "Change and decay"
        TRANSPARENCY = "transparency", "Explainability"
        ETHICS = "ethics", "Ethical position"

    code = models.SlugField(max_length=50, unique=True)
    text = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(
        max_length=30,
        choices=Source.choices,
        default=Source.ANSWER,
        help_text="Answered questions are asked; the others are read from the use case.",
    )
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    required = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if self.source == self.Source.REGULATIONS and self.kind != self.Kind.MULTI:
            raise ValidationError({"kind": "The regulations question must be multiple choice."})
        if self.source == self.Source.USES_PII and self.kind != self.Kind.BOOLEAN:
            raise ValidationError({"kind": "The PII question must be yes / no."})
        if self.source == self.Source.CRITICAL_ASPECTS and self.kind != self.Kind.MULTI:
            raise ValidationError(
                {"kind": "The critical-aspects question must be multiple choice."}
            )


class RiskQuestionOption(models.Model):
    """One possible answer to a single- or multiple-choice question."""

    question = models.ForeignKey(RiskQuestion, on_delete=models.CASCADE, related_name="options")
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="riskoption_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label


class RiskRule(models.Model):
    """A classification rule: when all its conditions hold, the use case's criticality
    level and/or risk tier is raised to at least this rule's floor."""

    name = models.CharField(max_length=200)
    explanation = models.TextField(help_text="Shown to users as the reason for the raise.")
    min_criticality = models.PositiveSmallIntegerField(
        choices=Criticality.choices, null=True, blank=True
    )
    min_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, null=True, blank=True)
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_criticality__isnull=False)
                | models.Q(min_tier__isnull=False),
                name="riskrule_has_effect",
                violation_error_message=(
                    "A rule must raise the criticality level, the tier, or both."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RiskRuleCondition(models.Model):
    """One condition of a rule, on one question's answer."""

    class Operator(models.TextChoices):
        EQUALS = risk_engine.EQUALS, "is"
        ANY_OF = risk_engine.ANY_OF, "is any of"
        INCLUDES_ANY = risk_engine.INCLUDES_ANY, "includes any of"
        INCLUDES_ALL = risk_engine.INCLUDES_ALL, "includes all of"
        IS_TRUE = risk_engine.IS_TRUE, "is yes"
        IS_FALSE = risk_engine.IS_FALSE, "is no"

    rule = models.ForeignKey(RiskRule, on_delete=models.CASCADE, related_name="conditions")
    question = models.ForeignKey(RiskQuestion, on_delete=models.PROTECT, related_name="+")
    operator = models.CharField(max_length=20, choices=Operator.choices)
    values = models.JSONField(
        default=list, blank=True, help_text='Option codes, e.g. ["public", "customers"].'
    )

    class Meta:
        ordering = ["rule", "id"]

    def __str__(self) -> str:
        return f"{self.question.code} {self.get_operator_display()} {', '.join(self.values)}"

    def clean(self) -> None:
        # Imported here: selectors read models, models must not import selectors at load.
        from governance.selectors import risk_question_as_engine

        if not isinstance(self.values, list) or not all(isinstance(v, str) for v in self.values):
            raise ValidationError({"values": 'Give a list of option codes, e.g. ["public"].'})
        if self.question_id is None:
            return
        errors = risk_engine.validate_condition(
            risk_engine.Condition(self.question.code, self.operator, tuple(self.values)),
            risk_question_as_engine(self.question),
        )
        if errors:
            raise ValidationError({"values": errors})


class Classification(AppendOnlyModel):
    """One (re)classification of a use case. Append-only: a new answer set or a rule
    change adds a row; rows are never edited or deleted."""

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.PROTECT, related_name="classifications"
    )
    answers = models.JSONField(help_text="Answers by question code, as submitted.")
    criticality = models.PositiveSmallIntegerField(choices=Criticality.choices)
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    previous_criticality = models.PositiveSmallIntegerField(
        choices=Criticality.choices, null=True, blank=True
    )
    previous_risk_tier = models.PositiveSmallIntegerField(
        choices=RiskTier.choices, null=True, blank=True
    )
    reasons = models.JSONField(
        blank=True, help_text="The rules that matched and the answers that did it."
    )
    rules_fingerprint = models.CharField(max_length=64)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty only for the scheduled re-evaluation after a rule change.",
    )
    classified_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-classified_at", "-id"]
        get_latest_by = ["classified_at", "id"]
        indexes = [
            models.Index(fields=["use_case", "-classified_at"]),
            # The home page's latest classifications (issue 18).
            models.Index(fields=["-classified_at", "-id"], name="classification_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.use_case} -> level {self.criticality}, {self.get_risk_tier_display()}"

    @property
    def changed(self) -> bool:
        return (self.previous_criticality, self.previous_risk_tier) != (
            self.criticality,
            self.risk_tier,
        )


class ClassificationConfirmation(AppendOnlyModel):
    """A risk officer's signed confirmation of one High or Critical classification
    (issue 12, item 4): the second line agrees with the class the answers gave. Signed
    with the password typed again, like the sign-offs; append-only. It stops counting
    once anyone re-classifies the use case (only the system's re-evaluation after a
    rule change that leaves the answers and the tier as they were keeps it)."""

    classification = models.ForeignKey(
        Classification, on_delete=models.PROTECT, related_name="confirmations"
    )
    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.PROTECT, related_name="classification_confirmations"
    )
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_name = models.CharField(max_length=200)
    confirmed_at = models.DateTimeField()
    meaning = models.CharField(max_length=40, default="classification confirmed")
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        get_latest_by = ["confirmed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["classification"], name="classificationconfirmation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.use_case}: {self.get_risk_tier_display()} confirmed by {self.printed_name}"
