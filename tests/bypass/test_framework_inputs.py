"""Bad input on the four-eyes and ethics-deviation endpoints is a 400/404 with a reason,
never a 500 (issue 13, "500s from input", for the routes added by issue 12)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_api(governance_lead):
    client = APIClient(raise_request_exception=False)
    client.force_login(governance_lead)
    return client


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/v1/framework-changes/999999/", 404),
        ("/api/v1/framework-changes/99999999999999999999/", 404),
        ("/api/v1/framework-changes/abc/", 404),
        ("/api/v1/framework-changes/?status=bogus", 400),
        ("/api/v1/ethics-deviations/?use_case=99999999999999999999", 400),
        ("/api/v1/ethics-deviations/?use_case=abc", 400),
    ],
)
def test_bad_ids_and_filters_are_client_errors(lead_api, url, status):
    assert lead_api.get(url).status_code == status


def test_approving_a_missing_proposal_is_404(lead_api):
    response = lead_api.post(
        "/api/v1/framework-changes/999999/approve/", {"password": "x"}, format="json"
    )
    assert response.status_code == 404
