"""Serving a stored file (obligation evidence, scored datasets) to a person who may read
it: the one download helper of the product (issue 12: evidence is available).

The caller decides who may read the file (its use case's visibility) and passes the
stored file, the SHA-256 recorded when it was stored and a name. The bytes are hashed
again, in chunks, from the same open handle that is then streamed
(``FileResponse``), so what is served is what was checked. A missing file or a
different SHA-256 serves nothing: the person gets a 409 that says why, and the audit
trail gets an event naming the object, the expected and the found digest.

The response is always an attachment (``Content-Disposition: attachment`` with a
safe file name), with an explicit content type, ``X-Content-Type-Options: nosniff``,
a sandboxing Content-Security-Policy and no shared caching: a browser never renders
an uploaded HTML or SVG file as a page of the dashboard.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath
from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from audit.services import audit_record

CHUNK_BYTES = 1 << 20

# What each accepted kind of file is served as; anything else is a plain download.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "zip": "application/zip",
    "parquet": "application/vnd.apache.parquet",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class StoredFileError(Exception):
    """A stored file that cannot be served: missing, never hashed, or altered."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def safe_filename(name: str, *, fallback: str) -> str:
    """A file name safe in a Content-Disposition header and on any disk: the last path
    part, without control characters, quotes, slashes or leading dots; ``fallback``
    when nothing is left."""
    base = PurePosixPath(str(name or "").replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r'["<>:|?*;/\\]', "_", base).strip().lstrip(".").strip()
    return base[:150] or fallback


def content_type_for(filename: str) -> str:
    ext = PurePosixPath(filename).suffix.lower().lstrip(".")
    return CONTENT_TYPES.get(ext, DEFAULT_CONTENT_TYPE)


def _refuse(*, obj: Any, what: str, code: str, message: str, changes=None) -> StoredFileError:
    audit_record(
        action=f"download.{code}",
        obj=obj,
        changes=changes or {},
        reason=f"{what}: {message}",
    )
    return StoredFileError(code, message)


def stored_file_open_verified(*, file: FieldFile, sha256: str, obj: Any, what: str):
    """The stored file opened for reading, positioned at its start, after its bytes
    hashed to ``sha256``. Raises StoredFileError (and records an audit event) when the
    file is missing, no SHA-256 was recorded, or the bytes hash differently."""
    if not file or not file.name:
        raise Http404(f"{what} has no stored file.")
    expected = (sha256 or "").strip().lower()
    if not expected:
        raise _refuse(
            obj=obj,
            what=what,
            code="sha256_missing",
            message="No SHA-256 was recorded for this file, so it cannot be verified; "
            "it was not served.",
        )
    try:
        handle = file.storage.open(file.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise _refuse(
            obj=obj,
            what=what,
            code="file_missing",
            message="The stored file is missing from storage; nothing was served. "
            "The event is in the audit trail.",
        ) from exc
    digest = hashlib.sha256()
    try:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
        found = digest.hexdigest()
        if found != expected:
            raise _refuse(
                obj=obj,
                what=what,
                code="sha256_mismatch",
                message=f"The stored file no longer matches the SHA-256 recorded when it "
                f"was stored (recorded {expected}, found {found}). It was not served; "
                "the mismatch is recorded in the audit trail.",
                changes={"sha256": [expected, found]},
            )
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def stored_file_response(
    *, file: FieldFile, sha256: str, filename: str, obj: Any, what: str
) -> FileResponse:
    """A streamed attachment of a verified stored file (see the module docstring).
    Raises StoredFileError as ``stored_file_open_verified``."""
    handle = stored_file_open_verified(file=file, sha256=sha256, obj=obj, what=what)
    fallback = f"{obj._meta.model_name}-{obj.pk}"
    name = safe_filename(filename or file.name, fallback=fallback)
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type=content_type_for(name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["X-Checksum-SHA256"] = sha256
    return response


def download_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """``stored_file_response`` for a page: a refusal is a 409 page saying why."""
    try:
        return stored_file_response(**kwargs)
    except StoredFileError as exc:
        return render(
            request,
            "audit/download_error.html",
            {"message": exc.message, "code": exc.code, "what": kwargs.get("what", "")},
            status=409,
        )


def download_api(**kwargs: Any) -> HttpResponse:
    """``stored_file_response`` for the API: a refusal is a 409 JSON body with a code."""
    try:
        return stored_file_response(**kwargs)
    except StoredFileError as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code.replace("_", "-")}, status=409)


def download_schema(*, summary: str, not_found: str):
    """The OpenAPI description every download endpoint shares: the bytes, 404, and 409
    when the stored file fails its SHA-256."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiResponse, extend_schema

    # Every media type a stored file may be served as (issue 13: a Parquet file came
    # back as a type the schema did not name).
    served = sorted({t.split(";")[0] for t in CONTENT_TYPES.values()} | {DEFAULT_CONTENT_TYPE})
    return extend_schema(
        summary=summary,
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in served},
            404: OpenApiResponse(description=not_found),
            409: OpenApiResponse(description="The stored file fails its SHA-256; nothing served."),
        },
    )
