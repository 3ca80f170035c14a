"""Independent validation of a model version (issue 12; SR 11-7 effective challenge,
the PRA's independent model validation).

A ``Validation`` is recorded by a validator from outside the developing team (see
``reviews.selectors.validation.validator_refusal``), kept as a draft while its author
works on it, then signed with the meaning "validated" (a ``Signature``, password typed
again). Once signed it is append-only: ``save`` refuses to change it and ``delete``
refuses outright, and so do the queryset's bulk writes on signed rows. The findings it
raised become ``Finding`` rows (source "validation") when it is signed; each is resolved,
or its risk accepted until a date by the second line (``FindingAcceptance``).
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyError

SIGNED_ONLY_ADDS = "A signed validation is never changed or deleted: record a new validation."


class ValidationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(signed_at__isnull=False).exists():
            raise AppendOnlyError(SIGNED_ONLY_ADDS)
        return super().update(**kwargs)

    def delete(self):
        if self.filter(signed_at__isnull=False).exists():
            raise AppendOnlyError(SIGNED_ONLY_ADDS)
        return super().delete()

    delete.queryset_only = True


class Validation(models.Model):
    """One validator's independent validation of one model version: what was
    examined, what they found, their conclusion, and (once signed) their signature."""

    class Conclusion(models.TextChoices):
        APPROVE = "approve", "Approve"
        APPROVE_WITH_CONDITIONS = "approve_with_conditions", "Approve with conditions"
        REJECT = "reject", "Reject"

    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="validations"
    )
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="validations"
    )
    scope = models.TextField(help_text="What was validated, and what was not.")
    conceptual_soundness = models.TextField(
        help_text="Is the approach sound for the purpose: design, theory, assumptions."
    )
    data = models.TextField(help_text="The data: relevance, quality, representativeness, leaks.")
    outcomes_analysis = models.TextField(
        help_text="Back-testing, benchmarks, sensitivity: how the outputs compare with outcomes."
    )
    limitations = models.TextField(
        help_text="Known limitations and where the model must not be used."
    )
    conclusion = models.CharField(max_length=30, choices=Conclusion.choices)
    findings_raised = models.JSONField(
        default=list,
        blank=True,
        help_text='Findings to open when signed: [{"title", "detail"}]. Approve with '
        "conditions names its conditions here.",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)

    objects = ValidationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        state = "signed" if self.signed_at else "draft"
        return f"Validation #{self.pk} of {self.model_version} ({state})"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("signed_at", flat=True)
            if stored.first() is not None:
                raise AppendOnlyError(SIGNED_ONLY_ADDS)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.signed_at is not None or (
            self.pk and type(self).objects.filter(pk=self.pk, signed_at__isnull=False).exists()
        ):
            raise AppendOnlyError(SIGNED_ONLY_ADDS)
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def approves(self) -> bool:
        return self.conclusion in (
            self.Conclusion.APPROVE,
            self.Conclusion.APPROVE_WITH_CONDITIONS,
        )
