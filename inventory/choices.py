"""Choices of the inventory app."""

from django.db import models


class LifecycleStatus(models.TextChoices):
    IDEA = "idea", "Idea"
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    PRODUCTION = "production", "Production"
    RETIRED = "retired", "Retired"


class Environment(models.TextChoices):
    """Where a model version runs; moves between them come with sign-off workflows."""

    DEV = "dev", "Development"
    QA = "qa", "QA"
    PREPROD = "preprod", "Pre-production"
    PROD = "prod", "Production"
    RETIRED = "retired", "Retired"
