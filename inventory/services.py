"""Writes of the inventory. Every write validates before it saves, runs in one
transaction and checks the writer's team, so pages, API and admin share one set of
rules."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import is_governance_lead, is_second_line
from audit.services import audit_context
from core import lifecycle_rules
from inventory import permissions
from inventory.models import (
    ArtifactLink,
    Dataset,
    DatasetColumn,
    MLModel,
    ModelVersion,
    Regulation,
    Team,
    UseCase,
)

USE_CASE_FIELDS = (
    "name",
    "purpose",
    "restrictions",
    "business_owner",
    "technical_owner",
    "team",
    "status",
    "uses_pii",
)


# The inventory does not classify use cases: the governance framework, above it, does.
# It registers here (GovernanceConfig.ready) what must run when a use case's
# classification inputs change; ``use_case_update`` calls each handler in its own
# transaction, so the re-classification commits or rolls back with the change.
_on_classification_inputs_changed: list[Callable[..., None]] = []


def on_classification_inputs_changed(handler: Callable[..., None]) -> Callable[..., None]:
    """Register ``handler(use_case=, by=, note=)``, called when a use case's regulations
    or PII flag change. Returns the handler (usable as a decorator)."""
    if handler not in _on_classification_inputs_changed:
        _on_classification_inputs_changed.append(handler)
    return handler


# What must run when a version is registered (issue 12: governance opens the version's
# own obligations), registered by GovernanceConfig.ready; called in the same
# transaction as the registration.
_on_version_registered: list[Callable[..., None]] = []


def on_version_registered(handler: Callable[..., None]) -> Callable[..., None]:
    """Register ``handler(version=, by=)``, called after a new version is registered."""
    if handler not in _on_version_registered:
        _on_version_registered.append(handler)
    return handler


def _require_team(by: User, team: Team | None, what: str) -> None:
    if not permissions.can_write_for_team(by, team):
        raise PermissionDenied(f"You can only {what} for your own team.")


def _environments(use_case: UseCase) -> list[str]:
    if use_case.pk is None:
        return []
    return list(
        ModelVersion.objects.filter(model__use_case=use_case).values_list("environment", flat=True)
    )


def _check_status(use_case: UseCase, status: str) -> None:
    """A status the versions' environments contradict is refused (issue 12: status
    follows reality), from the page, the API and the admin alike."""
    if status not in lifecycle_rules.LABELS:
        return  # not a status at all: full_clean says so
    reason = lifecycle_rules.lifecycle_check(status, _environments(use_case))
    if reason:
        raise ValidationError({"status": reason})


@transaction.atomic
def use_case_status_sync(*, use_case: UseCase) -> UseCase:
    """Make the use case's status follow its versions' environments (after a version
    is registered or moves): kept while they allow it, else the status they lead to,
    saved (and so audited) with the reason. Idempotent."""
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    envs = _environments(use_case)
    status = lifecycle_rules.lifecycle_derive(use_case.status, envs)
    if status != use_case.status:
        _allowed, why = lifecycle_rules.lifecycle_allowed(envs)
        with audit_context(reason=f"The status follows the versions: {why}."):
            use_case.status = status
            use_case.save(update_fields=["status", "updated_at"])
    return use_case


def _check_metrics(metrics: Any) -> None:
    if not isinstance(metrics, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in metrics.items()
    ):
        raise ValidationError({"metrics": 'Give metrics as names and numbers, e.g. {"auc": 0.81}.'})


@transaction.atomic
def use_case_create(
    *,
    by: User,
    regulations: Iterable[Regulation] = (),
    datasets: Iterable[Dataset] = (),
    **fields: Any,
) -> UseCase:
    """Register a use case. Raises PermissionDenied for another team's use case and
    ValidationError for invalid fields."""
    unknown = set(fields) - set(USE_CASE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    use_case = UseCase(created_by=by, **fields)
    _require_team(by, use_case.team if use_case.team_id else None, "register use cases")
    _check_status(use_case, use_case.status)
    use_case.full_clean()
    use_case.save()
    use_case.regulations.set(regulations)
    use_case.datasets.set(datasets)
    return use_case


@transaction.atomic
def use_case_update(
    *,
    use_case: UseCase,
    by: User,
    regulations: Iterable[Regulation] | None = None,
    datasets: Iterable[Dataset] | None = None,
    **fields: Any,
) -> UseCase:
    """Change a use case. When its regulations or PII flag change, the handlers
    registered with ``on_classification_inputs_changed`` run in the same transaction
    (governance re-classifies a classified use case, attributed to ``by``)."""
    unknown = set(fields) - set(USE_CASE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    _require_team(by, use_case.team, "change use cases")
    if "team" in fields:
        _require_team(by, fields["team"], "move use cases")
    before_regs = set(use_case.regulations.values_list("pk", flat=True))
    before_pii = use_case.uses_pii
    if "status" in fields and fields["status"] != use_case.status:
        _check_status(use_case, fields["status"])
    for name, value in fields.items():
        setattr(use_case, name, value)
    use_case.full_clean()
    use_case.save()
    if regulations is not None:
        use_case.regulations.set(regulations)
    if datasets is not None:
        use_case.datasets.set(datasets)
    after_regs = set(use_case.regulations.values_list("pk", flat=True))
    if before_regs != after_regs or before_pii != use_case.uses_pii:
        for handler in _on_classification_inputs_changed:
            handler(
                use_case=use_case,
                by=by,
                note="Re-classified: the use case's regulations or PII flag changed.",
            )
        use_case.refresh_from_db(fields=["criticality", "risk_tier"])
    return use_case


@transaction.atomic
def ml_model_create(*, by: User, use_case: UseCase, name: str, description: str = "") -> MLModel:
    """Add a model to a use case."""
    _require_team(by, use_case.team, "add models")
    ml_model = MLModel(use_case=use_case, name=name, description=description, created_by=by)
    ml_model.full_clean()
    ml_model.save()
    return ml_model


@transaction.atomic
def ml_model_update(*, ml_model: MLModel, by: User, description: str) -> MLModel:
    """Change a model's description; its name and use case are fixed once created.
    Raises PermissionDenied for another team's model, ValidationError if invalid."""
    ml_model = MLModel.objects.select_for_update().get(pk=ml_model.pk)
    _require_team(by, ml_model.use_case.team, "change models")
    ml_model.description = description
    ml_model.full_clean()
    ml_model.save(update_fields=["description"])
    return ml_model


