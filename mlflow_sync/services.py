"""Writes of the MLflow registry sync (issue 17). Versions are registered through the
inventory's own services (``ml_model_create``, ``model_version_register``) as the user
the sync runs as, so every control of a hand registration applies (the team's rights,
an artifact once registered never changes, an artifact belongs to one model) and every
row is audited as usual.

The mapping rule: a registered model (or one of its versions; the version's tag wins)
names the use case it serves in the tag ``MLFLOW_USE_CASE_TAG`` (``governance.use_case``),
by the use case's id or its exact name. An untagged model, or one naming no use case,
is listed on the run (``SyncRun.skipped``) and not imported. The inventory model is the
registered model's name under that use case; the version label is MLflow's version
number; the artifact SHA-256 is the digest of the version's artifact files
(``client.MLflowClient.artifact_digest``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import is_governance_lead
from audit.services import audit_context, audit_record
from inventory.models import MLModel, UseCase
from inventory.services import ml_model_create, model_version_register
from mlflow_sync.client import MLflowClient, MLflowError, RegistryVersion
from mlflow_sync.models import RegistryVersionLink, SyncRun, UseCaseConflict
from mlflow_sync.writeback import alias_guard, write_back

logger = logging.getLogger(__name__)

# Tags the product itself writes back under this prefix are not MLflow's facts.
OWN_PREFIX = "governance."
LINK_FIELDS = ("source", "run_id", "description", "tags")


def client_from_settings() -> MLflowClient:
    """The client of the configured server; ValidationError when none is."""
    if not settings.MLFLOW_TRACKING_URI:
        raise ValidationError("MLflow is not configured: set MLFLOW_TRACKING_URI.")
    return MLflowClient(
        settings.MLFLOW_TRACKING_URI,
        token=settings.MLFLOW_TRACKING_TOKEN,
        timeout=settings.MLFLOW_TIMEOUT_SECONDS,
    )


def sync_user() -> User:
    """The account scheduled and webhook syncs run as (``MLFLOW_SYNC_USERNAME``)."""
    name = settings.MLFLOW_SYNC_USERNAME
    user = get_user_model().objects.filter(username=name, is_active=True).first() if name else None
    if user is None:
        raise ValidationError(
            "The sync has no account: set MLFLOW_SYNC_USERNAME to an active user "
            "(a governance lead, or a data scientist of the teams concerned)."
        )
    return user


def _facts(v: RegistryVersion) -> dict:
    tags = {
        k: val
        for k, val in v.tags.items()
        if not k.startswith(OWN_PREFIX) or k == settings.MLFLOW_USE_CASE_TAG
    }
    return {"source": v.source, "run_id": v.run_id, "description": v.description, "tags": tags}


def _use_case(v: RegistryVersion) -> tuple[UseCase | None, str, str]:
    """The use case the version's tags name: (use case, the tag's value, why none)."""
    tag = settings.MLFLOW_USE_CASE_TAG
    ref = (v.tags.get(tag) or v.model_tags.get(tag) or "").strip()
    if not ref:
        return None, "", f"no {tag!r} tag on the model or the version: not imported"
    is_id = ref.isdigit() and len(ref) <= 18  # a longer number is no id (and overflows)
    query = UseCase.objects.filter(pk=int(ref)) if is_id else UseCase.objects.none()
    use_case = query.first() or UseCase.objects.filter(name=ref).first()
    if use_case is None:
        return None, ref, f"{tag}={ref!r} names no use case: not imported"
    return use_case, ref, ""


def model_use_case(name: str) -> UseCase | None:
    """Where a registered model's new versions go: the use case a governance lead last
    told them to follow (a conflict resolved ``follow``), else the use case of its first
    imported version; None before any import."""
    followed = (
        UseCaseConflict.objects.filter(
            registered_model=name, resolution=UseCaseConflict.Resolution.FOLLOW
        )
        .select_related("named")
        .order_by("-resolved_at", "-id")
        .first()
    )
    if followed is not None:
        return followed.named
    first = (
        RegistryVersionLink.objects.filter(registered_model=name)
        .select_related("version__model__use_case")
        .order_by("imported_at", "id")
        .first()
    )
    return first.version.model.use_case if first else None


def _conflict_check(
    v: RegistryVersion, named: UseCase, ref: str, current: UseCase, by: User, run: SyncRun
) -> UseCaseConflict | None:
    """MLflow names ``named`` for a model whose versions go to ``current``: open the
    conflict (audited) unless this tag was already met; returns the open conflict."""
    conflict = UseCaseConflict.objects.filter(registered_model=v.name, named=named).first()
    if conflict is None:
        reason = (
            f"MLflow's tag names {named.name!r} for {v.name}, whose versions are in "
            f"{current.name!r}: nothing moved, new versions held until a governance lead "
            "resolves it"
        )
        try:
            with transaction.atomic(), audit_context(actor=by, reason=reason):
                conflict = UseCaseConflict(
                    registered_model=v.name,
                    current=current,
                    named=named,
                    named_ref=ref[:300],
                    versions=[v.version],
                )
                conflict.full_clean(validate_constraints=False)
                conflict.save()
            logger.warning("MLflow use case conflict: %s", reason)
        except IntegrityError:  # a concurrent pass (the whole registry's) opened it first
            conflict = UseCaseConflict.objects.get(registered_model=v.name, named=named)
    if not conflict.is_open:
        return None
    entry = {"model": v.name, "current": conflict.current.name, "named": named.name}
    if entry not in run.conflicts:
        run.conflicts.append(entry)
    return conflict


def _update_link(link: RegistryVersionLink, facts: dict, by: User) -> bool:
    changed = [name for name in LINK_FIELDS if getattr(link, name) != facts[name]]
    if not changed:
        return False
    with transaction.atomic(), audit_context(actor=by, reason="Changed in MLflow"):
        link = RegistryVersionLink.objects.select_for_update().get(pk=link.pk)
        for name in changed:
            setattr(link, name, facts[name])
        link.full_clean()
        link.save()
    return True


def _import(v: RegistryVersion, use_case: UseCase, by: User, client: MLflowClient) -> None:
    uri = client.download_uri(v.name, v.version)
    digest, flavors = client.artifact_digest(uri)
    framework = ("mlflow " + "/".join(flavors))[:100] if flavors else "mlflow"
    reason = f"Imported from MLflow: {v.name} version {v.version}"
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        ml_model = MLModel.objects.filter(use_case=use_case, name=v.name).first()
        if ml_model is None:
            ml_model = ml_model_create(
                by=by, use_case=use_case, name=v.name, description=v.model_description
            )
        version, _ = model_version_register(
            by=by,
            model=ml_model,
            version_label=v.version,
            artifact_uri=uri[:500],
            artifact_sha256=digest,
            framework=framework,
            training_data_ref=f"MLflow run {v.run_id}" if v.run_id else "",
        )
        link = RegistryVersionLink(
            registered_model=v.name,
            mlflow_version=v.version,
            version=version,
            artifact_digest=digest,
            **_facts(v),
        )
        link.full_clean()
        link.save()


def _skip(run: SyncRun, v: RegistryVersion, reason: str) -> None:
    run.skipped.append({"model": v.name, "version": v.version, "reason": reason})


def _sync_version(v: RegistryVersion, by: User, client: MLflowClient, run: SyncRun) -> None:
    """Import or refresh one version. An imported version never changes use case: a tag
    naming another one opens a conflict (``UseCaseConflict``), and while a conflict of
    its model is open the model's new versions are held (listed on the run)."""
    named, ref, why = _use_case(v)
    current = model_use_case(v.name)
    if named is not None and current is not None and named != current:
        _conflict_check(v, named, ref, current, by, run)
    link = RegistryVersionLink.objects.filter(
        registered_model=v.name, mlflow_version=v.version
    ).first()
    if link is not None:
        if _update_link(link, _facts(v), by):
            run.updated += 1
        else:
            run.unchanged += 1
        return
    if named is None:
        return _skip(run, v, why)
    held = UseCaseConflict.objects.filter(registered_model=v.name, resolution="").first()
    if held is not None:
        return _skip(
            run,
            v,
            f"held: the tag names {held.named.name!r}, the model's versions are in "
            f"{held.current.name!r}; a governance lead resolves the conflict on /mlflow/",
        )
    try:
        _import(v, current or named, by, client)
    except (ValidationError, PermissionDenied, MLflowError) as err:
        text = "; ".join(err.messages) if isinstance(err, ValidationError) else str(err)
        return _skip(run, v, text)
    run.imported += 1


