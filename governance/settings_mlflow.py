"""The MLflow model registry sync (issue 17), read from the environment
(``governance.settings`` has loaded ``.env`` before importing this module). Every
variable is in ``.env.example``; the set-up is in the README ("MLflow registry sync")."""

import environ

env = environ.Env()

# The MLflow tracking server (its REST API; blank: the sync is off). Its artifacts are
# read through the server's artifact proxy (mlflow-artifacts:/ URIs, `mlflow server
# --serve-artifacts`, the default), so the product needs no store credentials.
MLFLOW_TRACKING_URI = env.str("MLFLOW_TRACKING_URI", default="").rstrip("/")
# A token sent as "Authorization: Bearer ..." when the server asks for one (blank: none).
MLFLOW_TRACKING_TOKEN = env.str("MLFLOW_TRACKING_TOKEN", default="")
# The account the scheduled and webhook-driven syncs register versions as (a governance
# lead or a data scientist of the teams concerned): every inventory control applies to it.
MLFLOW_SYNC_USERNAME = env.str("MLFLOW_SYNC_USERNAME", default="")
# The tag (on the registered model or on the version; the version's wins) naming the use
# case a model serves, by its id or its exact name. Untagged models are listed, not imported.
MLFLOW_USE_CASE_TAG = env.str("MLFLOW_USE_CASE_TAG", default="governance.use_case")
# Seconds of one REST call before the sync gives up for this run (retried by beat).
MLFLOW_TIMEOUT_SECONDS = env.int("MLFLOW_TIMEOUT_SECONDS", default=30)
# Beat imports the whole registry this often (0: never; webhooks and the button remain);
# it looks every minute whether a pass is due.
MLFLOW_SYNC_SECONDS = env.int("MLFLOW_SYNC_SECONDS", default=15 * 60)
# Webhooks: the secret MLflow signs deliveries with (blank: the endpoint refuses them
# all), and how old a delivery's timestamp may be.
MLFLOW_WEBHOOK_SECRET = env.str("MLFLOW_WEBHOOK_SECRET", default="")
MLFLOW_WEBHOOK_MAX_AGE_SECONDS = env.int("MLFLOW_WEBHOOK_MAX_AGE_SECONDS", default=300)
# Write the governance state back as tags on each imported MLflow version (governance.*:
# risk tier, environment, the gate's answer per guarded alias, the version page's link).
MLFLOW_WRITE_BACK = env.bool("MLFLOW_WRITE_BACK", default=True)
# Aliases the gate guards, as alias=environment pairs: an alias set on a version the gate
# blocks for that environment is removed (MLFLOW_ALIAS_REVERT) and the version tagged
# with the gate's reasons. Blank: no alias is guarded.
MLFLOW_ALIAS_ENVIRONMENTS = env.dict("MLFLOW_ALIAS_ENVIRONMENTS", default={"production": "prod"})
MLFLOW_ALIAS_REVERT = env.bool("MLFLOW_ALIAS_REVERT", default=True)
