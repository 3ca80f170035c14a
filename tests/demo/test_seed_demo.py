"""manage.py seed_demo: a realistic, deterministic and idempotent demo portfolio."""

import json

import pytest
from django.contrib.auth.models import User

import demo
from accounts.roles import Role
from governance.models import Classification
from inventory.choices import Criticality, LifecycleStatus
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase
from tests.demo.conftest import seed

# Every test reads the portfolio seeded once for the package (tests/demo/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


def snapshot() -> dict:
    """Everything that must be identical between runs (no ids or timestamps)."""
    return {
        "users": sorted(User.objects.values_list("username", "email", "is_staff", "groups__name")),
        "teams": sorted(Team.objects.values_list("slug", "name", "members__username")),
        "datasets": sorted(Dataset.objects.values_list("name", "team__slug", "owner__username")),
        "columns": sorted(
            DatasetColumn.objects.values_list("dataset__name", "name", "is_pii", "lineage_notes")
        ),
        "use_cases": sorted(
            UseCase.objects.values_list(
                "name",
                "status",
                "criticality",
                "risk_tier",
                "uses_pii",
                "team__slug",
                "business_owner__username",
                "technical_owner__username",
            )
        ),
        "use_case_links": sorted(
            UseCase.objects.values_list("name", "regulations__code", "datasets__name")
        ),
        "versions": sorted(
            (name, label, sha, uri, json.dumps(metrics, sort_keys=True), dataset)
            for name, label, sha, uri, metrics, dataset in ModelVersion.objects.values_list(
                "model__name",
                "version_label",
                "artifact_sha256",
                "artifact_uri",
                "metrics",
                "training_dataset__name",
            )
        ),
        "classifications": sorted(
            (name, level, tier, json.dumps(reasons, sort_keys=True), by)
            for name, level, tier, reasons, by in Classification.objects.values_list(
                "use_case__name", "criticality", "risk_tier", "reasons", "classified_by__username"
            )
        ),
    }


def test_a_second_run_reuses_everything_and_changes_nothing(demo_output, settings):
    first_output = demo_output
    first = snapshot()
    counts = (UseCase.objects.count(), ModelVersion.objects.count(), Classification.objects.count())
    # An MLflow server that cannot be reached (issue 17): one line, the demo goes on.
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9"  # discard port: nothing listens

    second_output = seed()

    assert snapshot() == first
    assert (
        UseCase.objects.count(),
        ModelVersion.objects.count(),
        Classification.objects.count(),
    ) == counts
    assert "Created: 20 users" in first_output
    assert "Created: nothing." in second_output
    assert "already exists; nothing was changed" in second_output
    assert "Warning" not in first_output + second_output
    (mlflow_line,) = [line for line in second_output.splitlines() if "MLflow" in line]
    assert "MLflow registry not loaded" in mlflow_line and "cannot be reached" in mlflow_line


def test_generated_values_are_fixed():
    """Metrics and SHA-256s do not depend on the process (no unseeded randomness)."""
    assert demo.version_metrics("Application scorecard", "binary", 2) == {
        "auc": 0.8419,
        "precision": 0.4913,
        "recall": 0.5729,
        "brier": 0.1104,
    }
    assert demo.artifact_sha256("credit-risk", "Application scorecard", "3.2") == (
        "9441c705fd33b19e12aae89ed9e5acdd25edafce2b682306825d09752d73fcde"
    )


def test_the_portfolio_covers_every_level_tier_status_and_sector():
    use_cases = UseCase.objects.filter(name__in=[s.name for s in demo.USE_CASES])
    assert use_cases.count() == len(demo.USE_CASES) >= 20
    classified = use_cases.exclude(risk_tier=None)
    # Every demo use case shows its class, ideas included (classified at intake).
    assert classified.count() == use_cases.count()
    assert set(classified.values_list("criticality", flat=True)) == {1, 2, 3, 4}
    assert set(classified.values_list("risk_tier", flat=True)) == {1, 2, 3, 4}
    assert set(use_cases.values_list("status", flat=True)) == set(LifecycleStatus.values)
    assert Team.objects.count() >= 8
    regulations = set(use_cases.values_list("regulations__code", flat=True))
    assert {"sr-11-7", "pra-ss1-23", "gxp", "gdpr", "eu-ai-act"} <= regulations


def test_every_use_case_lands_at_its_intended_level_and_tier():
    for spec in demo.USE_CASES:
        use_case = UseCase.objects.get(name=spec.name)
        expected = spec.reclassification.expected if spec.reclassification else spec.expected
        got = (use_case.criticality, use_case.risk_tier) if use_case.is_classified else None
        assert got == expected, spec.name


