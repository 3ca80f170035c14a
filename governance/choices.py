"""Choices shared across apps: risk tiers, criticality levels, roles."""

from django.db import models


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


class Role(models.TextChoices):
    """The product's roles; each is a Django group created by a migration."""

    RISK_OFFICER = "risk-officer", "Risk officer"
    GOVERNANCE_LEAD = "governance-lead", "Governance lead"
    DATA_SCIENTIST = "data-scientist", "Data scientist"
    APPROVER = "approver", "Approver"
    AUDITOR = "auditor", "Auditor"
