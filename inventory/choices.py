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


class RiskTier(models.IntegerChoices):
    """How much governance a use case needs (drives the policy matrix)."""

    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    CRITICAL = 4, "Critical"


class Criticality(models.IntegerChoices):
    """Project criticality, as in the book's Figure 8-1."""

    AD_HOC = 1, "1 - Irregular, ad-hoc usage"
    SCHEDULED = 2, "2 - Scheduled, may be down briefly"
    MONITORED = 3, "3 - Scheduled, needs specific monitoring"
    OPERATIONAL = 4, "4 - Operational, cannot suffer outages"


OPERATIONALISATION = {
    Criticality.AD_HOC: "Self-service analytics run on the design node",
    Criticality.SCHEDULED: "Self-service development and scheduling",
    Criticality.MONITORED: "Light deployment process with rough QA and scheduling",
    Criticality.OPERATIONAL: "Fully controlled CI/CD deployment",
}
