"""Step 3: responsibilities. The RACI catalogues, the organisation template and each
use case's own matrix with the people named for each role."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core import raci_rules


def validate_letters(value: str) -> None:
    try:
        if raci_rules.normalise_letters(value) != value:
            raise ValidationError("Write the letters in the order A, R, C, I (e.g. AR).")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class ResponsibilityLevel(models.TextChoices):
    """How far a role's responsibility reaches. Defaults (migration 0007): roles that
    own why a model exists and which risk is accepted (business stakeholders, risk /
    audit) are strategic; roles that plan and coordinate across projects (business
    analysts, production, resources admin / architect) are tactical; roles that do the
    day-to-day building and running (data scientists, data ops) are operational."""

    STRATEGIC = "strategic", "Strategic"
    TACTICAL = "tactical", "Tactical"
    OPERATIONAL = "operational", "Operational"


class RaciRole(models.Model):
    """A role of the RACI matrix (a column), e.g. risk / audit."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=12, choices=ResponsibilityLevel.choices)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "RACI role"

    def __str__(self) -> str:
        return self.name


class RaciTask(models.Model):
    """A task of the model life cycle (a row), e.g. model acceptance."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "RACI task"

    def __str__(self) -> str:
        return self.name


class RaciTemplateCell(models.Model):
    """One cell of the organisation's template matrix."""

    task = models.ForeignKey(RaciTask, on_delete=models.CASCADE, related_name="template_cells")
    role = models.ForeignKey(RaciRole, on_delete=models.CASCADE, related_name="template_cells")
    letters = models.CharField(max_length=4, validators=[validate_letters])

    class Meta:
        ordering = ["task__order", "role__order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "role"], name="racitemplatecell_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.task} / {self.role}: {self.letters}"


class UseCaseRaciCell(models.Model):
    """One cell of a use case's own matrix. A use case without cells follows the
    template; its first edit copies the template, then it diverges."""

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.CASCADE, related_name="raci_cells"
    )
    task = models.ForeignKey(RaciTask, on_delete=models.PROTECT, related_name="+")
    role = models.ForeignKey(RaciRole, on_delete=models.PROTECT, related_name="+")
    letters = models.CharField(max_length=4, blank=True, validators=[validate_letters])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["use_case", "task__order", "role__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["use_case", "task", "role"], name="usecaseracicell_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.use_case} / {self.task} / {self.role}: {self.letters}"


class RaciAssignment(models.Model):
    """Somebody named for a role on a use case: a person or a whole team."""

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.CASCADE, related_name="raci_assignments"
    )
    role = models.ForeignKey(RaciRole, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raci_assignments",
    )
    team = models.ForeignKey(
        "inventory.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["use_case", "role__order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="raciassignment_user_or_team",
                violation_error_message="Name either a person or a team.",
            ),
            models.UniqueConstraint(
                fields=["use_case", "role", "user"], name="raciassignment_unique_user"
            ),
            models.UniqueConstraint(
                fields=["use_case", "role", "team"], name="raciassignment_unique_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.use_case} / {self.role}: {self.user or self.team}"
