"""Upload spool folders per web process (issue 13: a killed upload left its temporary
file behind): what a dead process left is swept, a live process's folder never is,
whatever the order; Django's disk upload handler spools into the process's folder."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from accounts import upload_temp
from accounts.upload_temp import PREFIX, upload_temp_dir, upload_temp_sweep

# A process that takes its upload folder (the real function) and waits to be killed.
CHILD = """
import os, time
from accounts.upload_temp import upload_temp_dir
folder = upload_temp_dir()
open(os.path.join(folder, "tmp-half.upload.csv"), "wb").write(b"half an upload")
print(folder, flush=True)
time.sleep(120)
"""


@pytest.fixture
def root(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    upload_temp._own.clear()  # this process takes a new folder under this root
    yield tmp_path / "uploads"
    upload_temp._own.clear()


def web_process(root):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.test_settings",
        "DJANGO_FILE_UPLOAD_TEMP_DIR": str(root),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    folder = child.stdout.readline().strip()
    assert folder.startswith(str(root)), folder
    return child, folder


def test_a_dead_processs_folder_is_swept_a_live_ones_is_kept(root):
    dead, dead_folder = web_process(root)
    alive, alive_folder = web_process(root)
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(10)
        assert os.path.exists(os.path.join(dead_folder, "tmp-half.upload.csv"))
        assert upload_temp_sweep() == 1
        assert not os.path.exists(dead_folder)
        assert os.path.exists(os.path.join(alive_folder, "tmp-half.upload.csv"))
        assert upload_temp_sweep() == 0  # idempotent
    finally:
        alive.kill()
        alive.wait(10)
    assert upload_temp_sweep() == 1
    assert list(root.iterdir()) == []


def test_this_processs_own_folder_is_never_swept(root):
    mine = upload_temp_dir()
    assert os.path.basename(mine).startswith(PREFIX) and os.path.dirname(mine) == str(root)
    (root / "x").mkdir()  # not a process folder: left alone
    assert upload_temp_sweep() == 0
    assert os.path.isdir(mine) and upload_temp_dir() == mine


def test_loose_files_are_removed_once_older_than_the_limit(root, settings):
    settings.UPLOAD_TEMP_MAX_HOURS = 6
    old, fresh = root / "tmpold.upload", root / "tmpfresh.upload"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    long_ago = time.time() - 7 * 3600
    os.utime(old, (long_ago, long_ago))
    assert upload_temp_sweep() == 1
    assert not old.exists() and fresh.exists()


def test_a_large_upload_is_spooled_in_the_processs_folder(root, settings):
    from accounts.upload_temp import ProcessTemporaryFileUploadHandler

    handler = ProcessTemporaryFileUploadHandler()
    handler.new_file("file", "scores.csv", "text/csv", 10)
    handler.receive_data_chunk(b"a,b\n1,2\n", 0)
    uploaded = handler.file_complete(8)
    path = uploaded.temporary_file_path()
    assert os.path.dirname(path) == upload_temp_dir()
    assert path.endswith(".upload.csv") and uploaded.read() == b"a,b\n1,2\n"
    uploaded.close()
    assert not os.path.exists(path)
    assert settings.FILE_UPLOAD_HANDLERS == [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",  # small ones: in memory
        "accounts.upload_temp.ProcessTemporaryFileUploadHandler",
    ]
