"""Issue 12, item 4, the way round the confirmation: one developer un-flagged a PII
column, re-answered "uses PII: no" and the re-classification dropped the tier.

Walked as that developer: un-flagging (or dropping) a PII column is refused through
the API and the page (a second-line decision; nothing written); a re-classification
that lowers the tier leaves the tier in effect until a risk officer confirms the lower
one (signed), on the page and through the API."""

from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.models import Classification, ClassificationConfirmation
from governance.selectors.classification import (
    classification_blocking,
    classification_downgrade_pending,
)
from governance.services import classification_confirm, classification_submit
from inventory.choices import RiskTier
from inventory.models import DatasetColumn
from tests.factories import (
    PASSWORD,
    DatasetColumnFactory,
    DatasetFactory,
    UseCaseFactory,
    full_answers,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
CRITICAL = full_answers(audience="customers", error_impact=["personal"])


@pytest.fixture(autouse=True)
def no_workers():
    with (
        mock.patch("governance.tasks.obligations_recompute.delay"),
        mock.patch("governance.tasks.obligations_recompute_all.delay"),
    ):
        yield


@pytest.fixture
def dataset(team, data_scientist):
    dataset = DatasetFactory(name="loan_book", team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="national_id", is_pii=True, data_type="string")
    DatasetColumnFactory(dataset=dataset, name="amount", is_pii=False, data_type="float")
    return dataset


def columns(dataset, **pii):
    return [
        {
            "name": c.name,
            "data_type": c.data_type,
            "is_pii": pii.get(c.name, c.is_pii),
            "lineage_notes": c.lineage_notes,
        }
        for c in dataset.columns.order_by("id")
    ]


# --- Un-flagging PII -----------------------------------------------------------------------


def test_unflagging_a_pii_column_is_refused_through_the_api(
    dataset, api_client_for, data_scientist
):
    response = api_client_for(data_scientist).patch(
        f"{API}/datasets/{dataset.pk}/",
        {"columns": columns(dataset, national_id=False)},
        format="json",
    )
    assert response.status_code == 403
    assert "national_id" in response.json()["detail"]
    assert DatasetColumn.objects.get(dataset=dataset, name="national_id").is_pii


def test_dropping_a_pii_column_is_refused_too(dataset, api_client_for, data_scientist):
    rows = [c for c in columns(dataset) if c["name"] != "national_id"]
    response = api_client_for(data_scientist).patch(
        f"{API}/datasets/{dataset.pk}/", {"columns": rows, "description": "x"}, format="json"
    )
    assert response.status_code == 403
    dataset.refresh_from_db()
    assert dataset.description != "x"
    assert dataset.columns.filter(name="national_id", is_pii=True).exists()


def test_unflagging_a_pii_column_is_refused_on_the_page(dataset, client_for, data_scientist):
    rows = columns(dataset, national_id=False)
    data = {
        "name": dataset.name,
        "team": dataset.team_id,
        "owner": dataset.owner_id,
        "source": dataset.source,
        "description": dataset.description,
        "provenance": dataset.provenance,
        "columns-TOTAL_FORMS": str(len(rows)),
        "columns-INITIAL_FORMS": str(len(rows)),
        "columns-MIN_NUM_FORMS": "0",
        "columns-MAX_NUM_FORMS": "500",
    }
    for i, row in enumerate(rows):
        data |= {f"columns-{i}-{k}": v for k, v in row.items() if v not in (False, None)}
    response = client_for(data_scientist).post(
        reverse("inventory:dataset-update", args=[dataset.pk]), data
    )
    assert response.status_code == 403
    assert DatasetColumn.objects.get(dataset=dataset, name="national_id").is_pii


def test_flagging_stays_free_and_the_second_line_may_unflag(
    dataset, api_client_for, data_scientist, governance_lead
):
    raised = api_client_for(data_scientist).patch(
        f"{API}/datasets/{dataset.pk}/", {"columns": columns(dataset, amount=True)}, format="json"
    )
    assert raised.status_code == 200
    lowered = api_client_for(governance_lead).patch(
        f"{API}/datasets/{dataset.pk}/",
        {"columns": columns(dataset, amount=False)},
        format="json",
    )
    assert lowered.status_code == 200
    assert not DatasetColumn.objects.get(dataset=dataset, name="amount").is_pii


# --- A lower tier waits for the risk officer ----------------------------------------------


@pytest.fixture
def critical(team, data_scientist, risk_officer):
    use_case = UseCaseFactory(team=team, uses_pii=True)
    classification_submit(use_case=use_case, answers=CRITICAL, by=data_scientist)
    classification_confirm(use_case=use_case, by=risk_officer, password=PASSWORD)
    use_case.refresh_from_db()
    assert use_case.risk_tier == RiskTier.CRITICAL
    return use_case


def test_a_lower_class_through_the_api_leaves_the_tier_in_effect(
    critical, api_client_for, data_scientist
):
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{critical.pk}/classification/", {"answers": full_answers()}, format="json"
    )
    assert response.status_code == 201
    critical.refresh_from_db()
    assert critical.risk_tier == RiskTier.CRITICAL
    latest = Classification.objects.filter(use_case=critical).first()
    assert latest.risk_tier < RiskTier.CRITICAL and "waits for a risk officer" in latest.note
    assert classification_downgrade_pending(use_case=critical) == latest
    state = api_client_for(data_scientist).get(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/"
    )
    assert state.json()["lower_tier_waiting"] == latest.risk_tier and state.json()["needed"]
    # The earlier confirmation no longer counts: the Critical class blocks past QA.
    assert "classification:unconfirmed" in dict(classification_blocking(critical, "prod"))


