"""Uploads spooled to disk leave nothing behind when a web process dies (issue 13).

Django writes an upload larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file
while the request body arrives, and the services spool smaller ones before checking
them; a web process killed in the middle (kill -9, the OOM killer, a host reboot)
deletes neither. So each process spools into a folder of its own under
``FILE_UPLOAD_TEMP_DIR`` (``proc-<pid>-<random>``) and holds an exclusive ``flock`` on
its ``.lock`` file for its whole life: the kernel releases the lock when the process
dies, however it dies. ``upload_temp_sweep`` removes every folder whose lock it can
take (its process is gone) and loose files older than ``UPLOAD_TEMP_MAX_HOURS``. It is
safe at any moment, beside live processes, and runs when a web process loads the
application (``governance/wsgi.py``: a restarted server or a replaced gunicorn worker
clears what the dead one left) and before each upload is spooled.

``FILE_UPLOAD_TEMP_DIR`` is local to a host (a lock on a network file system may not
tell a dead process on another host from a live one).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
import threading
import time

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

PREFIX = "proc-"
LOCK = ".lock"

_lock = threading.Lock()
_own: dict[int, tuple[str, int]] = {}  # pid -> (folder, fd holding its flock)


def upload_temp_root() -> str:
    """``FILE_UPLOAD_TEMP_DIR`` (created if missing)."""
    root = str(settings.FILE_UPLOAD_TEMP_DIR)
    os.makedirs(root, exist_ok=True)
    return root


def upload_temp_dir() -> str:
    """This process's spool folder under ``FILE_UPLOAD_TEMP_DIR``, made (and locked) on
    first use; a forked child gets a folder of its own."""
    pid = os.getpid()
    with _lock:
        own = _own.get(pid)
        if own is not None and os.path.isdir(own[0]):
            return own[0]
        name = f"{PREFIX}{pid}-{secrets.token_hex(4)}"
        # Made and locked under a name the sweep ignores, then renamed: a sweep never
        # sees a process folder whose lock is not yet held.
        making = os.path.join(upload_temp_root(), f".{name}")
        os.makedirs(making, mode=0o700)
        fd = os.open(os.path.join(making, LOCK), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        folder = os.path.join(upload_temp_root(), name)
        os.rename(making, folder)
        _own[pid] = (folder, fd)
        return folder


def _owner_gone(folder: str) -> bool:
    """True when nobody holds the folder's lock (its process is dead)."""
    try:
        fd = os.open(os.path.join(folder, LOCK), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: a live process (this one included) owns it
    finally:
        os.close(fd)  # releases the lock taken just now, if any
    return True


def upload_temp_sweep(*, now: float | None = None) -> int:
    """Remove what dead processes left in ``FILE_UPLOAD_TEMP_DIR``: every process
    folder whose lock is free, and loose files older than ``UPLOAD_TEMP_MAX_HOURS``
    (written by something else, or before process folders). Never the system's /tmp.
    Returns how many folders and files were removed."""
    root = str(settings.FILE_UPLOAD_TEMP_DIR)
    cutoff = (now or time.time()) - 3600 * int(getattr(settings, "UPLOAD_TEMP_MAX_HOURS", 6))
    removed = 0
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in list(entries):
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False) and entry.name.startswith(PREFIX):
                    if _owner_gone(entry.path):
                        shutil.rmtree(entry.path)
                        removed += 1
                elif entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                    continue
                elif entry.is_file(follow_symlinks=False):
                    os.remove(entry.path)
                    removed += 1
                elif entry.is_dir(follow_symlinks=False) and entry.name.startswith(f".{PREFIX}"):
                    shutil.rmtree(entry.path)  # a process died while making its folder
                    removed += 1
    return removed


class ProcessTemporaryUploadedFile(UploadedFile):
    """Django's ``TemporaryUploadedFile``, spooled in this process's folder."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        _, ext = os.path.splitext(name)
        file = tempfile.NamedTemporaryFile(suffix=".upload" + ext, dir=upload_temp_dir())  # noqa: SIM115 - closed with the upload, as Django's
        super().__init__(file, name, content_type, size, charset, content_type_extra)

    def temporary_file_path(self):
        return self.file.name

    def close(self):
        try:
            return self.file.close()
        except FileNotFoundError:
            pass


class ProcessTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """``FILE_UPLOAD_HANDLERS``' disk handler: large uploads go to this process's
    folder, so a killed process's half-received file is swept."""

    def new_file(self, *args, **kwargs):
        super(TemporaryFileUploadHandler, self).new_file(*args, **kwargs)
        self.file = ProcessTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
