"""Where uploads, evidence and documents are stored (issue 17): the local disk
(``DJANGO_MEDIA_ROOT``) by default, or object storage through django-storages, chosen by
the environment (README, "Object storage"). Read from the environment
(``governance.settings`` has loaded ``.env`` before importing this module); every
variable is in ``.env.example``.

    DJANGO_STORAGE_BACKEND=storages.backends.s3.S3Storage
    DJANGO_STORAGE_OPTIONS={"bucket_name": "governance-media", "endpoint_url": "https://minio:9000"}
    AWS_ACCESS_KEY_ID=... / AWS_SECRET_ACCESS_KEY=...   (read by django-storages and boto3)

What the product needs of any backend, set here unless the options say it already:

- **Nothing is ever overwritten.** django-storages' S3 and Google Cloud backends replace
  an object of the same name by default (``file_overwrite``); a second evidence file
  uploaded under an earlier one's name would change what a signature bound. They get a
  free name instead, as on the local disk, and ``file_overwrite: true`` is refused.
- **Bounded memory.** The S3 backend reads an object it opens into a spooled buffer that,
  with its default ``max_memory_size`` of 0, never goes to disk: a scored dataset of a
  few gigabytes would be held in a worker's memory. Past ``MEDIA_STORAGE_MEMORY_BYTES``
  it goes to a temporary file in ``DJANGO_FILE_UPLOAD_TEMP_DIR``.
"""

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_NO_OVERWRITE = ("storages.backends.s3", "storages.backends.gcloud")
_S3 = "storages.backends.s3"
MEDIA_STORAGE_MEMORY_BYTES = env.int("MEDIA_STORAGE_MEMORY_BYTES", default=16 * 1024 * 1024)


def media_storage(backend: str, options: dict[str, Any]) -> dict[str, Any]:
    """``STORAGES["default"]`` for a storage backend and its options, with the product's
    defaults. Raises ImproperlyConfigured when the options would let a file replace
    another."""
    options = dict(options)
    if backend.startswith(_NO_OVERWRITE) and options.setdefault("file_overwrite", False):
        raise ImproperlyConfigured(
            "DJANGO_STORAGE_OPTIONS: file_overwrite must be false: a stored file "
            "(evidence a signature binds) is never replaced by another of its name."
        )
    if backend.startswith(_S3):
        options.setdefault("max_memory_size", MEDIA_STORAGE_MEMORY_BYTES)
    return {"BACKEND": backend, "OPTIONS": options}


MEDIA_STORAGE = (
    media_storage(env.str("DJANGO_STORAGE_BACKEND"), env.json("DJANGO_STORAGE_OPTIONS", default={}))
    if env.str("DJANGO_STORAGE_BACKEND", default="")
    else None
)
