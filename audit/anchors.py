"""Anchors of the audit chain's head, kept outside the database (issue 13).

Daily (beat, ``audit.tasks.audit_anchor``) and on demand (``manage.py audit_anchor``),
``audit_anchor_record`` checks the whole chain against every earlier anchor, then
appends an anchor of its head (seq, hash, time and an HMAC, ``core.audit_anchor``) to
the anchor log, a file outside the database opened in append mode
(``AUDIT_ANCHOR_LOG``), and hands it to the ``on_anchor`` handlers (the e-mail to the
audit mailbox). ``audit_verify`` checks the chain against every anchor of the log.

The MAC's key is never in the database: ``AUDIT_ANCHOR_KEY`` (production: keep it in the
secret store, away from the database's host), or for the embedded default a key
generated once into ``AUDIT_ANCHOR_KEY_FILE`` under ``var/``. Whoever can read that file
and write the database can forge anchors too: keep the log's copies (e-mail, another
host) and, in production, the key elsewhere.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import TrailReport, trail_verify
from core import audit_chain
from core.audit_anchor import Anchor, AnchorError, make_anchor, read_anchors

logger = logging.getLogger(__name__)

_handlers: list[Callable[[Anchor], None]] = []
_failure_handlers: list[Callable[[AuditEvent], None]] = []
FAILED_ACTION = "audit.anchor_failed"


def on_anchor(handler: Callable[[Anchor], None]) -> None:
    """Register ``handler(anchor)``, called after each anchor is written (a higher app
    registers the e-mail to the audit mailbox in its ``ready()``)."""
    if handler not in _handlers:
        _handlers.append(handler)


def on_anchor_failure(handler: Callable[[AuditEvent], None]) -> None:
    """Register ``handler(event)``, called with the ``audit.anchor_failed`` event each
    time the scheduled anchor fails (a higher app registers the alert e-mail)."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


def anchor_log_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_LOG)


def anchor_key(*, create: bool = True) -> bytes | None:
    """The MAC key: ``AUDIT_ANCHOR_KEY``, else the key file (generated once, mode 0600,
    when ``create``). None when there is none and ``create`` is False."""
    if settings.AUDIT_ANCHOR_KEY:
        return settings.AUDIT_ANCHOR_KEY.encode()
    path = Path(settings.AUDIT_ANCHOR_KEY_FILE)
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def anchors_read(path: Path | None = None) -> dict[int, Anchor]:
    """Every anchor of the log (empty if there is none), each MAC checked.

    Raises AnchorError for a line that is unreadable or forged, or when the log has
    anchors but the key is missing."""
    path = path or anchor_log_path()
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    if not any(line.strip() for line in lines):
        return {}
    key = anchor_key(create=False)
    if key is None:
        raise AnchorError(
            f"the anchor log {path} has anchors but there is no anchor key to check them "
            "(AUDIT_ANCHOR_KEY or AUDIT_ANCHOR_KEY_FILE)"
        )
    return read_anchors(key, lines)


def audit_anchor_record() -> tuple[Anchor | None, TrailReport]:
    """Check the chain against every earlier anchor, then anchor its head.

    Returns the new anchor (None for an empty trail) and the report. Raises
    AnchorError (a forged or unreadable log) or ``audit.verification.TrailBroken``
    (the chain does not hold or no longer matches an anchor): nothing is written then,
    so a rewritten chain is never anchored. Side effects: one line appended to the
    anchor log; the ``on_anchor`` handlers are called."""
    key = anchor_key()
    path = anchor_log_path()
    earlier = anchors_read(path)
    report = trail_verify(anchors={seq: anchor.hash for seq, anchor in earlier.items()})
    if report.last_seq == 0:
        return None, report
    anchor = make_anchor(
        key,
        seq=report.last_seq,
        hash=report.head_hash,
        at=audit_chain.iso_utc(timezone.now()),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a") as handle:
        handle.write(anchor.line() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    for handler in list(_handlers):
        try:
            handler(anchor)
        except Exception:  # a copy that fails to go out must not undo the anchor
            logger.exception("audit anchor handler %r failed", handler)
    return anchor, report


def audit_anchor_failed(*, error: BaseException) -> AuditEvent:
    """Record that the scheduled anchor failed and alert: an ``audit.anchor_failed``
    event naming why (a log that cannot be written, a missing key, a chain that no
    longer matches its anchors...), then the ``on_anchor_failure`` handlers (the e-mail
    to the audit mailbox and the governance leads). A failed anchor must never go
    unnoticed: a cut or re-written trail is exactly what makes it fail. Returns the
    event; a handler that fails is logged and does not undo it."""
    reason = f"{type(error).__name__}: {error}"[:1000]
    logger.error("audit anchor failed: %s", reason)
    event = audit_record(
        action=FAILED_ACTION,
        object_type="audit.anchorlog",
        object_id="",
        object_repr=str(anchor_log_path())[:300],
        reason=reason,
    )
    for handler in list(_failure_handlers):
        try:
            handler(event)
        except Exception:
            logger.exception("audit anchor failure handler %r failed", handler)
    return event


def anchor_status() -> dict:
    """The anchoring's state, for the audit trail page: the newest anchor of the log
    (None when there is none or this host cannot read it), the newest
    ``audit.anchor_failed`` event, and ``failing`` when that failure is newer than the
    newest anchor (nothing anchored since it failed)."""
    try:
        anchors = anchors_read()
    except (AnchorError, OSError, ValueError):
        anchors = {}
    newest = max(anchors.values(), key=lambda a: a.at, default=None)
    failure = AuditEvent.objects.filter(action=FAILED_ACTION).order_by("-seq").first()
    failing = failure is not None and (
        newest is None or newest.at < audit_chain.iso_utc(failure.occurred_at)
    )
    return {"last_anchor": newest, "last_failure": failure, "failing": failing}