def registry_sync(*, by: User, trigger: str, registered_model: str = "") -> SyncRun:
    """Import the registry's versions (or one registered model's) into the inventory.

    Idempotent: a version already imported is compared with what MLflow says now (an
    audited update of its link when its description, tags, source or run changed;
    nothing otherwise). Each version is imported in its own transaction, so a failure
    leaves none half imported: a version the inventory refuses, or whose artifacts
    cannot be read, is listed on the run with the reason. MLflow unreachable: the run
    is failed with the reason (beat tries again). Returns the finished run."""
    client = client_from_settings()
    run = SyncRun.objects.create(trigger=trigger, started_by=by, registered_model=registered_model)
    try:
        models = (
            [client.registered_model(registered_model)]
            if registered_model
            else list(client.registered_models())
        )
        for model in models:
            for v in client.versions(model):
                _sync_version(v, by, client, run)
                if settings.MLFLOW_WRITE_BACK:
                    write_back(v, client, run)
        run.status = SyncRun.Status.DONE
    except MLflowError as err:
        logger.warning("MLflow sync failed: %s", err)
        run.status, run.message = SyncRun.Status.FAILED, str(err)
    run.finished_at = timezone.now()
    run.save()
    return run


def alias_check(*, by: User, name: str, alias: str, version: str) -> str:
    """A guarded alias was set in MLflow: import the model first, then let the gate
    decide (``writeback.alias_guard``). Returns what was done."""
    if settings.MLFLOW_ALIAS_ENVIRONMENTS.get(alias):
        registry_sync(by=by, trigger=SyncRun.Trigger.WEBHOOK, registered_model=name)
    return alias_guard(
        by=by, client=client_from_settings(), name=name, alias=alias, version=version
    )


