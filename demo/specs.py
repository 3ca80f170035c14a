"""Shapes of the demo data, the Step 1 answers helper and the generated values
(metrics, SHA-256s, URIs). Pure Python: no Django imports."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

DEMO_PASSWORD = "governance-demo"  # noqa: S105 - documented shared password of the demo users
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[str, ...] = ()
    is_staff: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    team: str
    owner: str
    source: str
    provenance: str
    description: str
    # (name, data type, is PII, lineage notes)
    columns: tuple[tuple[str, str, bool, str], ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    framework: str
    metric_kind: str
    training_dataset: str | None
    versions: tuple[str, ...]
    artifact_ext: str = "pkl"


@dataclass(frozen=True)
class Reclassification:
    by: str
    note: str
    answers: dict
    expected: tuple[int, int]  # (criticality level, risk tier)


@dataclass(frozen=True)
class UseCaseSpec:
    name: str
    team: str
    status: str
    purpose: str
    restrictions: str
    business_owner: str
    technical_owner: str
    regulations: tuple[str, ...]
    uses_pii: bool
    datasets: tuple[str, ...]
    answers: dict | None  # None: not classified yet (an idea)
    expected: tuple[int, int] | None  # (criticality level, risk tier) the rules should give
    models: tuple[ModelSpec, ...] = ()
    note: str = ""
    reclassification: Reclassification | None = None
    extra_authors: tuple[str, ...] = field(default=())


def answers(
    *,
    audience: str = "internal_team",
    availability: str = "adhoc",
    error_impact: tuple[str, ...] = (),
    release_cadence: str = "rarely",
    model_lifetime: str = "one_off",
    impact_lifetime: str = "immediate",
    decay_rate: str = "slow",
    explainability: str = "none",
    annex_iii: tuple[str, ...] = (),
    sector_purpose: tuple[str, ...] = (),
) -> dict:
    """Step 1 answers; the defaults describe a low-risk, ad-hoc analysis."""
    return {
        "audience": audience,
        "availability": availability,
        "error_impact": list(error_impact),
        "release_cadence": release_cadence,
        "model_lifetime": model_lifetime,
        "impact_lifetime": impact_lifetime,
        "decay_rate": decay_rate,
        "explainability": explainability,
        # The EU AI Act screen: no demo use case does a prohibited practice.
        "eu_ai_act_prohibited": [],
        "eu_ai_act_annex_iii": list(annex_iii),
        # Step 1's sector and purpose: the regulations they imply are added (issue 12).
        "sector_purpose": list(sector_purpose),
    }


def model(name, description, framework, kind, dataset, *versions, ext="pkl") -> ModelSpec:
    """A model of a use case: ``kind`` picks its metrics, ``versions`` are its labels in
    the order they were registered, ``dataset`` names its training dataset."""
    return ModelSpec(name, description, framework, kind, dataset, tuple(versions), ext)


# --- Generated values --------------------------------------------------------------

# metric -> (low, high, step per later version; sign gives the better direction)
METRIC_KINDS: dict[str, dict[str, tuple[float, float, float]]] = {
    "binary": {
        "auc": (0.74, 0.86, 0.006),
        "precision": (0.42, 0.71, 0.01),
        "recall": (0.51, 0.78, 0.01),
        "brier": (0.06, 0.12, -0.002),
    },
    "calibration": {
        "concordance": (0.68, 0.79, 0.005),
        "calibration_error": (0.004, 0.02, -0.001),
    },
    "regression": {"rmse": (0.8, 1.6, -0.05), "mae": (0.5, 1.1, -0.03), "r2": (0.55, 0.8, 0.02)},
    "forecast": {
        "mape": (0.09, 0.21, -0.008),
        "wape": (0.08, 0.18, -0.006),
        "bias": (-0.03, 0.03, 0),
    },
    "ranking": {"ndcg_at_10": (0.31, 0.52, 0.015), "precision_at_10": (0.2, 0.4, 0.01)},
    "multiclass": {"accuracy": (0.78, 0.9, 0.01), "macro_f1": (0.7, 0.84, 0.012)},
    "clustering": {"silhouette": (0.18, 0.41, 0.02)},
    "uplift": {"qini": (0.02, 0.07, 0), "uplift_pct": (0.8, 2.4, 0)},
    "glm": {"deviance_explained": (0.06, 0.14, 0.004), "gini": (0.28, 0.41, 0.01)},
}


def version_metrics(model: str, kind: str, index: int) -> dict[str, float]:
    """Plausible metrics for the ``index``-th version of a model: a fixed draw per model,
    slightly better with each later version."""
    rng = random.Random(f"{model}/{kind}")  # noqa: S311 - demo numbers, not security
    return {
        name: round(rng.uniform(low, high) + step * index, 4)
        for name, (low, high, step) in METRIC_KINDS[kind].items()
    }


def artifact_sha256(team: str, model: str, label: str) -> str:
    """A fixed SHA-256 per version (the hash of a fixed string stands in for the file)."""
    return hashlib.sha256(f"demo-artifact:{team}/{model}/{label}".encode()).hexdigest()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def artifact_uri(team: str, model: str, label: str, ext: str) -> str:
    return f"s3://ml-artifacts/{team}/{slugify(model)}/{label}/model.{ext}"


def training_data_ref(dataset: str | None, label: str) -> str:
    return f"snapshot://{slugify(dataset)}@{label}" if dataset else ""
