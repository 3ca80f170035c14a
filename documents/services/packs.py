"""Writes of evidence packs: asking for one (checked, audited, queued in one
transaction) and building it (a worker streams the ZIP to a temporary file, stores it
once by SHA-256, records the result and audits it).

**What a pack holds, and when.** The records are read first, then the audit trail's
head: every record state in the pack was committed with its audit event, so that event
is in the segment (records and their events commit together). Events after the records
were read may describe later changes; the trail is then ahead of the records, never
behind. The segment runs from the scope's first event (or the latest anchor, if that is
earlier) to that head, every event in between: the chain is one sequence, and the
verifier recomputes each link. Events of the scope's records are marked ``in_scope``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from audit.anchors import anchors_read
from audit.models import HASHED_FIELDS
from audit.registry import labels_of
from audit.services import audit_record
from core.audit_anchor import AnchorError
from core.audit_chain import iso_utc, jsonable
from core.evidence_pack import PackWriter, safe_part
from documents.models import EvidencePack
from documents.selectors import packs as selectors
from documents.selectors.packs import evidence_of
from inventory.models import ModelVersion, UseCase
from notifications.jobs import enqueue

logger = logging.getLogger(__name__)

BUILD_TASK = "documents.tasks.evidence_pack_build"
PROGRESS_EVERY = 2000  # steps between progress writes (and at most once a second)
EARLIEST_DAY = dt.date(2000, 1, 1)
MAX_RANGE_DAYS = 3660
Scope = EvidencePack.Scope


def _refuse_unless_allowed(user: Any) -> None:
    if not selectors.can_make_evidence_packs(user):
        raise PermissionDenied(
            "Evidence packs hold the whole audit-trail segment of their scope: governance "
            "leads, risk officers and auditors make them."
        )


def _check_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    errors = {}
    today = timezone.localdate()
    if date_from is None:
        errors["date_from"] = "Give the first day of the range."
    if date_to is None:
        errors["date_to"] = "Give the last day of the range."
    if errors:
        raise ValidationError(errors)
    if date_from > date_to:
        errors["date_to"] = "The last day is before the first."
    elif date_from < EARLIEST_DAY:
        errors["date_from"] = f"The first day is before {EARLIEST_DAY}."
    elif date_to > today:
        errors["date_to"] = f"The last day is after today ({today})."
    elif (date_to - date_from).days >= MAX_RANGE_DAYS:
        errors["date_to"] = f"A range is at most {MAX_RANGE_DAYS} days; make several packs."
    if errors:
        raise ValidationError(errors)


def evidence_pack_request(
    *,
    user: Any,
    scope: str,
    use_case: UseCase | None = None,
    model_version: ModelVersion | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> EvidencePack:
    """Ask a worker for a pack of one use case, one version or the portfolio over a date
    range. Refused (nothing written) for someone who does not read the whole audit
    trail, or for a scope that names nothing."""
    _refuse_unless_allowed(user)
    fields: dict[str, Any] = {"scope": scope}
    if scope == Scope.USE_CASE:
        if use_case is None:
            raise ValidationError({"use_case": "Choose the use case."})
        fields["use_case"] = use_case
    elif scope == Scope.VERSION:
        if model_version is None:
            raise ValidationError({"model_version": "Choose the model version."})
        fields["model_version"] = model_version
        fields["use_case"] = model_version.model.use_case
    elif scope == Scope.PORTFOLIO:
        _check_range(date_from, date_to)
        fields.update(date_from=date_from, date_to=date_to)
    else:
        raise ValidationError({"scope": f"Choose one of: {', '.join(Scope.values)}."})
    with transaction.atomic():
        pack = EvidencePack(**fields, requested_by=user, requested_at=timezone.now())
        pack.full_clean()
        pack.save()
        audit_record(
            action="evidence_pack.requested",
            obj=pack,
            actor=user,
            parent=fields.get("use_case"),
            changes={"scope": [None, pack.label]},
        )
        enqueue(BUILD_TASK, kwargs={"pack_id": pack.pk}, key=pack.pk)
    return pack


class _Progress:
    """Writes the worker's progress to the pack's row now and then (autocommit)."""

    def __init__(self, pack: EvidencePack, total: int):
        self.pack, self.done, self.total = pack, 0, total
        self.written_at = 0.0
        self.stage = ""
        self._write(force=True)

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.written_at < 1.0:
            return
        self.written_at = now
        EvidencePack.objects.filter(pk=self.pack.pk).update(
            steps_done=min(self.done, self.total), steps_total=self.total, stage=self.stage
        )

    def at(self, stage: str) -> None:
        self.stage = stage
        self._write(force=True)

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.done % PROGRESS_EVERY < count:
            self._write()

    def grow(self, extra: int) -> None:
        self.total += max(0, extra)


def _user_fields(model) -> tuple[list, list]:
    user_model = get_user_model()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    users = [f.attname for f in fields if f.is_relation and f.related_model is user_model]
    m2m = [f.name for f in model._meta.many_to_many]
    m2m_users = [f.name for f in model._meta.many_to_many if f.related_model is user_model]
    return fields, [users, m2m, m2m_users]


@dataclass
class _Seen:
    """What the record sets name, gathered as they are streamed (one read of each row:
    the signatures and evidence files of the pack are those of its records)."""

    keys: set = field(default_factory=set)
    users: set = field(default_factory=set)
    signatures: list = field(default_factory=list)
    evidence: list = field(default_factory=list)

    def note(self, label: str, obj: Any) -> None:
        if label == "reviews.signature":
            self.signatures.append(_signature_row(obj))
        elif label == "documents.documentsignature":
            self.signatures.append(_document_signature_row(obj))
        elif (found := evidence_of(label, obj)) is not None:
            self.evidence.append(found)


def _rows(label: str, queryset: QuerySet, seen: _Seen, progress: _Progress) -> Iterator[dict]:
    """The rows of one record set as {"model", "pk", "fields"}, noting their keys (for
    the audit events in scope), the people they name, their signatures and files."""
    keys, users = seen.keys, seen.users
    fields, (user_attnames, m2m, m2m_users) = _user_fields(queryset.model)
    labels = labels_of(label)
    for obj in queryset.iterator(chunk_size=2000):
        data: dict[str, Any] = {}
        for f in fields:
            value = getattr(obj, f.attname)
            if isinstance(value, FieldFile):
                value = value.name or ""
            data[f.name] = value
        for attname in user_attnames:
            if getattr(obj, attname):
                users.add(getattr(obj, attname))
        for name in m2m:
            related = sorted(o.pk for o in getattr(obj, name).all())
            data[name] = related
            if name in m2m_users:
                users.update(related)
        for each in labels:
            keys.add((each, str(obj.pk)))
        seen.note(label, obj)
        progress.step()
        yield {"model": label, "pk": obj.pk, "fields": data}


def _signature_row(s: Any) -> dict:
    """A signature with what it bound, its manifest exactly as stored (its hash covers
    those very values)."""
    return {
        "id": s.pk,
        "record": "reviews.signature",
        "signer": s.signer_id,
        "printed_name": s.printed_name,
        "signed_at": iso_utc(s.signed_at),
        "meaning": s.meaning,
        "meaning_display": s.get_meaning_display(),
        "reason": s.reason,
        "auth_method": s.auth_method,
        "subject": {
            "request": s.request_id,
            "periodic_review": s.periodic_review_id,
            "experiment": s.experiment_id,
            "validation": s.validation_id,
            "finding_acceptance": s.finding_acceptance_id,
        },
        "manifest": s.manifest,
        "manifest_hash": s.manifest_hash,
    }


def _document_signature_row(s: Any) -> dict:
    """A validator's signature of a report, in the shape of the others."""
    return {
        "id": s.pk,
        "record": "documents.documentsignature",
        "signer": s.signer_id,
        "printed_name": s.printed_name,
        "signed_at": iso_utc(s.signed_at),
        "meaning": s.meaning,
        "meaning_display": s.get_meaning_display(),
        "reason": "",
        "auth_method": s.auth_method,
        "subject": {"document": s.document_id},
        "manifest": s.manifest,
        "manifest_hash": s.manifest_hash,
    }


