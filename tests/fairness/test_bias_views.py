"""Bias summary pages (issue #5) through the client: who sees and who uploads, the
upload form's 400s for what the header tells with nothing stored, the upload validated
by the worker (its progress bar, then the summary; or the rejection naming the column
and row, and a summary of it refused: issue 18), the live progress
bar and its JSON status, tables and charts of a done summary, a failed summary's
reason, and the CSV export with formula-like cells neutralised."""

import csv
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.fairness import GroupCounts
from fairness import services as svc
from fairness.models import BiasSummary, ScoredDataset
from fairness.tasks import bias_summary_run, scored_dataset_validate
from tests.fairness.test_bias_services import (
    BAD_HEADS,
    BAD_ROWS,
    MAPPING,
    csv_bytes,
    done_summary,
    scored_frame,
    stored_files,
    upload,
)
from tests.fairness.uploads import validate_queued
from tests.outbox import queued

pytestmark = pytest.mark.django_db


def form_data(data: bytes, name="scores.csv", **overrides):
    fields = {
        "file": SimpleUploadedFile(name, data),
        "outcome": "y",
        "prediction": "y_hat",
        "sensitive": "race, sex",
        "reference": "best",
        "min_group_size": "30",
        "favourable_prediction": "1",
    }
    fields.update(overrides)
    return fields


def test_everyone_with_a_role_reads_the_version_page(
    client_for, users_by_role, version, media, no_role_user
):
    url = reverse("fairness:bias-version", args=[version.pk])
    for role, user in users_by_role.items():
        response = client_for(user).get(url)
        assert response.status_code == 200, role
        can_upload = role in ("data-scientist", "governance-lead")
        assert (b'id="bias-upload"' in response.content) is True
        assert (b'enctype="multipart/form-data"' in response.content) is can_upload, role
    assert client_for(no_role_user).get(url).status_code == 403
    page = client_for(users_by_role["auditor"]).get(reverse("reviews:version", args=[version.pk]))
    assert url.encode() in page.content  # the card on the sign-off page links here


def test_upload_through_the_page_is_validated_then_queues_a_summary_with_a_progress_bar(
    client_for, data_scientist, version, media, django_capture_on_commit_callbacks
):
    client = client_for(data_scientist)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("fairness:bias-upload", args=[version.pk]),
            form_data(csv_bytes(), reference="race = A; sex = M", favourable_prediction="0"),
        )
    dataset = ScoredDataset.objects.get()
    assert response.status_code == 302 and dataset.status == "validating"
    version_url = reverse("fairness:bias-version", args=[version.pk])
    assert response["Location"] == f"{version_url}#dataset-{dataset.pk}"
    assert len(callbacks) == 1 and not BiasSummary.objects.exists()
    assert queued(scored_dataset_validate) == [{"dataset_id": dataset.pk}]
    page = client.get(version_url).content.decode()
    dataset_status = reverse("fairness:scored-dataset-status", args=[dataset.pk])
    assert f'data-status-url="{dataset_status}"' in page and "Validating" in page
    assert reverse("fairness:scored-dataset-download", args=[dataset.pk]) not in page
    assert client.get(dataset_status).json()["finished"] is False
    validate_queued()
    status = client.get(dataset_status).json()
    assert (status["status"], status["finished"], status["percent"]) == ("valid", True, 100.0)
    summary = BiasSummary.objects.get()
    assert queued(bias_summary_run) == [{"summary_id": summary.pk}]
    assert summary.requested_by == data_scientist
    assert summary.options["reference"] == {"race": "A", "sex": "M", "race x sex": "A | M"}
    assert summary.options["favourable_prediction"] == 0
    page = client.get(reverse("fairness:bias-summary", args=[summary.pk]))
    status_url = reverse("fairness:bias-summary-status", args=[summary.pk])
    assert b'<progress id="bias-progress"' in page.content
    assert f'data-status-url="{status_url}"'.encode() in page.content
    assert b"js/progress.js" in page.content and b"<script>" not in page.content
    status = client.get(status_url).json()
    assert status["status"] == "queued" and status["rows_total"] == 2000
    assert status["finished"] is False
    svc.bias_summary_run(summary_id=summary.pk)
    assert client.get(status_url).json()["percent"] == 100.0