def registry_sync_request(*, by: User) -> str:
    """A governance lead asks for a sync now: queued through the outbox (one at a time),
    audited. Raises PermissionDenied for anyone else, ValidationError when MLflow is not
    configured. Returns the job's key."""
    from mlflow_sync.tasks import registry_sync as registry_sync_task
    from notifications.jobs import enqueue

    if not is_governance_lead(by):
        raise PermissionDenied("Only a governance lead can start the MLflow sync.")
    client_from_settings()
    with transaction.atomic():
        audit_record(
            action="mlflow_sync_requested",
            object_type="mlflow_sync.syncrun",
            object_id="",
            object_repr="MLflow registry sync",
            actor=by,
        )
        return enqueue(
            registry_sync_task,
            kwargs={"trigger": SyncRun.Trigger.MANUAL, "user_id": by.pk, "registered_model": ""},
        )


def use_case_conflict_resolve(
    *, conflict_id: int, by: User, resolution: str, note: str
) -> UseCaseConflict:
    """A governance lead decides where the new versions of a model re-tagged in MLflow
    go: ``keep`` (the use case its versions are in) or ``follow`` (the one the tag
    names). Imported versions stay where they are either way. Audited with the note;
    a sync of the model is queued so the held versions are imported.

    Raises PermissionDenied for anyone but a governance lead, ValidationError for an
    unknown decision, a missing note or a conflict already resolved, and
    UseCaseConflict.DoesNotExist for an unknown id."""
    from mlflow_sync.tasks import registry_sync as registry_sync_task
    from notifications.jobs import enqueue

    if not is_governance_lead(by):
        raise PermissionDenied("Only a governance lead can resolve a use case conflict.")
    if resolution not in UseCaseConflict.Resolution.values:
        raise ValidationError({"resolution": "Choose keep or follow."})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why: the note goes on the audit trail."})
    with transaction.atomic(), audit_context(actor=by):
        conflict = UseCaseConflict.objects.select_for_update().get(pk=conflict_id)
        if not conflict.is_open:
            raise ValidationError("This conflict is already resolved.")
        conflict.resolution = resolution
        conflict.resolved_by = by
        conflict.resolved_at = timezone.now()
        conflict.note = note
        conflict.full_clean()
        conflict.save()
        if settings.MLFLOW_TRACKING_URI:
            enqueue(
                registry_sync_task,
                kwargs={
                    "trigger": SyncRun.Trigger.MANUAL,
                    "user_id": by.pk,
                    "registered_model": conflict.registered_model,
                },
            )
    return conflict
