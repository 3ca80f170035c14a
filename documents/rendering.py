"""A document's content as PDF (Chromium prints the same HTML the figures draw in,
offline: plotly.js and the chart script are the dashboard's static files, read from
disk) and as Word (python-docx).

Chromium is a system package (``apt-get install chromium``): without it a document has
its Word file and says why it has no PDF. Its charts are SVG drawn by plotly.js, so
they stay vector in the PDF; for Word the same plotly.js exports each chart as SVG
(and a PNG for readers without SVG) in Chromium, offline (``export_charts``).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from html import escape as html_escape
from html import unescape as html_unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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


def _chromium_run(html: str, *, action: str) -> bytes:
    """Chromium on ``html`` with no network: ``action`` "pdf" prints it (the PDF's
    bytes), "dom" dumps the DOM once its scripts ran (stdout). Its own session, so that
    a run that hangs is ended with all its processes."""
    binary = chromium()
    if binary is None:
        raise RenderingUnavailable(pdf_unavailable_reason())
    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR) as scratch:
        page = Path(scratch) / "document.html"
        page.write_text(html, encoding="utf-8")
        out = Path(scratch) / "document.pdf"
        profile = Path(scratch) / "profile"
        what = f"--print-to-pdf={out}" if action == "pdf" else "--dump-dom"
        argv = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", what, page.as_uri()]
        # The binary is the configured or installed Chromium; the arguments are ours.
        process = subprocess.Popen(  # noqa: S603
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            dom, errors = process.communicate(timeout=PRINT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(f"Chromium ran over {PRINT_TIMEOUT_SECONDS} s") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers left behind, if any
        if action == "dom":
            return dom
        if not out.exists() or out.stat().st_size == 0:
            tail = errors.decode("utf-8", "replace")[-500:]
            raise RuntimeError(f"Chromium made no PDF (exit {process.returncode}): {tail}")
        return out.read_bytes()


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF by headless Chromium, with no network."""
    return _chromium_run(html, action="pdf")


EXPORT_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src file:; \
style-src 'unsafe-inline'; img-src data: blob:; font-src file:">
</head><body>{figures}<script src="{plotly}"></script><script src="{export}"></script>
</body></html>"""


# What may not appear inside a <script> element's JSON (as Django's json_script).
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def json_for_script(value: Any) -> str:
    return json.dumps(value).translate(_SCRIPT_ESCAPES)


def export_charts(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each Plotly figure as SVG (text) and PNG (bytes), drawn by the same plotly.js as
    the pages, in Chromium with no network; {} when Chromium is not here or nothing
    came out (the Word file then says where the chart is)."""
    if not figures or chromium() is None:
        return {}
    scripts = "".join(
        f'<script type="application/json" data-figure="{html_escape(name)}">'
        f"{json_for_script(figure)}</script>"
        for name, figure in figures.items()
    )
    page = EXPORT_PAGE.format(
        figures=scripts,
        plotly=_static_url("vendor/plotly/plotly-strict.min.js"),
        export=_static_url("js/chart_export.js"),
    )
    dom = _chromium_run(page, action="dom").decode("utf-8", "replace")
    found = re.search(r'<pre id="exported">(.*?)</pre>', dom, re.S)
    if not found:
        return {}
    exported = json.loads(html_unescape(found.group(1)))
    out = {}
    for name, images in exported.get("figures", {}).items():
        svg_url, png_url = images.get("svg", ""), images.get("png", "")
        if not svg_url.startswith("data:image/svg+xml") or "base64," not in png_url:
            continue
        out[name] = {
            "svg": unquote(svg_url.split(",", 1)[1]),
            "png": base64.b64decode(png_url.split("base64,", 1)[1]),
            "width": images.get("width"),
            "height": images.get("height"),
        }
    return out


def render_docx(context: dict[str, Any], charts: dict[str, dict] | None = None) -> bytes:
    """The document as an editable Word file; ``charts`` (``export_charts``) puts each
    chart in as a vector image (SVG, with a PNG for readers without SVG)."""
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
            if block["type"] == "chart" and (charts or {}).get(block["figure"]):
                _docx_chart(word, block, charts[block["figure"]])
            else:
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


SVG_BLIP_EXT = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"  # Office's SVG extension
SVG_NS = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"


def _docx_chart(word, block: dict[str, Any], image: dict[str, Any]) -> None:
    """A chart as a picture: the PNG as the image every reader shows, the SVG attached
    by Office's SVG extension (``asvg:svgBlip``), which Word 2016 and later and
    LibreOffice draw instead, as vectors."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml.ns import qn
    from docx.shared import Mm
    from lxml import etree

    word.add_paragraph(block["title"]).runs[0].bold = True
    run = word.add_paragraph().add_run()
    width = Mm(170)
    picture = run.add_picture(io.BytesIO(image["png"]), width=width)
    package = word.part.package
    name = package.next_partname("/word/media/chart%d.svg")
    svg = Part(PackURI(name), "image/svg+xml", image["svg"].encode("utf-8"), package)
    rel_id = word.part.relate_to(svg, RT.IMAGE)
    blip = picture._inline.xpath(".//a:blip")[0]
    ext_list = etree.SubElement(blip, qn("a:extLst"))
    ext = etree.SubElement(ext_list, qn("a:ext"), uri=SVG_BLIP_EXT)
    svg_blip = etree.SubElement(ext, f"{{{SVG_NS}}}svgBlip", nsmap={"asvg": SVG_NS})
    svg_blip.set(qn("r:embed"), rel_id)
    picture._inline.docPr.set("descr", block.get("label") or block["title"])


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
