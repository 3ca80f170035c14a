"""Drives a real MLflow server through the MLflow client, for the registry sync tests.
Runs in MLflow's own venv (``.venv-mlflow``), never imported by the product:

    .venv-mlflow/bin/python tests/mlflow_sync/mlflow_runner.py URI STEPS_JSON

STEPS_JSON is a list of [command, arguments] pairs, run in order in one process (MLflow
takes seconds to import); the answers, one JSON object per step, are printed as a JSON
list on stdout's last line. Commands:
- ``register``: {"name", "model_tags", "version_tags", "description", "model_description",
  "payload"}: logs a pyfunc model whose pickled state holds ``payload`` (so its artifacts
  are real files MLflow wrote) in a new run, registers it as a new version of ``name``
  (created with ``model_tags`` if absent); answers {"version", "run_id", "source"}.
- ``set_version``: {"name", "version", "description"?, "tags"?}: updates a version.
- ``set_model_tag``: {"name", "tags"}: sets tags on the registered model.
- ``webhook``: {"name", "url", "secret", "events"}: creates a webhook; answers {"id"}.
- ``set_alias``: {"name", "version", "alias"}; ``get``: {"name", "version"}: the version's
  tags and aliases.
"""

import json
import sys

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient


class Constant(mlflow.pyfunc.PythonModel):
    """A model that answers a constant: enough for real artifacts."""

    def __init__(self, payload):
        self.payload = payload

    def predict(self, context, model_input, params=None):
        return [self.payload] * len(model_input)


def register(client, args):
    name = args["name"]
    if not client.search_registered_models(filter_string=f"name='{name}'"):
        client.create_registered_model(
            name, tags=args.get("model_tags") or {}, description=args.get("model_description", "")
        )
    mlflow.set_experiment("governance-sync-tests")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(args.get("payload", "x")), pip_requirements=[]
        )
    version = client.create_model_version(
        name,
        source=info.model_uri,
        run_id=run.info.run_id,
        tags=args.get("version_tags") or {},
        description=args.get("description", ""),
        model_id=info.model_id,
    )
    return {"version": version.version, "run_id": run.info.run_id, "source": version.source}


def set_version(client, args):
    if "description" in args:
        client.update_model_version(args["name"], args["version"], args["description"])
    for key, value in (args.get("tags") or {}).items():
        client.set_model_version_tag(args["name"], args["version"], key, value)
    return {}


def set_model_tag(client, args):
    for key, value in args["tags"].items():
        client.set_registered_model_tag(args["name"], key, value)
    return {}


def webhook(client, args):
    hook = client.create_webhook(
        name="governance", url=args["url"], events=args["events"], secret=args["secret"]
    )
    return {"id": hook.webhook_id}


def set_alias(client, args):
    client.set_registered_model_alias(args["name"], args["alias"], args["version"])
    return {}


def get(client, args):
    version = client.get_model_version(args["name"], args["version"])
    return {"tags": version.tags, "aliases": list(version.aliases)}


def main():
    uri, steps = sys.argv[1], json.loads(sys.argv[2])
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    commands = {
        f.__name__: f for f in (register, set_version, set_model_tag, webhook, set_alias, get)
    }
    answers = [commands[command](client, args) for command, args in steps]
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
