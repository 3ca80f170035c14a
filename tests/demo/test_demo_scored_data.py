"""The demo's seeded synthetic scored data (used when the COMPAS file is absent): the
generator is deterministic and Django-free, the product's own fairness computation
finds the disparities it plants, and the demo loader attaches it, summarises it and
shows it on the credit use case's page when the COMPAS file is missing."""

import hashlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from core.fairness import MISSING_LABEL
from core.scored_io import ColumnMapping, inspect_file, summarise_file
from demo import fairness as demo_bias
from demo import scored_data
from fairness import services as svc
from fairness.models import BiasSummary
from reviews.models import Finding
from tests.factories import ModelVersionFactory, UseCaseFactory

REPO = Path(__file__).resolve().parents[2]
AA, WHITE = scored_data.PLANTED_FOUR_FIFTHS_BREACH, scored_data.REFERENCE_RACE
# The demo's summary options, as demo.fairness requests them.
OPTIONS = {
    "reference": {"race": "Caucasian", "sex": "Male", "race x sex": "Caucasian | Male"},
    "min_group_size": 30,
    "favourable_prediction": 0,
    "thresholds": dict(svc.DEFAULT_THRESHOLDS),
}


def product_summary(tmp_path: Path, seed: int = scored_data.DEFAULT_SEED) -> dict:
    """The synthetic file read by the product's reader and summarised by its service code."""
    path = tmp_path / f"scores-{seed}.csv"
    path.write_bytes(scored_data.scored_csv(seed=seed))
    mapping = ColumnMapping.from_dict(demo_bias.MAPPING)
    inspect_file(path, max_bytes=1 << 30, mapping=mapping)  # the mapped columns exist
    return svc.summarise_counts(summarise_file(path, mapping), OPTIONS)


def block(result: dict, name: str) -> dict:
    return next(b for b in result["by_attribute"] if b["name"] == name)


def against(blk: dict, group: str) -> dict:
    return next(r for r in blk["against_reference"] if r["group"] == group)


def group(blk: dict, label: str) -> dict:
    return next(g for g in blk["groups"] if g["label"] == label)


# --- the generator -------------------------------------------------------------------------