@pytest.mark.parametrize("case", list(BAD_HEADS))
def test_bad_headers_through_the_page_are_a_400_with_the_reason(
    client_for, data_scientist, version, media, case
):
    data, expected = BAD_HEADS[case]
    response = client_for(data_scientist).post(
        reverse("fairness:bias-upload", args=[version.pk]), form_data(data)
    )
    assert response.status_code == 400
    text = response.content.decode()
    for part in expected:
        assert part.replace("'", "&#x27;") in text, part
    assert not ScoredDataset.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("case", ["not UTF-8", "score not a number"])
def test_bad_rows_through_the_page_show_the_rejection_and_refuse_a_summary(
    client_for, data_scientist, version, media, case
):
    data, expected = BAD_ROWS[case]
    extra = {}
    if data.startswith(b"y,score"):
        extra = {"prediction": "", "score": "score", "threshold": "0.5", "sensitive": "race"}
    client = client_for(data_scientist)
    response = client.post(
        reverse("fairness:bias-upload", args=[version.pk]), form_data(data, **extra)
    )
    assert response.status_code == 302
    validate_queued()
    dataset = ScoredDataset.objects.get()
    page = client.get(reverse("fairness:bias-version", args=[version.pk])).content.decode()
    assert "Rejected" in page
    for part in expected:
        assert part.replace("'", "&#x27;") in page, part
    assert stored_files(media) == [] and not BiasSummary.objects.exists()
    # The person tries anyway: a summary of the rejected upload is refused, with why.
    options = {"reference": "best", "min_group_size": "30", "favourable_prediction": "1"}
    url = reverse("fairness:bias-summary-request", args=[dataset.pk])
    refused = client.post(url, options)
    assert refused.status_code == 400 and "was rejected" in refused.content.decode()
    assert not BiasSummary.objects.exists()


def test_a_summary_of_a_dataset_still_in_quarantine_is_refused_on_the_page(
    client_for, data_scientist, version, media
):
    client = client_for(data_scientist)
    client.post(reverse("fairness:bias-upload", args=[version.pk]), form_data(csv_bytes()))
    dataset = ScoredDataset.objects.get()
    options = {"reference": "best", "min_group_size": "30", "favourable_prediction": "1"}
    url = reverse("fairness:bias-summary-request", args=[dataset.pk])
    refused = client.post(url, options)
    assert refused.status_code == 400 and "still being validated" in refused.content.decode()
    download = client.get(reverse("fairness:scored-dataset-download", args=[dataset.pk]))
    assert download.status_code == 409 and "still being validated" in download.content.decode()
    assert not BiasSummary.objects.exists()


def test_an_identifier_as_sensitive_attribute_is_rejected_at_its_row(
    client_for, data_scientist, version, media
):
    n = 100_000
    frame = {"y": np.zeros(n, int), "y_hat": np.ones(n, int), "sex": np.array(["F"] * n)}
    frame["race"] = np.array([f"id-{i}" for i in range(n)])
    client = client_for(data_scientist)
    client.post(reverse("fairness:bias-upload", args=[version.pk]), form_data(csv_bytes(frame)))
    validate_queued()
    page = client.get(reverse("fairness:bias-version", args=[version.pk])).content.decode()
    assert "row 1,001" in page and stored_files(media) == []


def test_an_upload_over_the_limit_is_refused_before_parsing(
    client_for, data_scientist, version, media, settings
):
    settings.SCORED_DATA_MAX_BYTES = 1000
    response = client_for(data_scientist).post(
        reverse("fairness:bias-upload", args=[version.pk]), form_data(csv_bytes())
    )
    assert response.status_code == 400
    assert "over the limit of 1,000" in response.content.decode()
    assert stored_files(media) == []


def test_readers_may_not_upload(client_for, auditor, other_data_scientist, version, media):
    url = reverse("fairness:bias-upload", args=[version.pk])
    for user in (auditor, other_data_scientist):
        assert client_for(user).post(url, form_data(csv_bytes())).status_code == 403
    assert not ScoredDataset.objects.exists()


