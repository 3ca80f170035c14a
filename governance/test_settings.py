"""Test settings: only overrides of governance.settings."""

import os

from governance.settings import *  # noqa: F403
from governance.settings import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A file (not :memory:) so that a real worker process can share the test database;
# one per test process so that concurrent runs do not collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

# Under pytest-xdist each test process stores files in a folder of its own (two
# processes storing and removing the same content-addressed file would collide); the
# worker processes an integration test starts inherit it through the environment.
if os.environ.get("PYTEST_XDIST_WORKER"):
    MEDIA_ROOT = str(VAR_DIR / f"test-media-{os.environ['PYTEST_XDIST_WORKER']}")
    os.environ["DJANGO_MEDIA_ROOT"] = MEDIA_ROOT
