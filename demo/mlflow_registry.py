"""The demo's MLflow registry (issue 17): with ``MLFLOW_TRACKING_URI`` set, ``seed_demo``
creates a few registered models and versions in that MLflow server, through its REST
API (``mlflow_sync.client``, standard library only), then runs the product's sync once,
so the inventory, ``/mlflow/`` and the version pages show a synced registry.

What MLflow then holds, created once (a model found by its name is not created again,
and only the versions it lacks are added):

- three registered models tagged ``governance.use_case`` with a demo use case, each
  version a real MLflow run (parameters, metrics) whose artifacts are a pyfunc model
  (``MLmodel``, a logistic scorecard as JSON and the loader module that scores it);
- one registered model left untagged: the sync lists it as not imported, with the reason;
- the ``production`` alias set on a version nobody approved: the gate blocks it, so the
  sync's alias guard removes the alias and tags the version with the gate's reasons.

MLflow unreachable: one line says so and the demo goes on without it.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from mlflow_sync.client import MLflowClient, MLflowError
from mlflow_sync.models import SyncRun
from mlflow_sync.services import alias_check, registry_sync

EXPERIMENT = "governance-demo"
# A demo registry is created against a server that answers at once or not at all.
PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class RegistryModel:
    """One registered model of the demo registry: its versions' descriptions (one per
    version, oldest first) and the alias set on one of them when it is created."""

    name: str
    use_case: str  # a demo use case's exact name; "" leaves the model untagged
    description: str
    features: tuple[str, ...]
    versions: tuple[str, ...]
    alias: tuple[int, str] | None = None  # (index in versions, alias)


MODELS: tuple[RegistryModel, ...] = (
    RegistryModel(
        name="credit-application-scorecard",
        use_case="Retail credit application scoring",
        description="Logistic application scorecard trained in the credit-risk workspace.",
        features=("bureau_score", "debt_to_income", "months_at_address", "utilisation"),
        versions=(
            "Baseline fit on 2025 applications.",
            "Refit with the bureau's v3 score; candidate for production.",
        ),
        alias=(1, "production"),
    ),
    RegistryModel(
        name="card-fraud-realtime",
        use_case="Real-time card fraud detection",
        description="Transaction fraud score served by the card authorisation stream.",
        features=("amount_zscore", "merchant_risk", "velocity_1h", "foreign_terminal"),
        versions=("Weekly retrain, November.",),
    ),
    RegistryModel(
        name="churn-propensity",
        use_case="Customer churn prediction",
        description="Monthly churn propensity for the retention campaigns.",
        features=("tenure_months", "complaints_90d", "discount_ended", "usage_trend"),
        versions=("Q3 refresh.", "Q4 refresh with the usage-trend feature."),
    ),
    RegistryModel(
        name="ticket-router-sandbox",
        use_case="",
        description="A data scientist's experiment, not yet linked to a use case.",
        features=("subject_length", "customer_tier", "channel_email"),
        versions=("First try.",),
    ),
)

LOADER = '''"""Scores a logistic scorecard stored as JSON (the demo registry's pyfunc loader)."""

import json
import math


class Scorecard:
    def __init__(self, path):
        with open(path) as fh:
            self.card = json.load(fh)

    def predict(self, model_input, params=None):
        rows = model_input.to_dict("records")
        weights = self.card["coefficients"]
        scores = [
            self.card["intercept"] + sum(w * row[f] for f, w in weights.items()) for row in rows
        ]
        return [1 / (1 + math.exp(-score)) for score in scores]


def _load_pyfunc(path):
    return Scorecard(path)
'''


def _card(spec: RegistryModel, index: int) -> dict:
    rng = random.Random(f"{spec.name}:{index}")  # noqa: S311 - demo data, reproducible
    return {
        "intercept": round(rng.uniform(-2.5, -1.0), 4),
        "coefficients": {f: round(rng.uniform(-1.2, 1.2), 4) for f in spec.features},
    }


def _artifacts(spec: RegistryModel, index: int, run_id: str) -> dict[str, bytes]:
    mlmodel = (
        "artifact_path: model\n"
        "flavors:\n"
        "  python_function:\n"
        "    code: code\n"
        "    data: scorecard.json\n"
        "    env:\n"
        "      virtualenv: python_env.yaml\n"
        "    loader_module: scorecard\n"
        "    python_version: 3.12.1\n"
        f"run_id: {run_id}\n"
    )
    return {
        "MLmodel": mlmodel.encode(),
        "scorecard.json": json.dumps(_card(spec, index), indent=2, sort_keys=True).encode(),
        "code/scorecard.py": LOADER.encode(),
        "python_env.yaml": (
            b"python: 3.12.1\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"
        ),
        "requirements.txt": b"mlflow==3.17.2\npandas\n",
    }


def _metrics(spec: RegistryModel, index: int) -> list[dict]:
    rng = random.Random(f"{spec.name}:{index}:metrics")  # noqa: S311 - demo data
    auc = round(0.74 + 0.03 * index + rng.uniform(0, 0.04), 4)
    gini = round(2 * auc - 1, 4)
    return [
        {"key": "auc", "value": auc, "timestamp": 0, "step": 0},
        {"key": "gini", "value": gini, "timestamp": 0, "step": 0},
        {"key": "log_loss", "value": round(-math.log(auc) / 2, 4), "timestamp": 0, "step": 0},
    ]


def _experiment(client: MLflowClient) -> str:
    try:
        found = client.call(
            "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": EXPERIMENT}
        )
        return found["experiment"]["experiment_id"]
    except MLflowError as err:
        if "RESOURCE_DOES_NOT_EXIST" not in str(err):
            raise
    return client.call("/api/2.0/mlflow/experiments/create", body={"name": EXPERIMENT})[
        "experiment_id"
    ]


def _tags(tags: dict[str, str]) -> list[dict]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def _create_version(client: MLflowClient, experiment: str, spec: RegistryModel, index: int):
    """One run with its parameters, metrics and model files, then a version of it."""
    run = client.call(
        "/api/2.0/mlflow/runs/create",
        body={"experiment_id": experiment, "run_name": f"{spec.name}-fit-{index + 1}"},
    )["run"]["info"]
    params = [
        {"key": "features", "value": ",".join(spec.features)},
        {"key": "solver", "value": "lbfgs"},
    ]
    client.call(
        "/api/2.0/mlflow/runs/log-batch",
        body={"run_id": run["run_id"], "params": params, "metrics": _metrics(spec, index)},
    )
    model_uri = run["artifact_uri"] + "/model"
    for relative, content in _artifacts(spec, index, run["run_id"]).items():
        client.upload_artifact(model_uri, relative, content)
    client.call("/api/2.0/mlflow/runs/update", body={"run_id": run["run_id"], "status": "FINISHED"})
    return client.call(
        "/api/2.0/mlflow/model-versions/create",
        body={
            "name": spec.name,
            "source": model_uri,
            "run_id": run["run_id"],
            "description": spec.versions[index],
        },
    )["model_version"]["version"]


def populate(client: MLflowClient) -> tuple[int, int]:
    """Create in MLflow what the demo registry lacks; returns (models, versions) created.
    Raises ``MLflowError`` when MLflow cannot be reached or refuses a call."""
    experiment = _experiment(client)
    models = versions = 0
    tag = settings.MLFLOW_USE_CASE_TAG
    for spec in MODELS:
        quoted = spec.name.replace("'", "\\'")
        found = client.call(
            "/api/2.0/mlflow/registered-models/search", params={"filter": f"name='{quoted}'"}
        ).get("registered_models", [])
        if not found:
            client.call(
                "/api/2.0/mlflow/registered-models/create",
                body={
                    "name": spec.name,
                    "description": spec.description,
                    "tags": _tags({tag: spec.use_case} if spec.use_case else {}),
                },
            )
            models += 1
        existing = len(list(client.versions({"name": spec.name}))) if found else 0
        for index in range(existing, len(spec.versions)):
            number = _create_version(client, experiment, spec, index)
            versions += 1
            if spec.alias and spec.alias[0] == index:
                client.call(
                    "/api/2.0/mlflow/registered-models/alias",
                    body={"name": spec.name, "alias": spec.alias[1], "version": number},
                )
    return models, versions


def _guard_aliases(client: MLflowClient, by: User) -> list[str]:
    """The sync's alias guard on each demo alias still standing (as MLflow's
    ``model_version_alias.created`` webhook would have asked for it)."""
    done = []
    for spec in MODELS:
        if not spec.alias:
            continue
        alias = spec.alias[1]
        version = client.aliases(spec.name).get(alias)
        if version:
            outcome = alias_check(by=by, name=spec.name, alias=alias, version=version)
            done.append(f"{alias!r} on {spec.name} v{version}: {outcome}")
    return done


def load(*, by: User, say: Callable[[str], None]) -> SyncRun | None:
    """Fill the MLflow server ``MLFLOW_TRACKING_URI`` names with the demo registry and
    import it as ``by`` (a governance lead). Nothing without the setting; one line and
    nothing imported when MLflow cannot be reached. Returns the sync's run."""
    uri = settings.MLFLOW_TRACKING_URI
    if not uri:
        return None
    client = MLflowClient(
        uri,
        token=settings.MLFLOW_TRACKING_TOKEN,
        timeout=min(settings.MLFLOW_TIMEOUT_SECONDS, PROBE_TIMEOUT_SECONDS),
    )
    try:
        models, versions = populate(client)
        run = registry_sync(by=by, trigger=SyncRun.Trigger.COMMAND)
        guarded = _guard_aliases(client, by) if run.status == SyncRun.Status.DONE else []
    except (MLflowError, ValidationError, PermissionDenied) as err:
        text = "; ".join(err.messages) if isinstance(err, ValidationError) else str(err)
        say(f"MLflow registry not loaded ({text}); the demo goes on without it.")
        return None
    say(
        f"MLflow registry at {uri}: {models} models and {versions} versions created there; "
        f"sync {run.get_status_display()}: {run.imported} imported, {run.unchanged} "
        f"unchanged, {len(run.skipped)} not imported"
        + "".join(f"; alias {g}" for g in guarded)
        + (f". {run.message}" if run.message else "")
    )
    return run
