"""A bias summary of a monitoring reference dataset is refused when asked, through the
API and the page, and nothing is queued (issue 13: it was accepted, then failed in the
worker)."""

from unittest import mock

import pytest
from django.urls import reverse

from fairness.models import BiasSummary, ScoredDataset
from tests.factories import ScoredDatasetFactory
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference(version):
    return ScoredDatasetFactory(
        model_version=version,
        purpose=ScoredDataset.Purpose.REFERENCE,
        mapping={"prediction": "y_hat", "sensitive": []},
    )


def test_the_api_refuses_a_summary_of_a_reference_dataset(data_scientist, reference):
    with mock.patch("fairness.tasks.bias_summary_run.delay") as delay:
        response = api_client(data_scientist).post(
            f"/api/v1/scored-datasets/{reference.pk}/summaries/", {}, format="json"
        )
    assert response.status_code == 400
    assert "evaluation dataset" in response.json()["dataset"][0]
    assert not BiasSummary.objects.exists()
    delay.assert_not_called()


def test_the_page_refuses_a_summary_of_a_reference_dataset(client_for, data_scientist, reference):
    url = reverse("fairness:bias-summary-request", args=[reference.pk])
    with mock.patch("fairness.tasks.bias_summary_run.delay") as delay:
        response = client_for(data_scientist).post(
            url,
            {"reference": "best", "min_group_size": "30", "favourable_prediction": "1"},
        )
    assert response.status_code == 400
    assert "evaluation dataset" in response.content.decode()
    assert not BiasSummary.objects.exists()
    delay.assert_not_called()