def test_a_done_summary_shows_tables_charts_and_findings(
    client_for, data_scientist, auditor, version, media
):
    summary = done_summary(version, data_scientist)
    response = client_for(auditor).get(reverse("fairness:bias-summary", args=[summary.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "bias-progress" not in text
    for block in ("race", "sex", "race x sex"):
        assert f"<h2>{'Intersection ' if ' x ' in block else ''}{block}</h2>" in text
    assert text.count('data-chart="chart-') == 7  # 3 rate charts, 2 TPR/FPR, 2 heatmaps
    assert 'id="chart-rates-0-data" type="application/json"' in text
    assert "plotly-strict.min.js" in text and "Four-fifths line" in text
    assert "Disparate impact of" in text and "breached" in text
    assert response.context["findings"].count() == len(
        {(b["attribute"], b["metric"]) for b in summary.result["breaches"]}
    )


def test_a_summary_stored_before_the_packed_counts_still_shows(
    client_for, data_scientist, auditor, version, media
):
    """Issue 18: summaries store their counts packed (schema 2); one stored before, its
    counts as lists (schema 1), shows the same page and the same CSV."""
    dataset, _ = upload(version, data_scientist, csv_bytes(), mapping={**MAPPING, "score": "score"})
    summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    svc.bias_summary_run(summary_id=summary.pk)
    summary.refresh_from_db()
    assert summary.counts["schema_version"] == 2
    client = client_for(auditor)
    page_url = reverse("fairness:bias-summary", args=[summary.pk])
    csv_url = reverse("fairness:bias-summary-csv", args=[summary.pk])
    before = client.get(page_url)
    now = (before.context["tables"], before.context["charts"], client.get(csv_url).content)
    old = GroupCounts.from_dict(summary.counts).plain_dict()
    assert old["schema_version"] == 1 and isinstance(old["h_n"], list)
    BiasSummary.objects.filter(pk=summary.pk).update(counts=old)
    page, export = client.get(page_url), client.get(csv_url)
    assert page.status_code == export.status_code == 200
    assert (page.context["tables"], page.context["charts"], export.content) == now
    text = page.content.decode()
    assert text.count('data-chart="chart-') == 7 and "<h2>Intersection race x sex</h2>" in text
    assert "ROC AUC" in text


def test_a_failed_summary_shows_its_reason(client_for, data_scientist, version, media):
    dataset, _ = upload(version, data_scientist, csv_bytes())
    summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    svc.bias_summary_fail(
        summary_id=summary.pk, error="Column 'y', row 7: The outcome 2 is not 0 or 1."
    )
    response = client_for(data_scientist).get(reverse("fairness:bias-summary", args=[summary.pk]))
    assert response.status_code == 200
    assert "row 7: The outcome 2 is not 0 or 1." in response.content.decode()
    assert b"Run again" in response.content


def test_csv_export_neutralises_formula_cells(client_for, data_scientist, auditor, version, media):
    frame = scored_frame()
    frame["race"] = np.where(frame["race"] == "C", "=HYPERLINK(1)", frame["race"])
    summary = done_summary(version, data_scientist, csv_bytes(frame))
    response = client_for(auditor).get(reverse("fairness:bias-summary-csv", args=[summary.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["attribute", "group", "count"]
    labels = {r[1] for r in rows[1:]}
    assert "'=HYPERLINK(1)" in labels and "=HYPERLINK(1)" not in labels
    assert len(rows) == 1 + 3 + 2 + 6


def test_csv_of_an_unfinished_summary_is_a_409(client_for, data_scientist, version, media):
    dataset, _ = upload(version, data_scientist, csv_bytes())
    summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    response = client_for(data_scientist).get(
        reverse("fairness:bias-summary-csv", args=[summary.pk])
    )
    assert response.status_code == 409


def test_the_use_case_page_shows_the_latest_summary_with_its_charts(
    client_for, data_scientist, auditor, version, media
):
    use_case_url = reverse("dashboard:use-case-detail", args=[version.model.use_case_id])
    assert 'id="bias"' not in client_for(auditor).get(use_case_url).content.decode()
    summary = done_summary(version, data_scientist)
    text = client_for(auditor).get(use_case_url).content.decode()
    assert 'id="bias"' in text
    assert reverse("fairness:bias-summary", args=[summary.pk]) in text
    assert 'id="chart-rates-0-data" type="application/json"' in text
    assert "plotly-strict.min.js" in text