def test_a_lower_class_on_the_page_waits_too_and_the_page_says_so(
    critical, client_for, data_scientist, risk_officer
):
    data = {k: v for k, v in full_answers().items() if v != []}
    response = client_for(data_scientist).post(
        reverse("governance:use-case-classify", args=[critical.pk]), data
    )
    assert response.status_code == 302
    critical.refresh_from_db()
    assert critical.risk_tier == RiskTier.CRITICAL
    page = client_for(risk_officer).get(reverse("dashboard:use-case-detail", args=[critical.pk]))
    assert "Lower tier waiting" in page.content.decode()


def test_the_developer_cannot_confirm_their_own_lower_tier(critical, data_scientist, client_for):
    classification_submit(use_case=critical, answers=full_answers(), by=data_scientist)
    url = reverse("governance:use-case-classification-confirm", args=[critical.pk])
    assert client_for(data_scientist).post(url, {"password": PASSWORD}).status_code == 403
    api = APIClient()
    api.force_login(data_scientist)
    response = api.post(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/",
        {"password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    critical.refresh_from_db()
    assert critical.risk_tier == RiskTier.CRITICAL
    assert ClassificationConfirmation.objects.filter(use_case=critical).count() == 1


def test_a_risk_officers_signed_confirmation_applies_the_lower_tier(
    critical, data_scientist, risk_officer, client_for
):
    lower = classification_submit(use_case=critical, answers=full_answers(), by=data_scientist)
    url = reverse("governance:use-case-classification-confirm", args=[critical.pk])
    page = client_for(risk_officer)
    assert page.post(url, {"password": "guess"}).status_code == 400
    critical.refresh_from_db()
    assert critical.risk_tier == RiskTier.CRITICAL
    assert page.post(url, {"password": PASSWORD}).status_code == 302
    critical.refresh_from_db()
    assert critical.risk_tier == lower.risk_tier
    assert classification_downgrade_pending(use_case=critical) is None
    confirmation = ClassificationConfirmation.objects.filter(use_case=critical).first()
    assert confirmation.classification == lower and confirmation.risk_tier == lower.risk_tier


def test_a_lower_tier_of_an_unconfirmed_medium_class_waits_as_well(team, data_scientist):
    """Medium to Low is the issue's 0-signature auto-approval: it waits as well."""
    use_case = UseCaseFactory(team=team)
    medium = full_answers(audience="customers")  # "Customer-facing": at least Medium
    first = classification_submit(use_case=use_case, answers=medium, by=data_scientist)
    assert first.risk_tier == RiskTier.MEDIUM
    second = classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    assert second.risk_tier == RiskTier.LOW
    use_case.refresh_from_db()
    assert use_case.risk_tier == RiskTier.MEDIUM
    assert classification_downgrade_pending(use_case=use_case) == second
