"""A document's content as PDF (Chromium prints the same HTML the figures draw in,
offline: plotly.js and the chart script are the dashboard's static files, read from
disk) and as Word (python-docx).

Chromium is a system package (``apt-get install chromium``): without it a document has
its Word file and says why it has no PDF. Its charts are SVG drawn by plotly.js, so
they stay vector in the PDF. Word has no SVG: a chart there is its title and the
table of its numbers (already in the section).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

PRINT_TIMEOUT_SECONDS = 120
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--virtual-time-budget=20000",
    # Nothing is fetched from the network: every name resolves to nothing.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
# Characters XML 1.0 (and so Word) cannot hold: control characters but tab, LF and CR.
XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _cleaned(value: Any) -> Any:
    """``value`` with every string stripped of what Word cannot hold (pasted text brings
    vertical tabs and form feeds)."""
    if isinstance(value, str):
        return XML_INVALID.sub("", value)
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


class RenderingUnavailable(Exception):
    """What a format needs is not installed here; the message says what."""


def chromium() -> str | None:
    configured = getattr(settings, "DOCUMENTS_CHROMIUM", "")
    for candidate in (
        configured,
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def pdf_unavailable_reason() -> str:
    """Why PDFs cannot be made here ("" when they can)."""
    if chromium():
        return ""
    return (
        "No PDF: Chromium is not installed on the worker's machine (Debian: apt-get "
        "install chromium; or set DOCUMENTS_CHROMIUM to its path). The Word file is made."
    )


def _static_url(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise RenderingUnavailable(f"The static file {path} is missing.")
    return Path(found).resolve().as_uri()


def document_html(context: dict[str, Any]) -> str:
    return render_to_string(
        "documents/print/document.html",
        {
            **context,
            "plotly_js": _static_url("vendor/plotly/plotly-strict.min.js"),
            "charts_js": _static_url("js/charts.js"),
        },
    )


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF by headless Chromium, with no network."""
    binary = chromium()
    if binary is None:
        raise RenderingUnavailable(pdf_unavailable_reason())
    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR) as scratch:
        page = Path(scratch) / "document.html"
        page.write_text(html, encoding="utf-8")
        out = Path(scratch) / "document.pdf"
        profile = Path(scratch) / "profile"
        argv = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        # The binary is the configured or installed Chromium; the arguments are ours. Its
        # own session, so that a print that hangs is ended with all its processes.
        process = subprocess.Popen(  # noqa: S603
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _out, errors = process.communicate(timeout=PRINT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(f"Chromium did not print within {PRINT_TIMEOUT_SECONDS} s") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers left behind, if any
        if not out.exists() or out.stat().st_size == 0:
            tail = errors.decode("utf-8", "replace")[-500:]
            raise RuntimeError(f"Chromium made no PDF (exit {process.returncode}): {tail}")
        return out.read_bytes()


def render_docx(context: dict[str, Any]) -> bytes:
    """The document as an editable Word file."""
    from docx import Document
    from docx.shared import Pt

    context = _cleaned(context)
    doc = context["doc"]
    word = Document()
    word.core_properties.title = doc["title"]
    word.core_properties.subject = context["subject_line"]
    word.core_properties.comments = f"Content SHA-256: {context['content_sha256']}"
    word.add_heading(doc["title"], level=0)
    word.add_paragraph(context["subject_line"])
    word.add_paragraph(
        f"Generated from the governance dashboard's records by {context['generated_by']} at "
        f"{context['generated_at']} UTC. Template: {doc['template'].get('name')} version "
        f"{doc['template'].get('version')}. Content SHA-256: {context['content_sha256']}."
    )
    for section in doc["sections"]:
        word.add_heading(section["title"], level=1)
        if section["guidance"]:
            word.add_paragraph(section["guidance"]).runs[0].italic = True
        for block in section["blocks"]:
            _docx_block(word, block)
    signature = context.get("signature")
    if signature:
        report = doc["kind"] == "validation_report"
        word.add_heading("Signature of the validation record" if report else "Signature", level=1)
        word.add_paragraph(_manifestation(signature))
    own = context.get("document_signature")
    if own:
        word.add_heading("Signature of this report", level=1)
        word.add_paragraph(_manifestation(own))
        word.add_paragraph(
            f"The signature binds this report's content SHA-256 ({context['content_sha256']}), "
            f"the report as first printed (PDF SHA-256 {own['unsigned_pdf_sha256'] or '—'}, "
            f"Word SHA-256 {own['unsigned_docx_sha256'] or '—'}), the version's artifact and "
            "the validation record's signature."
        )
    word.add_heading("Records this document was built from", level=1)
    _docx_table(
        word, ["Record", "SHA-256"], [[s["record"], s.get("sha256") or "—"] for s in doc["sources"]]
    )
    for paragraph in word.paragraphs:
        for run in paragraph.runs:
            if run.font.size is None:
                run.font.size = Pt(10)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _manifestation(signature: dict[str, Any]) -> str:
    return (
        f"Signed electronically by {signature['printed_name']} at {signature['signed_at']} "
        f"UTC. Meaning: {signature['meaning_display']}. Signature hash (SHA-256 of what was "
        f"signed): {signature['manifest_hash']}."
    )


def _docx_block(word, block: dict[str, Any]) -> None:
    kind = block["type"]
    if kind == "text":
        word.add_paragraph(block["text"])
    elif kind == "missing":
        paragraph = word.add_paragraph()
        paragraph.add_run("Not yet in the records: ").bold = True
        paragraph.add_run(block["text"])
    elif kind == "facts":
        _docx_table(word, None, block["rows"])
    elif kind == "table":
        _docx_table(word, block["columns"], block["rows"])
    elif kind == "chart":
        word.add_paragraph(
            f"Chart: {block['title']} (drawn in the PDF; its numbers are in the table above)."
        )


def _docx_table(word, columns, rows) -> None:
    width = len(columns) if columns else 2
    table = word.add_table(rows=0, cols=width)
    table.style = "Table Grid"
    if columns:
        cells = table.add_row().cells
        for cell, title in zip(cells, columns, strict=True):
            cell.text = str(title)
            cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=False):
            cell.text = str(value)