@transaction.atomic
def model_version_register(
    *,
    by: User,
    model: MLModel,
    version_label: str,
    artifact_uri: str,
    artifact_sha256: str,
    framework: str,
    training_dataset: Dataset | None = None,
    training_data_ref: str = "",
    metrics: dict | None = None,
    authors: Iterable[User] | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a version of a model; idempotent on (model, version label).

    Returns (version, created). Registering the same label with the same SHA-256
    again returns the existing version unchanged; a different SHA-256 for an existing
    label raises ValidationError: an artifact, once registered, never changes. Nobody
    is named validator here: a version's validation is recorded and signed by an
    independent validator (``reviews.services.validation``).
    """
    _require_team(by, model.use_case.team, "register versions")
    artifact_sha256 = (artifact_sha256 or "").strip().lower()
    existing = (
        ModelVersion.objects.select_for_update()
        .filter(model=model, version_label=version_label)
        .first()
    )
    if existing is not None:
        if existing.artifact_sha256 != artifact_sha256:
            raise ValidationError(
                {
                    "artifact_sha256": (
                        f"Version {version_label!r} of {model.name!r} is already registered "
                        f"with SHA-256 {existing.artifact_sha256}; register the new artifact "
                        "under a new version label."
                    )
                }
            )
        return existing, False
    _require_artifact_free(model, artifact_sha256)
    metrics = {} if metrics is None else metrics
    _check_metrics(metrics)
    authors = list(authors) if authors else [by]
    version = ModelVersion(
        model=model,
        version_label=version_label,
        artifact_uri=artifact_uri,
        artifact_sha256=artifact_sha256,
        framework=framework,
        training_dataset=training_dataset,
        training_data_ref=training_data_ref,
        metrics=metrics,
        registered_by=by,
    )
    version.full_clean()
    version.save()
    version.authors.set(authors)
    use_case_status_sync(use_case=model.use_case)
    for handler in _on_version_registered:
        handler(version=version, by=by)
    return version, True


def _require_artifact_free(model: MLModel, artifact_sha256: str) -> None:
    """An artifact belongs to one model (issue 12, item 7): refuse its registration
    under ``model`` while another model carries it, unless a governance lead linked it
    to ``model`` (``artifact_link_create``)."""
    others = (
        ModelVersion.objects.filter(artifact_sha256=artifact_sha256)
        .exclude(model=model)
        .select_related("model__use_case__team")
        .first()
    )
    if others is None:
        return
    if ArtifactLink.objects.filter(artifact_sha256=artifact_sha256, model=model).exists():
        return
    raise ValidationError(
        {
            "artifact_sha256": (
                f"This artifact SHA-256 is already registered as version "
                f"{others.version_label!r} of another model ({others.model.name!r}, use case "
                f"{others.model.use_case.name!r}, team {others.model.use_case.team.name}). "
                "An artifact belongs to one model; if both models really ship the same "
                "file, ask a governance lead to link it to this model first."
            )
        }
    )


@transaction.atomic
def artifact_link_create(
    *, by: User, model: MLModel, artifact_sha256: str, reason: str
) -> ArtifactLink:
    """Let ``model`` register an artifact another model already carries (governance
    leads only). Raises PermissionDenied for anyone else, ValidationError without a
    reason, for an unknown or already linked SHA-256. Audited."""
    if not is_governance_lead(by):
        raise PermissionDenied("Only a governance lead can link an artifact to another model.")
    artifact_sha256 = (artifact_sha256 or "").strip().lower()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why both models ship the same artifact."})
    if not ModelVersion.objects.filter(artifact_sha256=artifact_sha256).exists():
        raise ValidationError(
            {"artifact_sha256": "No version carries this SHA-256; nothing to link."}
        )
    if ArtifactLink.objects.filter(artifact_sha256=artifact_sha256, model=model).exists():
        raise ValidationError({"artifact_sha256": "This artifact is already linked to the model."})
    link = ArtifactLink(
        artifact_sha256=artifact_sha256,
        model=model,
        reason=reason,
        linked_by=by,
        linked_at=timezone.now(),
    )
    link.full_clean()
    with audit_context(actor=by, reason=reason):
        link.save()
    return link


@transaction.atomic
def model_version_move(*, version: ModelVersion, to_environment: str) -> ModelVersion:
    """Record that a version moved to another environment. Only the sign-off
    workflow (reviews.services) calls this, after a request was approved."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    version.environment = to_environment
    version.save(update_fields=["environment"])
    use_case_status_sync(use_case=version.model.use_case)
    return version


@transaction.atomic
def model_version_update_metrics(*, version: ModelVersion, by: User, metrics: dict) -> ModelVersion:
    """Record (more) evaluation metrics on a version; the artifact itself never changes."""
    _require_team(by, version.model.use_case.team, "change versions")
    _check_metrics(metrics)
    version.metrics = {**version.metrics, **metrics}
    version.full_clean()
    version.save(update_fields=["metrics"])
    return version


def _require_pii_kept(dataset: Dataset, columns: list[dict[str, Any]], by: User) -> None:
    """Issue 12: a PII flag is the fact classification checks "uses PII" against, so
    only the second line (risk officers, governance leads) removes one, by un-flagging
    or by dropping or renaming the column. The first line adds flags freely."""
    flagged = set(dataset.columns.filter(is_pii=True).values_list("name", flat=True))
    kept = {c.get("name") for c in columns if c.get("is_pii")}
    lost = sorted(flagged - kept)
    if lost and not is_second_line(by):
        raise PermissionDenied(
            f"Removing the PII flag of {', '.join(lost)} is the second line's decision: "
            "ask a risk officer or a governance lead (the classification of the use cases "
            "on this dataset depends on it)."
        )


def _check_column_names(columns: list[dict[str, Any]]) -> None:
    names = [c.get("name") for c in columns]
    if len(set(names)) != len(names):
        raise ValidationError({"columns": "Each column name may appear only once."})


def _set_columns(dataset: Dataset, columns: list[dict[str, Any]]) -> None:
    _check_column_names(columns)
    dataset.columns.all().delete()
    for spec in columns:
        column = DatasetColumn(dataset=dataset, **spec)
        column.full_clean()
        column.save()


@transaction.atomic
def dataset_create(
    *, by: User, columns: list[dict[str, Any]] | None = None, **fields: Any
) -> Dataset:
    """Register a dataset and its columns (PII flags, lineage notes)."""
    dataset = Dataset(**fields)
    _require_team(by, dataset.team if dataset.team_id else None, "register datasets")
    dataset.full_clean()
    dataset.save()
    _set_columns(dataset, columns or [])
    return dataset


@transaction.atomic
def dataset_update(
    *, dataset: Dataset, by: User, columns: list[dict[str, Any]] | None = None, **fields: Any
) -> Dataset:
    """Change a dataset; ``columns``, when given, replaces the column list.

    Raises PermissionDenied outside the team, and when a first-line user's column list
    would remove a PII flag (un-flagged, dropped or renamed): a second-line decision."""
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    _require_team(by, dataset.team, "change datasets")
    if "team" in fields:
        _require_team(by, fields["team"], "move datasets")
    if columns is not None:
        _check_column_names(columns)
        _require_pii_kept(dataset, columns, by)
    for name, value in fields.items():
        setattr(dataset, name, value)
    dataset.full_clean()
    dataset.save()
    if columns is not None:
        _set_columns(dataset, columns)
    return dataset
