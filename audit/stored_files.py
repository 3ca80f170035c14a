"""Stored files no record refers to: found and removed safely (issue 13: "kill the web
process mid-upload -> no orphan file").

An upload stores its file in the media storage (``default_storage.save``) before the
transaction that records its row commits. A web process killed in between (kill -9, the
OOM killer, a host going down), or a transaction that fails after the file is stored
and cannot clean up, leaves a file that nothing names. ``media_sweep`` removes such
files: beat runs it hourly (``audit.tasks.media_sweep``, ``MEDIA_SWEEP_SECONDS``), and
``manage.py media_sweep [--dry-run]`` runs it by hand.

**What is an orphan.** Each app registers where it stores files and which field of which
model names them (``register_stored_files`` in its ``ready()``): scored data
(``scored-data/``, stored once by SHA-256, ``ScoredDataset.file``), obligation evidence
(``obligations/evidence/``, ``Obligation.evidence_file``), the readiness probe's scratch
files (``readyz/``, no field). Nothing outside a registered folder is ever looked at. A
file there is an orphan when, all three:

- the storage's modified time is older than ``MEDIA_SWEEP_GRACE_MINUTES`` (60);
- no row's field names it;
- the audit trail never recorded it as a value of that field. The trail is append-only,
  so "named in the trail" means "a committed record once named it": evidence replaced
  by a newer file, or a row deleted in the admin, keeps its file. Only files no
  committed transaction ever referred to are removed; governance evidence is never
  swept because it was superseded.

**The race, and the lock.** "List the files, delete those no row names" races with an
upload that is about to commit a row naming one: scored data are content-addressed, so
an upload of bytes stored before (even by an upload that died: an orphan) reuses the
file; the upload sees the file, the sweep sees no row and deletes it, the upload commits
a row naming a file that is gone. So both sides hold one lock across check-and-act, the
writers' lock (``stored_file_lock``): on PostgreSQL the audit chain's advisory lock,
which every write transaction already takes before its first write
(``audit/lock_order.py``: no new lock, no new lock order, no deadlock); on SQLite the
database's single write lock, held from BEGIN (``transaction_mode="IMMEDIATE"``).

- An upload holds it from "the file is there" to the row's commit: scored data are
  checked again under it (``fairness.services.datasets``: the file stored or reused
  before the lock must still be there; if a sweep removed it, it is stored again);
  obligation evidence is stored after the obligation's row is locked
  (``SELECT ... FOR UPDATE``, which takes it).
- The sweep takes it, checks again that no row and no event names the file and that it
  is still older than the grace period, deletes it, records the audit event, commits.

Whichever goes first, the other sees it: the sweep sees the committed row, or the upload
sees the file gone. The grace period is the second line: a file written a moment ago by
an upload still in flight is not even a candidate (scored data are copied before the
lock is taken, so the writers' lock is not held while a large file is written).

**Why not a pending folder renamed into place after commit** (the other design the
issue allows): the Storage API has no rename (on object storage it is a second copy of
the whole file), a process killed between the commit and the rename leaves a committed
row naming a file that is not there (a half row, worse than an orphan), and a reused
content-addressed file would still need the lock above.

Each batch of removals is one audit event (``media.orphans_removed``) naming the files,
with their size and modified time; a dry run lists them and changes nothing. Only the
Storage API is used (``listdir``, ``get_modified_time``, ``size``, ``delete``): the
media storage may be a shared mount or object storage (django-storages).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.registry import labels_of
from audit.services import ADVISORY_LOCK_KEY, audit_record

logger = logging.getLogger(__name__)

ACTION = "media.orphans_removed"
OBJECT_TYPE = "audit.mediastorage"
BATCH = 50  # files removed per transaction: the writers' lock is held briefly


@dataclass(frozen=True)
class StoredFiles:
    """A folder of the media storage and the field that names its files (None: scratch
    files nothing ever names)."""

    prefix: str
    model: type[models.Model] | None = None
    field: str | None = None


@dataclass
class Candidate:
    """A stored file no row names, old enough to be an orphan if the trail does not
    name it either."""

    name: str
    kind: StoredFiles
    modified: dt.datetime
    size: int | None = None


@dataclass
class SweepReport:
    """What one sweep found: the orphans removed (or that a dry run would remove), and
    how many files it kept and why."""

    removed: list[Candidate] = field(default_factory=list)
    young: int = 0
    referenced: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.removed]


_registry: dict[str, StoredFiles] = {}


def register_stored_files(
    prefix: str, model: type[models.Model] | None = None, field: str | None = None
) -> None:
    """Say that files under ``prefix`` in the default storage are named by ``model``'s
    ``field`` (a FileField); without a model they are scratch files that nothing names.
    Registering a prefix twice replaces it."""
    if (model is None) != (field is None):
        raise ValueError("Give both the model and its file field, or neither.")
    prefix = prefix.strip("/")
    _registry[prefix] = StoredFiles(prefix=prefix, model=model, field=field)


def registered_stored_files() -> list[StoredFiles]:
    return [_registry[p] for p in sorted(_registry)]


def stored_file_lock() -> None:
    """Take the writers' lock in the current transaction (held to its end): an upload
    calls it before it checks that the file its row will name is there, the sweep
    before it checks that nothing names a file it deletes. PostgreSQL: the audit
    chain's advisory lock (every write transaction takes it first anyway). SQLite: the
    transaction already holds the only write lock (IMMEDIATE)."""
    if not connection.in_atomic_block:
        raise RuntimeError("stored_file_lock() is held to commit: call it in a transaction.")
    if connection.vendor == "postgresql" and not getattr(connection, "chain_lock_held", False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        connection.chain_lock_held = True


def grace() -> dt.timedelta:
    return dt.timedelta(minutes=float(getattr(settings, "MEDIA_SWEEP_GRACE_MINUTES", 60)))


def _kind_of(name: str) -> StoredFiles | None:
    for prefix, kind in _registry.items():
        if name.startswith(f"{prefix}/"):
            return kind
    return None


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in sorted(files):
        yield f"{folder}/{name}"
    for sub in sorted(dirs):
        yield from _walk(storage, f"{folder}/{sub}")


def _modified(storage: Storage, name: str) -> dt.datetime | None:
    """The file's modified time (aware), None when it is gone."""
    try:
        modified = storage.get_modified_time(name)
    except (FileNotFoundError, OSError):
        return None
    if timezone.is_naive(modified):
        modified = timezone.make_aware(modified, dt.UTC)
    return modified