def test_each_raised_class_is_explained_by_its_reasons():
    """Above the baseline (level 1, low tier) the latest classification names the rule
    that set the level and the one that set the tier, with the answers behind them."""
    for use_case in UseCase.objects.exclude(risk_tier=None):
        latest = use_case.classifications.first()
        assert (latest.criticality, latest.risk_tier) == (use_case.criticality, use_case.risk_tier)
        decisive = [r for r in latest.reasons if r["decisive"]]
        if latest.criticality > Criticality.AD_HOC:
            assert any(r["min_criticality"] == latest.criticality for r in decisive), use_case
        if latest.risk_tier > 1:
            assert any(r["min_tier"] == latest.risk_tier for r in decisive), use_case
        for reason in latest.reasons:
            assert reason["explanation"] and reason["triggered_by"], use_case
        if (latest.criticality, latest.risk_tier) == (1, 1):
            assert latest.reasons == []


def test_the_risk_officer_challenged_one_classification():
    use_case = UseCase.objects.get(name="Employee attrition risk")
    history = list(use_case.classifications.order_by("classified_at", "id"))
    assert len(history) == 2
    first, second = history
    assert first.classified_by.username == "people.analyst"
    assert second.classified_by.username == "risk.officer"
    assert (second.previous_risk_tier, second.risk_tier) == (2, 3)
    assert second.changed and "Effective challenge" in second.note


def test_models_versions_and_datasets_are_complete():
    for use_case in UseCase.objects.exclude(status=LifecycleStatus.IDEA):
        models = list(use_case.ml_models.all())
        assert models, use_case
        for ml_model in models:
            assert 1 <= ml_model.versions.count() <= 3
    shas = list(ModelVersion.objects.values_list("artifact_sha256", flat=True))
    assert len(set(shas)) == len(shas)
    for version in ModelVersion.objects.select_related("model__use_case"):
        assert version.metrics and version.framework and version.artifact_uri
        assert version.training_dataset_id is not None
        assert version.registered_by == version.model.use_case.technical_owner
        assert version.authors.filter(pk=version.registered_by_id).exists()
    assert not Dataset.objects.filter(columns=None).exists()
    assert DatasetColumn.objects.filter(is_pii=True).exists()
    assert not DatasetColumn.objects.filter(lineage_notes="").exists()
    # The PII flag of a use case agrees with the columns of the datasets it uses.
    for use_case in UseCase.objects.exclude(datasets=None):
        has_pii_column = DatasetColumn.objects.filter(
            dataset__use_cases=use_case, is_pii=True
        ).exists()
        assert use_case.uses_pii == has_pii_column, use_case
    assert MLModel.objects.count() >= len(demo.USE_CASES)


def test_one_demo_log_in_per_role_with_the_shared_password():
    for username, role in [
        ("risk.officer", Role.RISK_OFFICER),
        ("governance.lead", Role.GOVERNANCE_LEAD),
        ("data.scientist", Role.DATA_SCIENTIST),
        ("approver", Role.APPROVER),
        ("auditor", Role.AUDITOR),
    ]:
        user = User.objects.get(username=username)
        assert user.groups.filter(name=role).exists()
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.email == f"{username}@example.com"
    assert User.objects.get(username="governance.lead").is_staff
    assert not User.objects.get(username="data.scientist").is_staff
    assert User.objects.get(username="data.scientist").teams.count() >= 2
    assert not User.objects.filter(is_superuser=True).exists()


def test_the_summary_counts_levels_and_tiers(demo_output):
    from demo import fairness as demo_bias

    output = demo_output
    assert "Demo portfolio: 24 use cases, 24 classified" in output
    assert "total by tier" in output
    assert "governance.lead" in output
    # One line names the data behind the bias summary (COMPAS, or synthetic without it).
    sources = [line for line in output.splitlines() if line.startswith("bias summary: ")]
    expected = "COMPAS (ProPublica, " if demo_bias.compas_path().is_file() else "synthetic"
    assert len(sources) == 1 and sources[0].startswith(f"bias summary: {expected}")


def test_demo_use_cases_have_their_raci_people_except_ideas():
    from governance.selectors import raci_accountable_for, raci_view

    for use_case in UseCase.objects.all():
        view = raci_view(use_case=use_case)
        assert view.complete is (use_case.status != "idea"), use_case.name
    credit = UseCase.objects.get(name="Retail credit application scoring")
    assert [
        u.username for u in raci_accountable_for(use_case=credit, task_code="model-acceptance")
    ] == ["risk.officer"]


def test_every_use_case_status_follows_its_versions():
    """Issue 12, status follows reality: no demo use case's status contradicts where
    its versions are, and the ones meant for production got there by promotion."""
    from core.lifecycle_rules import lifecycle_check

    for use_case in UseCase.objects.all():
        envs = ModelVersion.objects.filter(model__use_case=use_case).values_list(
            "environment", flat=True
        )
        assert lifecycle_check(use_case.status, envs) is None, use_case.name
    meant = {s.name for s in demo.USE_CASES if s.status == "production"}
    in_prod = set(
        UseCase.objects.filter(status=LifecycleStatus.PRODUCTION).values_list("name", flat=True)
    )
    assert in_prod and in_prod <= meant