def _add_evidence(writer: PackWriter, items, progress: _Progress) -> tuple[list, list]:
    """Each stored evidence file, streamed; the missing and the mismatched noted."""
    missing, mismatched = [], []
    for item in items:
        path = f"evidence/{item.folder}/{safe_part(item.filename)}"
        try:
            handle = default_storage.open(item.name, "rb")
        except (FileNotFoundError, OSError) as exc:
            missing.append(
                {
                    "record": item.record,
                    "name": item.filename,
                    "recorded_sha256": item.sha256,
                    "reason": type(exc).__name__,
                }
            )
            progress.step()
            continue
        with handle:
            entry = writer.add_file(
                path,
                handle,
                kind="evidence",
                record=item.record,
                recorded_sha256=item.sha256,
                name=item.filename,
            )
        if entry.sha256 != item.sha256:
            mismatched.append(item.record)
        progress.step()
    return missing, mismatched


def _latest_anchor(head_seq: int) -> dict | None:
    anchors = anchors_read()
    seqs = [seq for seq in anchors if seq <= head_seq]
    if not seqs:
        return None
    anchor = anchors[max(seqs)]
    return {"v": 1, "seq": anchor.seq, "hash": anchor.hash, "at": anchor.at, "mac": anchor.mac}


def _events(first: int, last: int, keys: set, users: set, counts: dict, progress) -> Iterator:
    """The segment's events as plain rows (their payloads in the chain's canonical
    types), each marked in scope or not."""
    for values in selectors.audit_event_values(first, last):
        payload = dict(zip(HASHED_FIELDS, values, strict=False))
        payload["occurred_at"] = iso_utc(payload["occurred_at"])
        payload["changes"] = jsonable(payload["changes"])
        payload["context"] = jsonable(payload["context"])
        prev_hash, stored = values[-2], values[-1]
        in_scope = (payload["object_type"], payload["object_id"]) in keys or (
            payload["parent_type"],
            payload["parent_id"],
        ) in keys
        counts["in_scope"] += in_scope
        if payload["actor_id"]:
            users.add(payload["actor_id"])
        progress.step()
        yield {
            "seq": payload["seq"],
            "prev_hash": prev_hash,
            "hash": stored,
            "in_scope": in_scope,
            "payload": payload,
        }