def _size(storage: Storage, name: str) -> int | None:
    try:
        return storage.size(name)
    except (FileNotFoundError, OSError):
        return None


def _named_in_trail(kind: StoredFiles, names: set[str]) -> set[str]:
    """The names the audit trail recorded as values of ``kind``'s field."""
    label = kind.model._meta.label_lower
    found: set[str] = set()
    values = AuditEvent.objects.filter(
        object_type__in=labels_of(label), changes__has_key=kind.field
    ).values_list(f"changes__{kind.field}", flat=True)
    for value in values.iterator(chunk_size=2000):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item in names:
                found.add(item)
    return found


def _rows_naming(kind: StoredFiles, names: Iterable[str]) -> set[str]:
    """Of ``names``, those a row of ``kind``'s model names (a query per 500 names)."""
    if kind.model is None:
        return set()
    names = sorted(set(names))
    found: set[str] = set()
    for start in range(0, len(names), 500):
        found.update(
            kind.model._base_manager.filter(
                **{f"{kind.field}__in": names[start : start + 500]}
            ).values_list(kind.field, flat=True)
        )
    return found


def stored_files_named(kind: StoredFiles, names: Iterable[str]) -> set[str]:
    """Of ``names``, those a row of ``kind``'s model or the audit trail names."""
    names = set(names)
    if kind.model is None or not names:
        return set()
    rows = _rows_naming(kind, names)
    rest = names - rows
    return rows | (_named_in_trail(kind, rest) if rest else set())


def _orphans(candidates: list[Candidate]) -> tuple[list[Candidate], int]:
    """(the candidates nothing names, how many are named)."""
    by_kind: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_kind.setdefault(c.kind.prefix, []).append(c)
    orphans: list[Candidate] = []
    for group in by_kind.values():
        named = stored_files_named(group[0].kind, (c.name for c in group))
        orphans += [c for c in group if c.name not in named]
    return orphans, len(candidates) - len(orphans)


