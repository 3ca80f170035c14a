"""The governance state written back to MLflow (issue 17).

- Every imported version carries ``governance.*`` tags: the use case's risk tier, the
  environment the version runs in, the gate's answer for each environment a guarded alias
  stands for (``governance.gate.<environment>``: allowed / blocked), and the link to its
  page here. Only tags whose value changed are written, so a pass changes nothing when
  nothing changed.
- A guarded alias (``MLFLOW_ALIAS_ENVIRONMENTS``, e.g. ``production`` -> prod) set on a
  version asks the gate (a logged gate call). Blocked, the version is tagged with the
  gate's reasons (``governance.gate.reasons``) and, with ``MLFLOW_ALIAS_REVERT``, the alias
  is removed if it still points at that version; the removal is audited. A version the
  inventory does not hold is blocked too: the gate fails closed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from audit.services import audit_record
from inventory.models import ModelVersion
from mlflow_sync.client import MLflowClient, MLflowError, RegistryVersion
from mlflow_sync.models import RegistryVersionLink, SyncRun
from reviews.selectors.gate import gate_decision
from reviews.services.gate import gate_check

REASONS_TAG = "governance.gate.reasons"
TAG_VALUE_MAX = 4000


def governance_tags(version: ModelVersion) -> dict[str, str]:
    """The tags that say where ``version`` stands here."""
    use_case = version.model.use_case
    tags = {
        # The tier's name ("High"): MLflow takes strings only, and a number means little.
        "governance.risk_tier": use_case.get_risk_tier_display()
        if use_case.risk_tier
        else "unclassified",
        "governance.environment": version.environment,
        "governance.url": settings.SITE_URL + reverse("reviews:version", args=[version.pk]),
    }
    for environment in sorted(set(settings.MLFLOW_ALIAS_ENVIRONMENTS.values())):
        allowed = gate_decision(version, environment).allowed
        tags[f"governance.gate.{environment}"] = "allowed" if allowed else "blocked"
    return tags


def write_back(v: RegistryVersion, client: MLflowClient, run: SyncRun) -> None:
    """Set the governance tags of an imported version that differ from MLflow's."""
    link = (
        RegistryVersionLink.objects.filter(registered_model=v.name, mlflow_version=v.version)
        .select_related("version__model__use_case")
        .first()
    )
    if link is None:
        return
    try:
        for key, value in governance_tags(link.version).items():
            if v.tags.get(key) != value:
                client.set_version_tag(v.name, v.version, key, value)
    except MLflowError as err:
        reason = f"governance tags not written back: {err}"
        run.skipped.append({"model": v.name, "version": v.version, "reason": reason})


def alias_guard(*, by: User, client: MLflowClient, name: str, alias: str, version: str) -> str:
    """Ask the gate about a guarded alias just set; returns "unguarded", "allowed",
    "blocked" (tagged, left) or "reverted" (tagged, alias removed)."""
    environment = settings.MLFLOW_ALIAS_ENVIRONMENTS.get(alias)
    if not environment:
        return "unguarded"
    link = RegistryVersionLink.objects.filter(registered_model=name, mlflow_version=version).first()
    payload = {"source": "mlflow-alias", "model": name, "version": version, "alias": alias}
    if link is None:
        reasons = [
            {
                "code": "not-in-inventory",
                "message": "This MLflow version is not in the inventory (see /mlflow/).",
            }
        ]
    else:
        decision, _ = gate_check(
            by=by,
            version_id=link.version_id,
            artifact_sha256=None,
            environment=environment,
            payload=payload,
        )
        if decision.allowed:
            return "allowed"
        reasons = decision.reasons
    text = "; ".join(f"{r['code']}: {r['message']}" for r in reasons)[:TAG_VALUE_MAX]
    client.set_version_tag(name, version, REASONS_TAG, text)
    if not settings.MLFLOW_ALIAS_REVERT or client.aliases(name).get(alias) != version:
        return "blocked"
    client.delete_alias(name, alias)
    audit_record(
        action="mlflow_alias_reverted",
        obj=link.version if link else None,
        object_type=None if link else "mlflow_sync.registryversionlink",
        object_id=None if link else f"{name}/{version}",
        object_repr=None if link else f"MLflow {name} v{version}",
        reason=f"Alias {alias!r} removed: the gate blocks {environment}. {text}",
        actor=by,
        context=payload,
    )
    return "reverted"