def _write_pack(pack: EvidencePack, handle, progress: _Progress) -> dict[str, Any]:
    """Stream the whole pack into ``handle``; returns the manifest."""
    moment = timezone.now()
    sets = selectors.pack_record_sets(pack)
    progress.grow(sum(queryset.count() for _label, queryset in sets))
    seen = _Seen(users={pack.requested_by_id})
    keys, users = seen.keys, seen.users
    records: dict[str, int] = {}
    with PackWriter(handle, moment) as writer:
        progress.at("records")
        for label, queryset in sets:
            before = progress.done
            writer.add_json_array(
                f"records/{label}.json", _rows(label, queryset, seen, progress), kind="records"
            )
            records[label] = progress.done - before
        signatures = seen.signatures
        writer.add_json("signatures.json", signatures, kind="signatures")
        progress.grow(len(seen.evidence))
        progress.at("evidence files")
        missing, mismatched = _add_evidence(writer, seen.evidence, progress)
        head = selectors.audit_head() or (0, "0" * 64)
        anchor = _latest_anchor(head[0])
        first = selectors.audit_segment_start(pack)
        if anchor is not None:
            first = min(first, anchor["seq"])
        first = min(first, head[0]) or 1
        progress.grow(head[0] - first + 1)
        progress.at("audit trail")
        counts = {"in_scope": 0}
        first_prev = selectors.audit_prev_hash(first)
        writer.add_json_lines(
            "audit/events.jsonl",
            _events(first, head[0], keys, users, counts, progress),
            kind="audit",
            plain=True,
        )
        writer.add_json("audit/anchor.json", anchor, kind="audit")
        writer.add_json("people.json", selectors.pack_people(users), kind="people")
        body = {
            "pack_id": pack.pk,
            "generated_at": moment,
            "generated_by": _person(pack.requested_by),
            "scope": _scope(pack),
            "records": records,
            "signatures": len(signatures),
            "missing": missing,
            "mismatched": mismatched,
            "audit": {
                "first_seq": first,
                "first_prev_hash": first_prev,
                "last_seq": head[0],
                "head": head[1],
                "events": head[0] - first + 1 if head[0] else 0,
                "in_scope": counts["in_scope"],
                "anchor": anchor,
            },
        }
        writer.add_verifier(pack.label, body)
        return writer.finish(body)


def _person(user) -> dict:
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


def _scope(pack: EvidencePack) -> dict:
    return {
        "kind": pack.scope,
        "label": pack.label,
        "use_case": pack.use_case_id,
        "model_version": pack.model_version_id,
        "date_from": pack.date_from,
        "date_to": pack.date_to,
    }


