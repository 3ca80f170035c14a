"""The embedded broker: kombu's filesystem transport, made safe to lose a worker.

kombu's own ``filesystem://`` transport has two faults that lose work:

- a producer creates the message file and then writes it, so a worker polling at that
  moment reads an empty or half-written file (JSONDecodeError: the worker exits);
- a worker deletes the message when it picks it up, so a worker killed mid-task
  (kill -9, power cut) loses the message whatever ``task_acks_late`` says.

This subclass, selected by ``CELERY_BROKER_TRANSPORT`` with ``filesystem://``:

- writes each message to a ``.part`` name and renames it into place (atomic on POSIX),
  so a reader only ever sees whole messages; a file that still does not parse (left by
  an older producer) is skipped while it is young and set aside in ``failed/`` after;
- claims a message by renaming it into ``processing/`` under its consumer's name, and
  deletes it only on ack; reject, requeue and a warm shutdown put it back;
- every consuming process holds an exclusive ``flock`` on an owner file for its whole
  life. The kernel drops that lock when the process dies, however it dies, so any
  consumer's periodic sweep (every ``restore_interval`` s, and at its first poll) puts
  the messages of a dead owner back at once. A message held by a live owner for longer
  than ``visibility_timeout`` is put back too (set it above the longest task limit).

Standard library and kombu only; no Django.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

OWNER_SUFFIX = ".owner"
SEPARATOR = "~"
PART_SUFFIX = ".part"


class Channel(filesystem.Channel):
    """Filesystem channel with atomic writes and redelivery of a dead consumer's messages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._claimed: dict[str, Path] = {}  # delivery tag -> file in processing/
        self._no_ack_queues: set[str] = set()
        self._owner: str | None = None
        self._owner_file = None
        self._owner_path: Path | None = None
        self._last_sweep = 0.0

    # --- options ------------------------------------------------------------------

    @property
    def processing_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "processing"
        return Path(self.transport_options.get("processing_folder", default))

    @property
    def failed_folder(self) -> Path:
        default = Path(self.data_folder_in).parent / "failed"
        return Path(self.transport_options.get("failed_folder", default))

    @property
    def visibility_timeout(self) -> float:
        return float(self.transport_options.get("visibility_timeout", 7200))

    @property
    def restore_interval(self) -> float:
        return float(self.transport_options.get("restore_interval", 5))

    @property
    def unreadable_grace(self) -> float:
        return float(self.transport_options.get("unreadable_grace", 30))

    # --- writing ------------------------------------------------------------------

    def _put(self, queue, payload, **kwargs):
        """Write the message under a temporary name, then rename it into the queue."""
        name = f"{int(time.time() * 1000):013d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        part = final + PART_SUFFIX
        try:
            with open(part, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(part, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(part)
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    # --- consuming ----------------------------------------------------------------

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_get(queue, no_ack=no_ack, **kwargs)

    def _ensure_owner(self) -> str:
        """Take this process's owner lock (once): held until the process dies."""
        if self._owner is None:
            folder = self.processing_folder
            folder.mkdir(parents=True, exist_ok=True)
            owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            # Locked under a temporary name first: a sweep must never see the owner file
            # unlocked, or it would take a live consumer for a dead one.
            part = folder / f"{owner}{OWNER_SUFFIX}{PART_SUFFIX}"
            handle = open(part, "wb")  # noqa: SIM115 - held open for the process's life
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._owner_path = folder / f"{owner}{OWNER_SUFFIX}"
            os.replace(part, self._owner_path)
            self._owner, self._owner_file = owner, handle
        return self._owner

    def _get(self, queue):
        """Claim the oldest whole message of ``queue`` (rename into processing/)."""
        self._maybe_sweep()
        suffix = f".{queue}.msg"
        no_ack = queue in self._no_ack_queues
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != suffix[1:]:
                continue
            source = os.path.join(self.data_folder_in, filename)
            claimed = self.processing_folder / f"{self._ensure_owner()}{SEPARATOR}{filename}"
            try:
                os.rename(source, claimed)
            except OSError:
                continue  # another consumer claimed it first
            payload = self._read_claimed(claimed, source)
            if payload is None:
                continue
            if no_ack:
                with contextlib.suppress(OSError):
                    os.remove(claimed)
            else:
                with contextlib.suppress(OSError):
                    os.utime(claimed)  # the claim's time, for the visibility timeout
                tag = payload.get("properties", {}).get("delivery_tag")
                if tag:
                    self._claimed[tag] = claimed
            return payload
        raise Empty()

    def _read_claimed(self, claimed: Path, source: str):
        """The message in ``claimed``; None (file put back or set aside) if it is unreadable."""
        try:
            payload = loads(bytes_to_str(claimed.read_bytes()))
            if isinstance(payload, dict):
                return payload
        except (OSError, ValueError):
            pass
        try:
            age = time.time() - claimed.stat().st_mtime
        except OSError:
            return None
        if age < self.unreadable_grace:
            with contextlib.suppress(OSError):
                os.rename(claimed, source)  # may still be being written: try later
        else:
            self.failed_folder.mkdir(parents=True, exist_ok=True)
            logger.error("Unreadable broker message set aside: %s", claimed.name)
            with contextlib.suppress(OSError):
                os.rename(claimed, self.failed_folder / claimed.name)
        return None

    def _release(self, delivery_tag) -> None:
        claimed = self._claimed.pop(delivery_tag, None)
        if claimed is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(claimed)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._release(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)  # requeue writes a new copy
        self._release(delivery_tag)

    def _restore(self, message):
        super()._restore(message)
        self._release(message.delivery_tag)

    # --- redelivery ---------------------------------------------------------------

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if self._last_sweep and now - self._last_sweep < self.restore_interval:
            return
        self._last_sweep = now
        try:
            self.restore_orphans()
        except OSError:
            logger.exception("Could not sweep the broker's processing folder")

    def restore_orphans(self) -> int:
        """Put back the messages of dead consumers and those held past the visibility
        timeout. Returns how many were put back."""
        folder = self.processing_folder
        if not folder.is_dir():
            return 0
        entries = os.listdir(folder)
        dead = {
            name[: -len(OWNER_SUFFIX)]
            for name in entries
            if name.endswith(OWNER_SUFFIX) and self._owner_is_dead(folder / name)
        }
        alive_owners = {n[: -len(OWNER_SUFFIX)] for n in entries if n.endswith(OWNER_SUFFIX)}
        restored = 0
        for name in entries:
            owner, sep, original = name.partition(SEPARATOR)
            if not sep or owner == self._owner:
                continue
            path = folder / name
            if owner in alive_owners and owner not in dead and not self._expired(path):
                continue
            with contextlib.suppress(OSError):
                os.rename(path, os.path.join(self.data_folder_in, original))
                restored += 1
        for owner in dead:
            with contextlib.suppress(OSError):
                os.remove(folder / f"{owner}{OWNER_SUFFIX}")
        if restored:
            logger.warning("Broker: put back %d message(s) of a lost consumer", restored)
        return restored

    def _expired(self, path: Path) -> bool:
        try:
            return time.time() - path.stat().st_mtime > self.visibility_timeout
        except OSError:
            return False

    @staticmethod
    def _owner_is_dead(path: Path) -> bool:
        """True when nobody holds the owner's lock (its process and children are gone)."""
        try:
            handle = open(path, "rb")  # noqa: SIM115
        except OSError:
            return False
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return True

    def close(self):
        super().close()  # restores unacked messages (warm shutdown)
        if self._owner_file is not None:
            if not self._claimed:
                with contextlib.suppress(OSError):
                    os.remove(self._owner_path)
            self._owner_file.close()  # whatever is still claimed is put back by a sweep
            self._owner_file = None


class Transport(filesystem.Transport):
    """``filesystem://`` with atomic writes and redelivery (see the module docstring)."""

    Channel = Channel
