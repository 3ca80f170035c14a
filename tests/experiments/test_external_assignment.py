"""Issue 14, assignment by the product or by an outside randomiser: the external A/B
file of the issue (60,000 units, 50/50 planned, 51.5/48.5 arrived, the challenger
apparently better) loads in one upload and answers "not valid: sample-ratio mismatch"
with nothing signable; a clean external file (Parquet, a feature-flag export's own
column names) gives statsmodels' statistics; the product's salt and recipe after the
lock and the bulk assignment endpoint."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient
from statsmodels.stats.proportion import proportions_ztest

from core import experiment_stats as st
from experiments import services as svc
from experiments.models import Experiment, ExperimentOutcome
from reviews.models import Signature
from tests.experiments.test_experiments_services import AB, draft, start
from tests.reviews.signoff_world import PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/api/v1/experiments/"


def session(user):
    client = APIClient()
    client.force_login(user)
    return client


def external(arms, owner, **kw):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, owner, assignment="external", **kw)
    start(experiment, owner)
    experiment.refresh_from_db()
    return experiment


def flag_export(n_champion, n_challenger, p_champion, p_challenger, seed=1):
    """A feature-flag export: user_id, variation (control / treatment), converted."""
    rng = np.random.default_rng(seed)
    labels = np.array(["control"] * n_champion + ["treatment"] * n_challenger)
    rng.shuffle(labels)
    p = np.where(labels == "control", p_champion, p_challenger)
    converted = (rng.random(len(labels)) < p).astype(int)
    return labels, converted


def end_and_analyse(experiment):
    svc.experiments_check(now=experiment.planned_end)
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    return experiment


def test_the_issues_external_file_loads_in_one_upload_and_is_not_valid(
    arms, client_for, data_scientist
):
    experiment = external(arms, data_scientist)
    labels, converted = flag_export(30_900, 29_100, 0.30, 0.33)
    lines = ["user_id,variation,converted,timestamp"]
    lines += [
        f"u{i:06d},{v},{c},2026-11-{1 + i % 28:02d}T10:00:00Z"
        for i, (v, c) in enumerate(zip(labels, converted, strict=True))
    ]
    body = ("\n".join(lines) + "\n").encode()
    client = client_for(data_scientist)
    response = client.post(
        reverse("experiments:experiment-upload", args=[experiment.pk]),
        {
            "file": SimpleUploadedFile("launchdarkly-export.csv", body, "text/csv"),
            "unit": "user_id",
            "arm": "variation",
            "outcome": "converted",
            "champion_label": "control",
            "challenger_label": "treatment",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ExperimentOutcome.objects.filter(experiment=experiment).count() == 60_000
    experiment = end_and_analyse(experiment)
    assert experiment.result["verdict"].startswith("Not valid: sample-ratio mismatch")
    assert experiment.result["data_quality"]["srm"]["p_value"] < 1e-10
    api = session(data_scientist)
    shown = api.get(f"{BASE}{experiment.pk}/results/").data
    assert shown["valid"] is False and "test" not in shown["result"]
    assert "decision" not in shown["result"]
    signed = api.post(f"{BASE}{experiment.pk}/sign-result/", {"password": PASSWORD})
    assert signed.status_code == 409
    assert not Signature.objects.filter(experiment=experiment, meaning="result_signed").exists()
    page = client.get(reverse("experiments:experiment-detail", args=[experiment.pk]))
    html = page.content.decode()
    assert "<dt>p-value</dt>" not in html and "Sign the result" not in html
    assert "30,900" in html and "29,100" in html  # the counts, as a table


def test_a_clean_external_parquet_file_gives_statsmodels_statistics(
    arms, api_client_for, data_scientist
):
    experiment = external(arms, data_scientist)
    rng = np.random.default_rng(4)
    n = 4_000
    labels = np.where(rng.random(n) < 0.5, 0, 1)  # a variation index, 0 = control
    converted = rng.random(n) < np.where(labels == 0, 0.30, 0.36)
    table = pa.table(
        {
            "context_key": [f"k{i}" for i in range(n)],
            "variation_index": labels,
            "converted": converted,  # booleans, as exports write them
            "flag_key": ["ranking-v2"] * n,
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    response = api_client_for(data_scientist).post(
        f"{BASE}{experiment.pk}/outcomes-file/",
        {
            "file": SimpleUploadedFile("growthbook.parquet", sink.getvalue()),
            "unit": "context_key",
            "arm": "variation_index",
            "outcome": "converted",
            "champion_label": "0",
            "challenger_label": "1",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.data
    assert response.data["rows"] == n
    experiment = end_and_analyse(experiment)
    result = experiment.result
    assert result["valid"] is True
    c1, n1 = int(converted[labels == 0].sum()), int((labels == 0).sum())
    c2, n2 = int(converted[labels == 1].sum()), int((labels == 1).sum())
    z, p = proportions_ztest([c2, c1], [n2, n1])
    assert result["test"]["statistic"] == pytest.approx(z, rel=1e-9)
    assert result["test"]["p_value"] == pytest.approx(p, rel=1e-9)
    assert result["units"]["assigned"] == {"champion": n1, "challenger": n2}


def test_an_external_file_is_not_checked_against_the_hash_but_a_unit_in_both_arms_is(
    arms, data_scientist
):
    experiment = external(arms, data_scientist)
    rows = []
    for i in range(400):
        key = f"x{i}"
        hashed = st.assign_arm(experiment.salt, key, experiment.protocol["split"])
        other = "challenger" if hashed == "champion" else "champion"
        rows.append({"entity_key": key, "arm": other, "outcome": i % 3 == 0})
    rows = [{**r, "outcome": int(r["outcome"])} for r in rows]
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows)
    twice = {**rows[0], "arm": "champion" if rows[0]["arm"] == "challenger" else "challenger"}
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=[twice])
    experiment = end_and_analyse(experiment)
    assert experiment.result["data_quality"]["units"]["mismatched"] == 1
    assert "assignment mismatch" in experiment.result["verdict"]


def test_a_bad_mapping_or_label_stores_nothing(arms, client_for, data_scientist):
    experiment = external(arms, data_scientist)
    client = client_for(data_scientist)
    url = reverse("experiments:experiment-upload", args=[experiment.pk])
    body = b"user_id,variation,converted\nu1,control,1\nu2,holdout,0\n"
    mapping = {"unit": "user_id", "arm": "variation", "outcome": "converted"}
    response = client.post(
        url,
        {
            "file": SimpleUploadedFile("f.csv", body),
            **mapping,
            "champion_label": "control",
            "challenger_label": "treatment",
        },
    )
    assert response.status_code == 400 and "holdout" in response.content.decode()
    response = client.post(url, {"file": SimpleUploadedFile("f.csv", body), "unit": "uid"})
    assert response.status_code == 400 and "Missing column" in response.content.decode()
    assert not ExperimentOutcome.objects.exists()


def test_the_salt_and_recipe_are_shown_to_the_owner_after_the_lock(
    arms, client_for, api_client_for, data_scientist, auditor
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    detail = reverse("experiments:experiment-detail", args=[experiment.pk])
    assert (
        api_client_for(data_scientist).get(f"{BASE}{experiment.pk}/").data["assignment_recipe"]
        is None
    )
    assert 'data-testid="salt"' not in client_for(data_scientist).get(detail).content.decode()
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    recipe = api_client_for(data_scientist).get(f"{BASE}{experiment.pk}/").data["assignment_recipe"]
    assert recipe["salt"] == experiment.salt and recipe["split"]["champion"] == 50
    html = client_for(data_scientist).get(detail).content.decode()
    assert 'data-testid="salt"' in html and experiment.salt in html
    assert api_client_for(auditor).get(f"{BASE}{experiment.pk}/").data["assignment_recipe"] is None
    assert experiment.salt not in client_for(auditor).get(detail).content.decode()
    # The recipe as written computes the product's arms.
    import hashlib

    for key in ("a", "customer-17", "ü-9"):
        point = (
            int.from_bytes(
                hashlib.sha256((recipe["salt"] + "\x1f" + key).encode("utf-8")).digest()[:8], "big"
            )
            / 2**64
        )
        arm = "champion" if point < 0.5 else "challenger"
        assert arm == st.assign_arm(experiment.salt, key, experiment.protocol["split"])


def test_bulk_assignment_takes_thousands_of_keys_in_one_post(arms, api_client_for, data_scientist):
    use_case, champion, challenger = arms
    protocol = {**AB, "split": {"champion": 70, "challenger": 30}}
    experiment = draft(use_case, champion, challenger, data_scientist, protocol=protocol)
    api = api_client_for(data_scientist)
    url = f"{BASE}{experiment.pk}/assignments/"
    keys = [f"customer-{i}" for i in range(10_000)]
    assert api.post(url, {"keys": keys}, format="json").status_code == 409  # a draft
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    response = api.post(url, {"keys": keys}, format="json")
    assert response.status_code == 200
    got = response.data["assignments"]
    assert [g["key"] for g in got] == keys
    assert [g["arm"] for g in got] == [
        st.assign_arm(experiment.salt, k, protocol["split"]) for k in keys
    ]
    too_many = api.post(url, {"keys": [*keys, "one-more"]}, format="json")
    assert too_many.status_code == 400 and "10,000" in str(too_many.data)
    for bad in ([], "customer-1", ["ok", ""], ["ok", 7], ["x" * 201]):
        assert api.post(url, {"keys": bad}, format="json").status_code == 400


def test_an_external_experiment_gives_no_assignment(arms, api_client_for, data_scientist):
    experiment = external(arms, data_scientist)
    api = api_client_for(data_scientist)
    assert api.get(f"{BASE}{experiment.pk}/assignment/", {"key": "u1"}).status_code == 409
    response = api.post(f"{BASE}{experiment.pk}/assignments/", {"keys": ["u1"]}, format="json")
    assert response.status_code == 409
    assert api.get(f"{BASE}{experiment.pk}/").data["assignment_recipe"] is None


def test_the_assignment_is_declared_before_the_lock(arms, api_client_for, data_scientist):
    from tests.experiments.test_experiments_api import payload

    use_case, champion, challenger = arms
    api = api_client_for(data_scientist)
    created = api.post(
        BASE, payload(use_case, champion, challenger, assignment="external"), format="json"
    )
    assert created.status_code == 201 and created.data["assignment"] == "external"
    bad = api.post(BASE, payload(use_case, champion, challenger, assignment="dice"), format="json")
    assert bad.status_code == 400
    experiment = Experiment.objects.get(pk=created.data["id"])
    start(experiment, data_scientist)
    patched = api.patch(f"{BASE}{experiment.pk}/", {"assignment": "product"}, format="json")
    assert patched.status_code == 409
    experiment.refresh_from_db()
    assert experiment.assignment == "external"