def _hash_file(handle) -> tuple[str, int]:
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


def _claim(pack_id: int) -> EvidencePack | None:
    with transaction.atomic():
        pack = (
            EvidencePack.objects.select_for_update(of=("self",))
            .select_related("requested_by", "use_case", "model_version__model")
            .get(pk=pack_id)
        )
        if pack.status == EvidencePack.Status.DONE:
            return None
        pack.status = EvidencePack.Status.RUNNING
        pack.started_at = timezone.now()
        pack.error = ""
        pack.save(update_fields=["status", "started_at", "error"])
    return pack


def evidence_pack_build(*, pack_id: int) -> dict[str, Any]:
    """Build, store and record a pack (the worker's job). Idempotent: a pack already
    built is left as it is. A pack that cannot be built is marked failed with the reason
    (an unreadable anchor log, a storage error), and the failure is audited."""
    pack = _claim(pack_id)
    if pack is None:
        return {"pack": pack_id, "status": "done already"}
    progress = _Progress(pack, 0)
    try:
        with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as handle:
            manifest = _write_pack(pack, handle, progress)
            sha256, size = _hash_file(handle)
            progress.at("storing")
            name = default_storage.save(
                f"evidence-packs/{pack.requested_at:%Y/%m}/{sha256}.zip", File(handle)
            )
    except (AnchorError, OSError) as exc:
        return _failed(pack, f"The pack could not be built: {exc}")
    except Exception as exc:
        _failed(pack, f"The pack could not be built ({type(exc).__name__}); see the worker log.")
        raise
    return _done(pack, name=name, sha256=sha256, size=size, manifest=manifest)


def _counts(manifest: dict) -> dict[str, Any]:
    audit = manifest["audit"]
    return {
        "records": sum(manifest["records"].values()),
        "record_kinds": len(manifest["records"]),
        "evidence_files": sum(1 for f in manifest["files"] if f["kind"] == "evidence"),
        "missing": len(manifest["missing"]),
        "mismatched": len(manifest["mismatched"]),
        "signatures": manifest["signatures"],
        "audit_events": audit["events"],
        "audit_in_scope": audit["in_scope"],
        "audit_first_seq": audit["first_seq"],
        "audit_last_seq": audit["last_seq"],
        "anchor_seq": (audit["anchor"] or {}).get("seq"),
    }


def _done(pack: EvidencePack, *, name: str, sha256: str, size: int, manifest: dict) -> dict:
    verifier = next(f["sha256"] for f in manifest["files"] if f["path"] == "verify.py")
    with transaction.atomic():
        pack.file.name = name
        pack.sha256, pack.size = sha256, size
        pack.manifest_digest = manifest["manifest_digest"]
        pack.verifier_sha256 = verifier
        pack.counts = _counts(manifest)
        pack.status = EvidencePack.Status.DONE
        pack.finished_at = timezone.now()
        pack.steps_done = pack.steps_total = max(1, pack.counts["records"])
        pack.stage = ""
        pack.save()
        audit_record(
            action="evidence_pack.generated",
            obj=pack,
            parent=pack.use_case,
            changes={
                "sha256": [None, sha256],
                "size": [None, size],
                "manifest_digest": [None, pack.manifest_digest],
                "verify_py_sha256": [None, verifier],
            },
            context={"counts": pack.counts, "requested_by": pack.requested_by_id},
        )
    if pack.counts["missing"] or pack.counts["mismatched"]:
        logger.warning("evidence pack %s: %s", pack.pk, pack.counts)
    return {"pack": pack.pk, "status": "done", "sha256": sha256, "size": size}


def _failed(pack: EvidencePack, why: str) -> dict:
    with transaction.atomic():
        EvidencePack.objects.filter(pk=pack.pk).update(
            status=EvidencePack.Status.FAILED, error=why, finished_at=timezone.now(), stage=""
        )
        audit_record(action="evidence_pack.failed", obj=pack, parent=pack.use_case, reason=why)
    return {"pack": pack.pk, "status": "failed", "error": why}


def evidence_pack_downloaded(*, pack: EvidencePack, user: Any) -> None:
    """Who took a copy of a pack, in the trail."""
    audit_record(action="evidence_pack.downloaded", obj=pack, actor=user, parent=pack.use_case)
