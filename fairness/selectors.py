"""Reads of scored datasets and bias summaries (issue #5): lists per version, a
summary's live progress, a local path to read a stored file from whatever storage
holds it, and the rows of the summary's tables and CSV export."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet, Sum

from accounts.permissions import AnyUser
from accounts.upload_temp import upload_temp_dir
from fairness.models import BiasPartial, BiasSummary, ScoredDataset
from inventory.models import ModelVersion
from inventory.selectors import use_case_list

RATE_COLUMNS = [
    ("selection_rate", "Selection rate"),
    ("base_rate", "Base rate"),
    ("tpr", "TPR"),
    ("fpr", "FPR"),
    ("fnr", "FNR"),
    ("precision", "Precision"),
    ("accuracy", "Accuracy"),
]
DISPARITY_LABELS = {
    "demographic_parity": "Demographic parity (selection rate)",
    "equal_opportunity": "Equal opportunity (TPR)",
    "false_positive_rate_parity": "False-positive-rate parity (FPR)",
    "equalized_odds": "Equalized odds (TPR and FPR)",
    "predictive_parity": "Predictive parity (precision)",
}


def scored_dataset_list(*, version: ModelVersion | None = None) -> QuerySet[ScoredDataset]:
    qs = ScoredDataset.objects.select_related("model_version__model__use_case", "uploaded_by")
    if version is not None:
        qs = qs.filter(model_version=version)
    return qs


def scored_dataset_get(*, pk: int) -> ScoredDataset:
    """Raises ScoredDataset.DoesNotExist."""
    return scored_dataset_list().get(pk=pk)


def scored_dataset_readable_get(*, user: AnyUser, pk: int) -> ScoredDataset:
    """The dataset when the user may read its use case; raises ScoredDataset.DoesNotExist
    when it is missing or invisible."""
    return ScoredDataset.objects.select_related("model_version__model__use_case").get(
        pk=pk,
        model_version__model__use_case__in=use_case_list(user=user).values("pk"),
    )


def scored_dataset_progress(dataset: ScoredDataset) -> dict[str, Any]:
    """An upload's validation as the version page's progress bar and the API show it:
    rows checked (of the rows counted from the file, when known), the state and, once
    rejected, the reason with its column and row."""
    total = dataset.rows or 0
    done = total if dataset.status == ScoredDataset.Status.VALID else dataset.rows_done
    percent = round(100.0 * min(done, total) / total, 1) if total else 0.0
    label = f"{done:,} rows checked" + (f" of {total:,} ({percent}%)" if total else "")
    return {
        "id": dataset.pk,
        "status": dataset.status,
        "status_display": dataset.get_status_display(),
        "rows_done": done,
        "rows_total": total,
        "percent": percent,
        "label": label,
        "error": dataset.error,
        "error_column": dataset.error_column or None,
        "error_row": dataset.error_row,
        "finished": dataset.status != ScoredDataset.Status.VALIDATING,
    }


def scored_dataset_validation(dataset: ScoredDataset) -> dict[str, Any]:
    """The part of ``scored_dataset_progress`` the API shows beside the status and error:
    rows checked so far, and the rejection's column and row."""
    data = scored_dataset_progress(dataset)
    keys = ("rows_done", "rows_total", "percent", "error_column", "error_row")
    return {k: data[k] for k in keys}


def bias_summary_list(
    *, version: ModelVersion | None = None, dataset: ScoredDataset | None = None
) -> QuerySet[BiasSummary]:
    qs = BiasSummary.objects.select_related(
        "dataset__model_version__model__use_case", "requested_by"
    ).defer("result", "counts")
    if version is not None:
        qs = qs.filter(dataset__model_version=version)
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    return qs


def bias_summary_get(*, pk: int) -> BiasSummary:
    """Raises BiasSummary.DoesNotExist."""
    return BiasSummary.objects.select_related(
        "dataset__model_version__model__use_case", "requested_by"
    ).get(pk=pk)


def bias_summary_progress(summary: BiasSummary) -> dict[str, Any]:
    """Status and progress as the page's progress bar and the API show it."""
    rows_done, parts_done = summary.rows_done, 0
    if summary.parts_total:
        agg = BiasPartial.objects.filter(summary=summary).aggregate(rows=Sum("rows_done"))
        rows_done = agg["rows"] or 0
        parts_done = BiasPartial.objects.filter(summary=summary, done=True).count()
    total = summary.rows_total or summary.dataset.rows
    if summary.status == BiasSummary.Status.DONE:
        rows_done = total
    rows_done = min(rows_done, total)
    return {
        "id": summary.pk,
        "status": summary.status,
        "status_display": summary.get_status_display(),
        "rows_done": rows_done,
        "rows_total": total,
        "percent": round(100.0 * rows_done / total, 1) if total else 0.0,
        "parts_total": summary.parts_total,
        "parts_done": parts_done,
        "attempts": summary.attempts,
        "error": summary.error,
        "finished": summary.status in (BiasSummary.Status.DONE, BiasSummary.Status.FAILED),
    }