def stored_file_discard(name: str, *, storage: Storage | None = None) -> bool:
    """Delete a file an upload stored and then could not record, unless a row or the
    trail names it (content-addressed bytes another upload committed meanwhile; object
    storage overwrites a name saved twice). Under the writers' lock, like the sweep;
    call it after the upload's transaction (or savepoint) rolled back. Never raises: a
    file it cannot delete (the database or the storage failing too) is logged and left
    to the sweep. Returns True when it was deleted."""
    storage = storage or default_storage
    kind = _kind_of(name)
    try:
        with transaction.atomic():
            stored_file_lock()
            if kind is not None and stored_files_named(kind, [name]):
                return False
            storage.delete(name)
    except Exception:  # noqa: BLE001 - the caller is already failing; the sweep retries
        logger.warning("could not discard %s: left to the media sweep", name, exc_info=True)
        return False
    return True


def _remove(storage: Storage, batch: list[Candidate], cutoff: dt.datetime, report: SweepReport):
    """Remove the batch's files that are still orphans, under the writers' lock, and
    record them in one audit event."""
    with transaction.atomic():
        stored_file_lock()
        orphans, named = _orphans(batch)
        report.referenced += named
        removed = []
        for c in orphans:
            modified = _modified(storage, c.name)
            if modified is None:
                continue  # gone already (another sweep)
            if modified > cutoff:
                report.young += 1  # written again since it was listed
                continue
            c.size = _size(storage, c.name)
            try:
                storage.delete(c.name)
            except Exception:  # noqa: BLE001 - one file the storage refuses must not stop the rest
                logger.exception("media sweep: could not delete %s", c.name)
                report.failed.append(c.name)
                continue
            removed.append(c)
        if removed:
            audit_record(
                action=ACTION,
                object_type=OBJECT_TYPE,
                object_id="",
                object_repr="Media storage",
                changes={
                    "files": [
                        [
                            {"name": c.name, "size": c.size, "modified": c.modified.isoformat()}
                            for c in removed
                        ],
                        None,
                    ]
                },
                reason=f"{len(removed)} stored file(s) no record refers to, older than "
                f"{_grace_label()}, removed: " + ", ".join(c.name for c in removed),
            )
        report.removed += removed


def _grace_label() -> str:
    minutes = grace().total_seconds() / 60
    return f"{minutes / 60:g} h" if minutes >= 60 else f"{minutes:g} min"


def media_sweep(
    *, dry_run: bool = False, now: dt.datetime | None = None, storage: Storage | None = None
) -> SweepReport:
    """Find the stored files no record refers to (see the module's docstring) and remove
    them, a batch per transaction under the writers' lock, each batch audited
    (``media.orphans_removed``, naming the files). With ``dry_run`` nothing is removed
    or recorded: the report lists what would be. Never raises for one file the storage
    refuses to delete (logged, listed in ``failed``)."""
    storage = storage or default_storage
    cutoff = (now or timezone.now()) - grace()
    report = SweepReport()
    candidates: list[Candidate] = []
    for kind in registered_stored_files():
        names = list(_walk(storage, kind.prefix))
        # Most files are named by a row: a query per 500 names, no storage call each.
        named = _rows_naming(kind, names)
        report.referenced += len(named)
        for name in names:
            if name in named:
                continue
            modified = _modified(storage, name)
            if modified is None:
                continue
            if modified > cutoff:
                report.young += 1
                continue
            candidates.append(Candidate(name, kind, modified))
    # A first look without the lock (rows again, then the trail): the lock is taken
    # only for the files that may be orphans, and everything is checked again under it.
    orphans, named_now = _orphans(candidates)
    report.referenced += named_now
    if dry_run:
        for c in orphans:
            c.size = _size(storage, c.name)
        report.removed = orphans
        return report
    for start in range(0, len(orphans), BATCH):
        _remove(storage, orphans[start : start + BATCH], cutoff, report)
    return report
