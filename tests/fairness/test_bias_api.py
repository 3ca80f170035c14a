"""Bias summaries API (issue #5) through APIClient: multipart upload (202 validating,
then 200 for the same bytes), validation by the worker (valid, or rejected naming the
column and row: issue 18), listing, requesting a summary (202, then 200; 400 with the
reason before the dataset is valid), reading it as JSON, the CSV export, 400s for what
the header tells with nothing stored, 401/403."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fairness import services as svc
from fairness.models import BiasSummary, ScoredDataset
from tests.fairness.test_bias_services import (
    BAD_HEADS,
    BAD_ROWS,
    MAPPING,
    SCORE_MAPPING,
    csv_bytes,
    stored_files,
)
from tests.fairness.uploads import validate_queued

pytestmark = pytest.mark.django_db

DATASETS = "/api/v1/scored-datasets/"
SUMMARIES = "/api/v1/bias-summaries/"


def payload(version, data: bytes, mapping=None, name="scores.csv"):
    return {
        "model_version": version.pk,
        "file": SimpleUploadedFile(name, data),
        "mapping": json.dumps(mapping or MAPPING),
    }


def test_upload_list_request_read_and_export(
    api_client_for, data_scientist, auditor, version, media
):
    api = api_client_for(data_scientist)
    data = csv_bytes()
    response = api.post(DATASETS, payload(version, data), format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "validating" and body["download"] is None
    assert body["format"] == "csv" and len(body["sha256"]) == 64
    again = api.post(DATASETS, payload(version, data, name="again.csv"), format="multipart")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    validate_queued()
    body = api.get(f"{DATASETS}{body['id']}/").json()
    assert body["status"] == "valid" and body["rows"] == 2000
    assert body["validation"]["percent"] == 100.0 and body["download"]

    reader = api_client_for(auditor)
    listed = reader.get(DATASETS, {"model_version": version.pk}).json()
    assert [d["id"] for d in listed["results"]] == [body["id"]]
    assert reader.get(DATASETS, {"model_version": version.pk + 1}).json()["results"] == []
    assert len(reader.get(DATASETS, {"status": "valid"}).json()["results"]) == 1
    assert reader.get(DATASETS, {"status": "validating"}).json()["results"] == []
    assert reader.get(DATASETS, {"status": "nonsense"}).status_code == 400

    url = f"{DATASETS}{body['id']}/summaries/"
    options = {"reference": {"race": "A"}, "min_group_size": 20, "favourable_prediction": 1}
    requested = api.post(url, options, format="json")
    assert requested.status_code == 202, requested.content
    summary = requested.json()
    assert summary["status"] == "queued" and summary["result"] is None
    assert summary["progress"]["rows_total"] == 2000
    assert api.post(url, options, format="json").status_code == 200

    csv_url = f"{SUMMARIES}{summary['id']}/csv/"
    assert reader.get(csv_url).status_code == 409
    svc.bias_summary_run(summary_id=summary["id"])
    done = reader.get(f"{SUMMARIES}{summary['id']}/").json()
    assert done["status"] == "done" and done["progress"]["percent"] == 100.0
    assert done["result"] == BiasSummary.objects.get().result
    assert done["result"]["by_attribute"][0]["reference"]["group"] == "A"
    listed = reader.get(SUMMARIES, {"model_version": version.pk}).json()["results"]
    assert [s["id"] for s in listed] == [summary["id"]] and "result" not in listed[0]
    exported = reader.get(csv_url)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode().splitlines()[0].startswith("attribute,group,count")


@pytest.mark.parametrize("case", list(BAD_HEADS))
def test_bad_headers_are_a_400_at_once(api_client_for, data_scientist, version, media, case):
    data, expected = BAD_HEADS[case]
    response = api_client_for(data_scientist).post(
        DATASETS, payload(version, data), format="multipart"
    )
    assert response.status_code == 400, response.content
    message = " ".join(response.json()["file"])
    for part in expected:
        assert part in message, message
    assert not ScoredDataset.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("case", ["label outside 0/1", "score not a number", "missing field"])
def test_bad_rows_are_rejected_with_the_column_and_row(
    api_client_for, data_scientist, version, media, case
):
    data, expected = BAD_ROWS[case]
    mapping = SCORE_MAPPING if data.startswith(b"y,score") else MAPPING
    api = api_client_for(data_scientist)
    response = api.post(DATASETS, payload(version, data, mapping), format="multipart")
    assert response.status_code == 202 and response.json()["status"] == "validating"
    validate_queued()
    body = api.get(f"{DATASETS}{response.json()['id']}/").json()
    assert body["status"] == "rejected" and body["download"] is None
    for part in expected:
        assert part in body["error"], body["error"]
    assert body["validation"]["error_row"] is not None
    assert stored_files(media) == []
    # The same bytes may come again (with a mapping that fits them): a new upload.
    again = api.post(DATASETS, payload(version, data, mapping), format="multipart")
    assert again.status_code == 202 and again.json()["id"] != body["id"]


def test_a_summary_of_a_quarantined_or_rejected_dataset_is_refused_with_the_reason(
    api_client_for, data_scientist, version, media
):
    """Issue 18: until every row is valid nothing reads the upload: not a summary, not a
    download, not monitoring."""
    api = api_client_for(data_scientist)
    waiting = api.post(DATASETS, payload(version, csv_bytes()), format="multipart").json()
    url = f"{DATASETS}{waiting['id']}/summaries/"
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400 and "still being validated" in str(refused.json())
    download = api.get(f"{DATASETS}{waiting['id']}/download/")
    assert download.status_code == 409 and "still being validated" in download.json()["detail"]
    config = api.post(
        "/api/v1/monitoring-configs/",
        {
            "model_version": version.pk,
            "reference": waiting["id"],
            "numeric_features": ["score"],
            "timestamp_column": "race",
        },
        format="json",
    )
    assert config.status_code == 400 and "still being validated" in str(config.json())
    bad = BAD_ROWS["label outside 0/1"][0]
    rejected = api.post(DATASETS, payload(version, bad, name="bad.csv"), format="multipart").json()
    validate_queued()
    refused = api.post(f"{DATASETS}{rejected['id']}/summaries/", {}, format="json")
    assert refused.status_code == 400 and "was rejected" in str(refused.json())
    assert "row 3" in str(refused.json())
    assert not BiasSummary.objects.exists()


def test_bad_mapping_and_options_are_a_400(api_client_for, data_scientist, version, media):
    api = api_client_for(data_scientist)
    response = api.post(
        DATASETS, payload(version, csv_bytes(), {"outcome": "y"}), format="multipart"
    )
    assert response.status_code == 400 and "sensitive attribute" in str(response.json())
    dataset = api.post(DATASETS, payload(version, csv_bytes()), format="multipart").json()
    validate_queued()
    bad = api.post(
        f"{DATASETS}{dataset['id']}/summaries/", {"reference": {"age": "1"}}, format="json"
    )
    assert bad.status_code == 400 and "not a sensitive attribute" in str(bad.json())


def test_over_the_limit_is_a_400_before_parsing(
    api_client_for, data_scientist, version, media, settings
):
    settings.SCORED_DATA_MAX_BYTES = 1000
    response = api_client_for(data_scientist).post(
        DATASETS, payload(version, csv_bytes()), format="multipart"
    )
    assert response.status_code == 400 and "over the limit" in str(response.json())
    assert stored_files(media) == []


def test_readers_may_not_upload_and_strangers_are_refused(
    api_client_for, auditor, other_data_scientist, version, media, client
):
    for user in (auditor, other_data_scientist):
        response = api_client_for(user).post(
            DATASETS, payload(version, csv_bytes()), format="multipart"
        )
        assert response.status_code == 403
    assert client.get(DATASETS).status_code in (401, 403)
    assert not ScoredDataset.objects.exists()