def test_the_generator_is_deterministic_across_processes_and_imports_no_django():
    data = scored_data.scored_csv()
    assert scored_data.scored_csv() == data
    assert scored_data.scored_csv(seed=scored_data.DEFAULT_SEED + 1) != data
    code = (
        "import hashlib, sys\n"
        "from demo import scored_data\n"
        "print(hashlib.sha256(scored_data.scored_csv()).hexdigest())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [hashlib.sha256(data).hexdigest(), "[]"]


def test_the_rows_have_the_demo_columns_and_exact_group_sizes():
    rows = scored_data.generate_scored_rows(n=6000, seed=3)
    assert len(rows) == 6000 and [r[0] for r in rows] == list(range(1, 6001))
    header = scored_data.scored_csv(n=10).decode().splitlines()[0].split(",")
    assert header == demo_bias.COLUMNS
    assert {r[2] for r in rows} == {"Male", "Female"}
    assert {r[3] for r in rows} == {r[4] for r in rows} == {0, 1}
    assert all(0 <= r[5] <= 1 and r[4] == (r[5] >= scored_data.THRESHOLD) for r in rows)
    assert [r[6] for r in rows] == sorted(r[6] for r in rows)
    races = [r[1] for r in rows]
    # Exact shares: 24 Asian, 15 Native American and 90 without a race, whatever the seed.
    assert [races.count(g) for g in (*scored_data.SMALL_GROUPS, None)] == [24, 15, 90]
    with pytest.raises(ValueError):
        scored_data.generate_scored_rows(n=0)


# --- what the product computes from it -------------------------------------------------------


def test_the_product_finds_the_planted_four_fifths_breach(tmp_path):
    result = product_summary(tmp_path)
    race = block(result, "race")
    assert race["reference"]["group"] == WHITE
    breached = [r["group"] for r in race["against_reference"] if r["four_fifths_rule_breached"]]
    assert breached == [AA]
    # The disparate impact is the ratio of the favourable (prediction 0) rates, counted
    # here straight from the generated rows.
    rows = scored_data.generate_scored_rows()
    favourable = {name: np.mean([r[4] == 0 for r in rows if r[1] == name]) for name in (AA, WHITE)}
    di = against(race, AA)["disparate_impact"]
    assert di == pytest.approx(favourable[AA] / favourable[WHITE])
    assert 0.5 < di < 0.75
    finding = [b for b in result["breaches"] if b["metric"] == "disparate_impact"]
    assert [(b["attribute"], b["groups"]) for b in finding if b["attribute"] == "race"] == [
        ("race", [AA, WHITE])
    ]


def test_the_product_finds_the_planted_false_positive_rate_gap(tmp_path):
    result = product_summary(tmp_path)
    race = block(result, "race")
    fpr = {g: group(race, g)["metrics"]["fpr"]["value"] for g in (AA, WHITE)}
    assert fpr[AA] - fpr[WHITE] > 0.1
    assert 1.5 < fpr[AA] / fpr[WHITE] < 2.5  # about twice, as in COMPAS
    assert against(race, AA)["fpr"]["difference"] == pytest.approx(fpr[AA] - fpr[WHITE])
    # Separated by more than their 95% intervals: not noise.
    assert (
        group(race, AA)["metrics"]["fpr"]["ci_low"]
        > group(race, WHITE)["metrics"]["fpr"]["ci_high"]
    )
    eo = [
        b for b in result["breaches"] if (b["attribute"], b["metric"]) == ("race", "equalized_odds")
    ]
    assert len(eo) == 1 and eo[0]["value"] > 0.1
    # The control: sex has no score shift, so no breach and close false-positive rates.
    sex = block(result, "sex")
    assert sex["breaches"] == []
    assert sex["between_groups"]["false_positive_rate_parity"]["difference"] < 0.1
    # The score still ranks: ROC AUC about 0.70 overall, as COMPAS's.
    assert 0.65 < result["overall"]["roc_auc"]["value"] < 0.75


def test_the_small_group_and_the_missing_race_are_reported(tmp_path):
    result = product_summary(tmp_path)
    race = block(result, "race")
    for name in scored_data.SMALL_GROUPS:
        small = group(race, name)
        assert small["small_group"] and small["count"] < result["min_group_size"], name
    assert race["excluded_small_groups"] == list(scored_data.SMALL_GROUPS)
    missing = group(race, MISSING_LABEL)
    assert missing["count"] == sum(r[1] is None for r in scored_data.generate_scored_rows())
    assert MISSING_LABEL in race["compared_groups"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_planted_disparities_do_not_depend_on_the_seed(tmp_path, seed):
    race = block(product_summary(tmp_path, seed), "race")
    assert against(race, AA)["four_fifths_rule_breached"]
    for name in ("Hispanic", "Other"):
        assert not against(race, name)["four_fifths_rule_breached"], name
    assert against(race, AA)["fpr"]["ratio"] > 1.5


# --- the demo loader -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def credit_version(db, team, data_scientist):
    use_case = UseCaseFactory(
        name=demo_bias.USE_CASE,
        team=team,
        business_owner=data_scientist,
        technical_owner=data_scientist,
    )
    return ModelVersionFactory(model__use_case=use_case)


def load(compas: Path) -> tuple[BiasSummary | None, list[str]]:
    lines: list[str] = []
    summary = demo_bias.load(
        users={}, note=lambda *args, **kwargs: None, say=lines.append, compas=compas
    )
    return summary, lines


def test_without_compas_the_loader_summarises_synthetic_scores(
    media, credit_version, tmp_path, client_for, auditor
):
    missing = tmp_path / "no-shared" / "compas_two_year_deidentified.csv"
    summary, lines = load(missing)

    assert summary.status == BiasSummary.Status.DONE
    dataset = summary.dataset
    assert dataset.model_version == credit_version
    assert dataset.original_name == demo_bias.SYNTHETIC_FILE_NAME
    assert dataset.rows == scored_data.DEFAULT_ROWS == summary.result["rows"]
    assert dataset.uploaded_by == credit_version.model.use_case.technical_owner
    assert len(lines) == 1
    assert lines[0].startswith("bias summary: synthetic scored data (seeded: 6,000 rows")
    assert "COMPAS not found" in lines[0]
    # The planted breaches open findings, as COMPAS's do.
    race = block(summary.result, "race")
    assert [r["group"] for r in race["against_reference"] if r["four_fifths_rule_breached"]] == [AA]
    findings = Finding.objects.filter(model_version=credit_version, source=Finding.Source.BIAS)
    assert findings.filter(key__endswith=":race:disparate_impact").exists()
    assert findings.filter(key__endswith=":race:equalized_odds").exists()

    # Idempotent: the same bytes, the same dataset and summary.
    again, _ = load(missing)
    assert again.pk == summary.pk and BiasSummary.objects.count() == 1

    # The use case page shows it.
    url = reverse("dashboard:use-case-detail", args=[credit_version.model.use_case_id])
    text = client_for(auditor).get(url).content.decode()
    assert 'id="bias"' in text
    assert demo_bias.SYNTHETIC_FILE_NAME in text
    assert reverse("fairness:bias-summary", args=[summary.pk]) in text


def test_the_compas_location_is_a_setting(settings, tmp_path):
    settings.DEMO_COMPAS_CSV = str(tmp_path / "absent.csv")
    assert demo_bias.compas_path() == tmp_path / "absent.csv"
    source = demo_bias.scored_source()
    assert source.synthetic and source.file_name == demo_bias.SYNTHETIC_FILE_NAME
    assert source.data == scored_data.scored_csv()


@pytest.mark.skipif(not demo_bias.COMPAS_CSV.is_file(), reason="shared COMPAS data not present")
def test_with_compas_the_loader_uses_it(settings):
    settings.DEMO_COMPAS_CSV = None
    source = demo_bias.scored_source()
    assert not source.synthetic and source.file_name == demo_bias.FILE_NAME
    assert source.label.startswith(
        "COMPAS (ProPublica, ../shared/datasets/compas/compas_two_year_deidentified.csv; "
    )


@pytest.mark.django_db
def test_seed_demo_without_compas_still_summarises_the_credit_use_case(settings, media, tmp_path):
    """The whole demo once (slow: about 25 s), as a fresh clone without ../shared runs it."""
    settings.DEMO_COMPAS_CSV = str(tmp_path / "absent.csv")
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("bias summary:")]
    assert len(lines) == 1 and lines[0].startswith("bias summary: synthetic scored data")
    summary = BiasSummary.objects.get(
        dataset__model_version__model__use_case__name=demo_bias.USE_CASE
    )
    assert summary.status == BiasSummary.Status.DONE
    assert summary.dataset.original_name == demo_bias.SYNTHETIC_FILE_NAME
    assert summary.result["breaches"]
