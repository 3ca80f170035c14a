"""Inventory services: team rules, idempotent version registration, re-classification."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from governance.models import Classification
from governance.services import classification_submit
from inventory.models import Dataset, ModelVersion, Regulation, UseCase
from inventory.services import (
    dataset_create,
    dataset_update,
    ml_model_create,
    model_version_register,
    model_version_update_metrics,
    use_case_create,
    use_case_update,
)
from tests.factories import MLModelFactory, UseCaseFactory, full_answers, user_with_role

pytestmark = pytest.mark.django_db

SHA_A = "a" * 64
SHA_B = "b" * 64


def use_case_fields(team, owner):
    return {
        "name": "Mortgage PD",
        "purpose": "Probability of default for mortgage applications.",
        "team": team,
        "business_owner": owner,
        "technical_owner": owner,
    }


def test_data_scientist_registers_use_cases_for_own_team_only(data_scientist, team, other_team):
    use_case = use_case_create(by=data_scientist, **use_case_fields(team, data_scientist))
    assert use_case.created_by == data_scientist
    with pytest.raises(PermissionDenied):
        use_case_create(
            by=data_scientist,
            **{**use_case_fields(other_team, data_scientist), "name": "Other"},
        )
    assert UseCase.objects.count() == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.APPROVER, Role.RISK_OFFICER])
def test_read_only_roles_cannot_write(role, team):
    user = user_with_role(role, teams=[team])
    with pytest.raises(PermissionDenied):
        use_case_create(by=user, **use_case_fields(team, user))


def test_invalid_use_case_is_not_written(data_scientist, team):
    with pytest.raises(ValidationError) as exc:
        use_case_create(
            by=data_scientist,
            **{**use_case_fields(team, data_scientist), "status": "shipped", "name": ""},
        )
    assert {"status", "name"} <= set(exc.value.message_dict)
    assert not UseCase.objects.exists()


def test_changing_regulations_reclassifies(data_scientist, team):
    use_case = UseCaseFactory(team=team)
    classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    use_case_update(
        use_case=use_case,
        by=data_scientist,
        regulations=Regulation.objects.filter(code="sr-11-7"),
    )
    use_case.refresh_from_db()
    assert use_case.risk_tier == 3
    latest = Classification.objects.filter(use_case=use_case).first()
    assert latest.previous_risk_tier == 1 and latest.classified_by == data_scientist
    assert latest.answers["regulations"] == ["sr-11-7"]


def test_use_case_cannot_be_moved_to_another_team(data_scientist, team, other_team):
    use_case = UseCaseFactory(team=team)
    with pytest.raises(PermissionDenied):
        use_case_update(use_case=use_case, by=data_scientist, team=other_team)
    use_case.refresh_from_db()
    assert use_case.team == team


def test_version_registration_is_idempotent_on_label(data_scientist, team):
    ml_model = MLModelFactory(use_case=UseCaseFactory(team=team))
    kwargs = {
        "by": data_scientist,
        "model": ml_model,
        "version_label": "2.0",
        "artifact_uri": "s3://m/2.0",
        "artifact_sha256": SHA_A,
        "framework": "xgboost",
    }
    first, created = model_version_register(**kwargs)
    again, created_again = model_version_register(**{**kwargs, "artifact_sha256": SHA_A.upper()})
    assert created and not created_again and first.pk == again.pk
    assert list(first.authors.all()) == [data_scientist]
    with pytest.raises(ValidationError) as exc:
        model_version_register(**{**kwargs, "artifact_sha256": SHA_B})
    assert "artifact_sha256" in exc.value.message_dict
    assert ModelVersion.objects.get().artifact_sha256 == SHA_A


@pytest.mark.parametrize("sha", ["xyz", "a" * 63, "g" * 64, ""])
def test_version_needs_a_real_sha256(data_scientist, team, sha):
    ml_model = MLModelFactory(use_case=UseCaseFactory(team=team))
    with pytest.raises(ValidationError):
        model_version_register(
            by=data_scientist,
            model=ml_model,
            version_label="1",
            artifact_uri="s3://m/1",
            artifact_sha256=sha,
            framework="x",
        )
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("metrics", [{"auc": "high"}, ["auc"], {"auc": True}])
def test_metrics_must_be_numbers(data_scientist, team, metrics):
    ml_model = MLModelFactory(use_case=UseCaseFactory(team=team))
    with pytest.raises(ValidationError):
        model_version_register(
            by=data_scientist,
            model=ml_model,
            version_label="1",
            artifact_uri="s3://m/1",
            artifact_sha256=SHA_A,
            framework="x",
            metrics=metrics,
        )


def test_metrics_merge_but_artifact_never_changes(data_scientist, team):
    ml_model = MLModelFactory(use_case=UseCaseFactory(team=team))
    version, _ = model_version_register(
        by=data_scientist,
        model=ml_model,
        version_label="1",
        artifact_uri="s3://m/1",
        artifact_sha256=SHA_A,
        framework="x",
        metrics={"auc": 0.8},
    )
    model_version_update_metrics(version=version, by=data_scientist, metrics={"gini": 0.6})
    version.refresh_from_db()
    assert version.metrics == {"auc": 0.8, "gini": 0.6}


def test_other_team_cannot_add_models(other_data_scientist, team):
    with pytest.raises(PermissionDenied):
        ml_model_create(by=other_data_scientist, use_case=UseCaseFactory(team=team), name="m")


def test_dataset_columns_replace_in_one_transaction(data_scientist, team):
    dataset = dataset_create(
        by=data_scientist,
        name="applications",
        source="dwh.apps",
        provenance="daily",
        owner=data_scientist,
        team=team,
        columns=[
            {"name": "income", "data_type": "float"},
            {"name": "email", "is_pii": True, "lineage_notes": "CRM"},
        ],
    )
    assert [c.name for c in dataset.columns.all()] == ["income", "email"]
    with pytest.raises(ValidationError):
        dataset_update(dataset=dataset, by=data_scientist, columns=[{"name": "a"}, {"name": "a"}])
    with pytest.raises(ValidationError):
        dataset_update(
            dataset=dataset,
            by=data_scientist,
            description="changed",
            columns=[{"name": "email", "is_pii": True}, {"name": "x" * 300}],
        )
    dataset.refresh_from_db()
    assert dataset.description == ""
    assert [c.name for c in Dataset.objects.get().columns.all()] == ["income", "email"]
