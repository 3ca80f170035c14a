"""The demo's bias summary, loaded by ``manage.py seed_demo`` after the sign-offs: the
real COMPAS scores that ProPublica published (``../shared/datasets/compas/``, or the
file named by ``COMPAS_CSV``) filtered as its README says, attached to the newest
version of a high-tier demo use case and summarised at once (synchronously, not
through the broker) by race, sex and race x sex.

Prediction 1 ("Medium" or "High" risk) is the adverse decision, so the summary
compares the rates of the favourable prediction for disparate impact, against the
reference groups Caucasian and Male. It shows COMPAS's well-known finding: the
false-positive rate of African-American defendants is about twice that of Caucasian
defendants, which breaches the equalized-odds threshold and opens findings.

Idempotent: the same bytes attached again return the stored dataset, and the same
options the stored summary. Skipped, with a note, when the COMPAS file is absent.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from fairness import services as svc
from fairness.models import BiasSummary
from inventory.models import ModelVersion, UseCase
from inventory.permissions import can_change_version

USE_CASE = "Retail credit application scoring"
FILE_NAME = "compas_two_year_propublica_filter.csv"
DESCRIPTION = (
    "ProPublica's COMPAS two-year recidivism scores (Broward County, 2013-2014), "
    "de-identified, with ProPublica's filter: a public benchmark standing in for this "
    "model's validation sample in the demo. Prediction 1 = Medium or High risk."
)
COMPAS_CSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "compas"
COMPAS_CSV = COMPAS_CSV / "compas_two_year_deidentified.csv"
MAPPING = {
    "outcome": "two_year_recid",
    "prediction": "predicted_high_risk",
    "score": "score",
    "sensitive": ["race", "sex"],
    "timestamp": "screening_date",
    "id": "record",
}
REFERENCE = {"race": "Caucasian", "sex": "Male"}
COLUMNS = ["record", "race", "sex", "two_year_recid", "predicted_high_risk", "score",
           "screening_date"]  # fmt: skip


def compas_path() -> Path:
    return Path(os.environ.get("COMPAS_CSV", COMPAS_CSV))


def compas_filtered_csv(path: Path) -> bytes:
    """The COMPAS rows ProPublica kept, with the columns the summary maps (deterministic)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            days = row["days_b_screening_arrest"].strip()
            if not days or not -30 <= float(days) <= 30:
                continue
            if row["is_recid"] == "-1" or row["c_charge_degree"] == "O":
                continue
            if row["score_text"] in ("N/A", ""):
                continue
            writer.writerow(
                [
                    row["record"],
                    row["race"],
                    row["sex"],
                    row["two_year_recid"],
                    int(row["score_text"] in ("Medium", "High")),
                    f"{int(row['decile_score']) / 10:.1f}",
                    row["screening_date"],
                ]
            )
    return out.getvalue().encode()


def load(*, users: dict[str, User], note: Callable[..., None]) -> BiasSummary | None:
    path = compas_path()
    if not path.exists():
        note("bias summary", f"skipped: the COMPAS file {path} is absent", False)
        return None
    use_case = UseCase.objects.filter(name=USE_CASE).first()
    version = (
        ModelVersion.objects.filter(model__use_case=use_case)
        .order_by("-registered_at", "-id")
        .first()
        if use_case
        else None
    )
    if version is None:
        note("bias summary", f"skipped: no version of {USE_CASE!r}", False)
        return None
    owner = use_case.technical_owner
    by = owner if owner is not None and can_change_version(owner, version) else None
    dataset, created = svc.scored_dataset_upload(
        version=version,
        by=by,
        file=ContentFile(compas_filtered_csv(path), name=FILE_NAME),
        mapping=MAPPING,
        description=DESCRIPTION,
    )
    note("scored dataset", FILE_NAME, created)
    summary, created = svc.bias_summary_request(
        dataset=dataset,
        by=by,
        reference=REFERENCE,
        min_group_size=30,
        favourable_prediction=0,
        queue=lambda summary_id: None,  # computed here, synchronously
    )
    if summary.status != BiasSummary.Status.DONE:
        svc.bias_summary_run(summary_id=summary.pk, task_id="seed_demo")
        summary.refresh_from_db()
    note("bias summary", f"COMPAS on {version}", created)
    return summary
