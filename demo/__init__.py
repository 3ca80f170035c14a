"""The demo portfolio loaded by ``manage.py seed_demo``: fixed data only.

A fictional organisation with eight teams in several sectors (a bank's credit risk and
fraud teams, insurance pricing, pharma R&D under GxP, marketing under GDPR, HR under the
EU AI Act, operations and customer service). Every use case carries the Step 1 answers
its owners would give and the criticality level and risk tier the default rules should
give it, so the demo doubles as an end-to-end check of the rules engine. People are
named by their role, not after real persons. Numbers that look measured (metrics) come
from a ``random.Random`` seeded with the version's identity, and SHA-256s are hashes of
fixed strings, so every run produces the same portfolio.

- ``specs``: the shapes of the data and the generated values;
- ``organisation``: people, teams, datasets;
- ``finance`` and ``enterprise``: the use cases with their models and versions.
"""

from demo.enterprise import ENTERPRISE_USE_CASES
from demo.finance import FINANCE_USE_CASES
from demo.organisation import DATASETS, PEOPLE, TEAMS
from demo.specs import (
    DEMO_PASSWORD,
    EMAIL_DOMAIN,
    DatasetSpec,
    ModelSpec,
    Person,
    Reclassification,
    UseCaseSpec,
    answers,
    artifact_sha256,
    artifact_uri,
    training_data_ref,
    version_metrics,
)

USE_CASES: tuple[UseCaseSpec, ...] = FINANCE_USE_CASES + ENTERPRISE_USE_CASES

__all__ = [
    "DATASETS",
    "DEMO_PASSWORD",
    "EMAIL_DOMAIN",
    "PEOPLE",
    "TEAMS",
    "USE_CASES",
    "DatasetSpec",
    "ModelSpec",
    "Person",
    "Reclassification",
    "UseCaseSpec",
    "answers",
    "artifact_sha256",
    "artifact_uri",
    "training_data_ref",
    "version_metrics",
]
