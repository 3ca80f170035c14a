"""Scored datasets: an uploaded CSV or Parquet file is checked at once for what its
first bytes tell (size, format, header, mapping), stored in quarantine and validated
row by row by a worker (``fairness.services.validation``), which publishes it by
content (SHA-256) or rejects it. Monitoring's production batches and outcomes take the
same way (``scored_file_spool``, ``scored_file_quarantine`` with their own job)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.upload_temp import upload_temp_dir, upload_temp_sweep
from audit.services import audit_record
from audit.stored_files import stored_file_discard, stored_file_lock
from core.scored_io import ColumnMapping, FileInfo, ScoredDataError, inspect_file
from fairness.models import ScoredDataset
from fairness.services.common import _data_error, can_run, max_upload_bytes
from inventory.models import ModelVersion
from notifications.jobs import enqueue

_CHUNK = 1 << 22
QUARANTINE = "scored-quarantine"


def parse_mapping(data: Mapping[str, Any] | ColumnMapping) -> ColumnMapping:
    """A ColumnMapping from plain data; ValidationError({"mapping": ...}) when it makes no
    sense (no outcome, no sensitive attribute, a threshold without a score...)."""
    if isinstance(data, ColumnMapping):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError({"mapping": "Give the column mapping as an object."})
    clean = {k: v for k, v in data.items() if v not in (None, "", [])}
    if not clean.get("outcome"):
        raise ValidationError({"mapping": "Map the outcome column (the ground truth, 0/1)."})
    if not clean.get("sensitive"):
        raise ValidationError({"mapping": "Map at least one sensitive attribute (e.g. race, sex)."})
    if "threshold" in clean and isinstance(clean["threshold"], str):
        try:
            clean["threshold"] = float(clean["threshold"])
        except ValueError:
            raise ValidationError(
                {"mapping": "The threshold must be a number in [0, 1]."}
            ) from None
    try:
        return ColumnMapping.from_dict(clean)
    except ScoredDataError as exc:
        raise _data_error(exc, "mapping") from exc


def scored_file_spool(file, digest) -> tuple[str, bool]:
    """A local path holding the upload's bytes, hashed on the way. Returns (path, temp).
    Spools into this process's upload folder (``accounts.upload_temp``), after sweeping
    what dead processes left there."""
    upload_temp_sweep()
    temporary_path = getattr(file, "temporary_file_path", None)
    if temporary_path is not None:  # Django already spooled it to disk: read it once
        path = temporary_path()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return path, False
    fd, path = tempfile.mkstemp(prefix="scored-", suffix=".upload", dir=upload_temp_dir())
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = (
                file.chunks(_CHUNK)
                if hasattr(file, "chunks")
                else iter(lambda: file.read(_CHUNK), b"")
            )
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        # A client that goes away mid-upload (or any error reading it) leaves no file.
        with contextlib.suppress(OSError):
            os.remove(path)
        raise
    return path, True


def scored_dataset_upload(
    *,
    version: ModelVersion,
    by: User | None,
    file,
    mapping: Mapping[str, Any] | ColumnMapping,
    name: str = "",
    description: str = "",
    purpose: str = ScoredDataset.Purpose.EVALUATION,
    summary: Mapping[str, Any] | None = None,
) -> tuple[ScoredDataset, bool]:
    """Receive a scored dataset (CSV or Parquet) for a model version, to be validated by
    a worker (issue 18).

    Answered at once, before anything is stored: who may attach data, the column
    mapping, the size against SCORED_DATA_MAX_BYTES (before reading a byte), the format
    by content, the header and the mapped columns (the first bytes only), and
    ``summary``'s options (a bias summary to request once the data is valid). Then the
    bytes are stored in quarantine and the row recorded as ``validating``; a worker
    (``scored_dataset_validate``, heavy queue) reads every row once and publishes it
    (``valid``) or rejects it with the column and row of the first problem. Identical
    bytes already attached to the version (valid or still validating) return the
    existing row. Returns (dataset, created).

    Raises PermissionDenied unless ``by`` may change the version (None: the system);
    ValidationError naming the problem. Nothing is stored when these checks fail.
    """
    if by is not None and not can_run(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads attach data."
        )
    column_mapping = parse_mapping(mapping)
    if purpose not in ScoredDataset.Purpose.values:
        raise ValidationError({"purpose": f"Unknown purpose {purpose!r}."})
    summary_options = None
    if summary is not None:
        summary_options = _summary_options(version, column_mapping, purpose, summary)
    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:  # before reading a byte of it
        raise ValidationError({"file": f"The file is {size:,} bytes, over the limit of {limit:,}."})
    original = os.path.basename(name or getattr(file, "name", "") or "scored-data")[:255]
    digest = hashlib.sha256()
    path, temporary = scored_file_spool(file, digest)
    try:
        sha = digest.hexdigest()
        existing = _attached(version, sha)
        if existing is not None:
            return _same_mapping(existing, column_mapping), False
        try:
            info = inspect_file(path, max_bytes=limit, mapping=column_mapping, head_only=True)
        except ScoredDataError as exc:
            raise _data_error(exc) from exc
        upload = Upload(version, by, sha, info, column_mapping, original, description, purpose)
        return scored_file_quarantine(
            upload, file, path, temporary, summary=summary_options, recorded=_validate_later
        )
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.remove(path)


def _summary_options(version, mapping: ColumnMapping, purpose: str, summary) -> dict:
    """The options of the summary to request once valid, checked now (400 at once)."""
    from fairness.services.summary_request import bias_options

    probe = ScoredDataset(model_version=version, purpose=purpose, mapping=mapping.to_dict())
    bias_options(dataset=probe, **summary)
    return dict(summary)


def _attached(version: ModelVersion, sha: str) -> ScoredDataset | None:
    """The version's dataset of these bytes, valid or validating (a rejected one is no
    obstacle: the same bytes may come again with another mapping)."""
    return (
        ScoredDataset.objects.filter(model_version=version, sha256=sha)
        .exclude(status=ScoredDataset.Status.REJECTED)
        .first()
    )


def _same_mapping(existing: ScoredDataset, mapping: ColumnMapping) -> ScoredDataset:
    if existing.mapping != mapping.to_dict():
        raise ValidationError(
            {
                "file": f"These exact bytes are already attached to this version as dataset "
                f"#{existing.pk} ({existing.original_name}) with another column mapping."
            }
        )
    return existing


def _stored_copy(name: str, path: str, size: int) -> tuple[str, bool]:
    """The stored file holding the checked bytes: ``name`` when it is there whole
    (content-addressed: the same bytes are stored once), else a copy saved now (under
    another name if a different file holds ``name``). Returns (stored name, created)."""
    if default_storage.exists(name) and default_storage.size(name) == size:
        return name, False
    with open(path, "rb") as f:
        return default_storage.save(name, File(f, name=name)), True


@dataclass(frozen=True)
class Upload:
    """What the request checked about an upload, to record it (``mapping``: anything
    with ``to_dict()``)."""

    version: ModelVersion
    by: User | None
    sha: str
    info: FileInfo
    mapping: Any
    original: str
    description: str
    purpose: str


def _quarantine_copy(file, path: str, temporary: bool, upload: Upload) -> str:
    """Store the bytes under ``scored-quarantine/`` (a name of their own). A file Django
    spooled to disk is moved there by a local storage, not copied."""
    name = f"{QUARANTINE}/{upload.sha[:2]}/{upload.sha}.{upload.info.format}"
    if not temporary and hasattr(file, "temporary_file_path"):
        file.seek(0)
        return default_storage.save(name, file)
    with open(path, "rb") as f:
        return default_storage.save(name, File(f, name=name))


def _quarantine_again(file, path: str, temporary: bool, upload: Upload) -> str:
    """The quarantined copy again, when the bytes are still at hand (a file Django
    spooled was moved into quarantine: then the upload must be sent again)."""
    if temporary or not hasattr(file, "temporary_file_path"):
        return _quarantine_copy(file, path, temporary, upload)
    raise ValidationError(
        {"file": "The upload was interrupted before it was recorded; send it again."}
    )


def _validate_later(dataset: ScoredDataset) -> None:
    """A bias dataset's job: the worker's check of every row (heavy queue)."""
    from fairness.tasks import scored_dataset_validate as validate_task

    enqueue(validate_task, kwargs={"dataset_id": dataset.pk})


def scored_file_quarantine(
    upload: Upload,
    file,
    path: str,
    temporary: bool,
    *,
    summary: dict | None = None,
    recorded: Callable[[ScoredDataset], None],
) -> tuple[ScoredDataset, bool]:
    """Store the upload in quarantine and record its row, ``validating``, with the audit
    event; ``recorded(dataset)`` then runs in the same transaction (it queues the
    worker's job, published after commit, and records what the upload is for). The
    quarantined file is discarded when the row is not recorded; identical bytes
    recorded meanwhile for the version return that row."""
    stored = _quarantine_copy(file, path, temporary, upload)
    try:
        with transaction.atomic():
            stored_file_lock()
            if not default_storage.exists(stored):  # swept meanwhile: no row named it yet
                stored = _quarantine_again(file, path, temporary, upload)
            dataset = ScoredDataset(
                model_version=upload.version,
                purpose=upload.purpose,
                description=upload.description,
                original_name=upload.original,
                format=upload.info.format,
                size_bytes=upload.info.size,
                sha256=upload.sha,
                rows=upload.info.rows or 0,
                columns=list(upload.info.columns),
                row_groups=upload.info.row_groups,
                mapping=upload.mapping.to_dict(),
                uploaded_by=upload.by,
                uploaded_at=timezone.now(),
                status=ScoredDataset.Status.VALIDATING,
                summary_on_valid=summary,
            )
            dataset.file.name = stored
            dataset.full_clean(validate_constraints=False)
            dataset.save()
            rows = f"{dataset.rows:,} rows" if upload.info.rows else "rows not yet counted"
            audit_record(
                action="scored_dataset.uploaded",
                obj=dataset,
                actor=upload.by,
                reason=f"{upload.original}: {rows}, SHA-256 {upload.sha}; in quarantine "
                "until every row is validated",
                changes={"sha256": [None, upload.sha], "rows": [None, dataset.rows]},
                parent=upload.version,
            )
            recorded(dataset)
    except IntegrityError:
        stored_file_discard(stored)
        existing = _attached(upload.version, upload.sha)
        if existing is None:
            raise
        return _same_mapping(existing, upload.mapping), False
    except BaseException:
        stored_file_discard(stored)
        raise
    return dataset, True