def _s3_download(src, out) -> bool:
    """Stream a django-storages S3 file's object into ``out`` as the backend's own read
    would (its transfer settings, its download parameters such as SSE-C keys), without
    its in-memory buffer. False for any other storage's file."""
    obj, storage = getattr(src, "obj", None), getattr(src, "_storage", None)
    if not callable(getattr(obj, "download_fileobj", None)) or storage is None:
        return False
    from boto3.s3.transfer import S3Transfer

    params = storage.get_object_parameters(src.name)
    extra = {k: v for k, v in params.items() if k in S3Transfer.ALLOWED_DOWNLOAD_ARGS}
    obj.download_fileobj(out, ExtraArgs=extra, Config=storage.transfer_config)
    return True


@contextlib.contextmanager
def scored_dataset_local_path(dataset: ScoredDataset) -> Iterator[str]:
    """A local file path holding the dataset's bytes, for the pyarrow readers.

    With local storage this is the stored file itself. With object storage (S3...) the
    object is downloaded into this process's spool folder (``accounts.upload_temp``: a
    killed worker's leftovers are swept) and removed on exit; django-storages' S3 file
    is streamed straight to that file (a ranged, parallel download), never held whole
    in memory (issue 17).
    """
    try:
        path = default_storage.path(dataset.file.name)
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="scored-", suffix=f".{dataset.format}", dir=upload_temp_dir())
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(dataset.file.name, "rb") as src:
            if not _s3_download(src, out):
                shutil.copyfileobj(src, out, 1 << 22)
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


# --- tables and CSV ---------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _rate_cell(m: dict[str, Any]) -> dict[str, str]:
    ci = f"[{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]" if m["ci_low"] is not None else ""
    return {"value": _fmt(m["value"]), "ci": ci, "reason": m["reason"] or ""}


def _four_fifths(row: dict | None) -> str:
    if row is None or row["four_fifths_rule_breached"] is None:
        return "na"
    return "breached" if row["four_fifths_rule_breached"] else "met"


def _group_row(g: dict[str, Any], row: dict | None) -> dict[str, Any]:
    """One group's display row; ``row`` is its comparison with the reference, if any."""
    auc = g.get("roc_auc") or {}
    return {
        "label": g["label"],
        "count": g["count"],
        "small": g["small_group"],
        "rates": [_rate_cell(g["metrics"][key]) for key, _label in RATE_COLUMNS],
        "roc_auc": _fmt(auc.get("value")) if auc else "",
        "is_reference": bool(row and row["is_reference"]),
        "disparate_impact": _fmt(row["disparate_impact"]) if row else "—",
        "four_fifths": _four_fifths(row),
        "fpr_diff": _fmt(row["fpr"]["difference"]) if row else "—",
        "tpr_diff": _fmt(row["tpr"]["difference"]) if row else "—",
    }


def _disparity_row(label: str, d: dict[str, Any]) -> dict[str, str]:
    between = d.get("groups") or [d.get("min_group"), d.get("max_group")]
    return {
        "label": label,
        "difference": _fmt(d["difference"]),
        "ratio": _fmt(d["ratio"]),
        "between": " vs ".join(x for x in between if x),
        "reason": d["reason"] or "",
    }


def bias_summary_tables(result: dict) -> list[dict[str, Any]]:
    """One table per attribute and intersection: display-ready rows (no logic left for
    the template)."""
    blocks = []
    for block in result["by_attribute"]:
        against = {row["group"]: row for row in block["against_reference"]}
        blocks.append(
            {
                "name": block["name"],
                "intersection": block["intersection"],
                "reference": block["reference"],
                "groups": [_group_row(g, against.get(g["label"])) for g in block["groups"]],
                "disparities": [
                    _disparity_row(label, block["between_groups"][key])
                    for key, label in DISPARITY_LABELS.items()
                ],
                "excluded": block["excluded_small_groups"],
                "breaches": block["breaches"],
                "scored": result["roc_auc"]["available"],
            }
        )
    return blocks


CSV_HEADER = [
    "attribute",
    "group",
    "count",
    "small_group",
    *[f"{k}{s}" for k, _ in RATE_COLUMNS for s in ("", "_ci_low", "_ci_high")],
    "roc_auc",
    "is_reference",
    "disparate_impact",
    "four_fifths_rule_breached",
]


def bias_summary_csv_rows(result: dict) -> Iterator[list[Any]]:
    """The summary as CSV rows (header first): one row per group of every attribute and
    intersection. Cells are raw values; the view neutralises formula-like text."""
    yield CSV_HEADER
    for block in result["by_attribute"]:
        against = {row["group"]: row for row in block["against_reference"]}
        for g in block["groups"]:
            row = against.get(g["label"])
            cells: list[Any] = [block["name"], g["label"], g["count"], g["small_group"]]
            for key, _ in RATE_COLUMNS:
                m = g["metrics"][key]
                cells += [m["value"], m["ci_low"], m["ci_high"]]
            auc = g.get("roc_auc")
            cells.append(auc["value"] if auc else None)
            cells.append(bool(row and row["is_reference"]))
            cells.append(row["disparate_impact"] if row else None)
            cells.append(row["four_fifths_rule_breached"] if row else None)
            yield ["" if c is None else c for c in cells]


def bias_summary_latest_for_use_case(*, use_case) -> BiasSummary | None:
    """The newest finished bias summary of any of the use case's versions, or None."""
    return (
        BiasSummary.objects.filter(
            dataset__model_version__model__use_case=use_case, status=BiasSummary.Status.DONE
        )
        .select_related("dataset__model_version__model")
        .order_by("-finished_at", "-pk")
        .first()
    )
