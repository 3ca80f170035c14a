"""Step 4 in the admin site: every policy model's pages open for a governance lead;
published versions are read-only; measure parameters are validated."""

import pytest
from django.urls import reverse

from governance.models import Consideration, Measure, Policy, PolicyVersion, Requirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client, governance_lead):
    client.force_login(governance_lead)
    return client


@pytest.mark.parametrize(
    "model", [Consideration, Measure, Policy, PolicyVersion, Requirement], ids=lambda m: m.__name__
)
def test_admin_pages_open(lead_client, model):
    name = f"admin:governance_{model._meta.model_name}"
    assert lead_client.get(reverse(f"{name}_changelist")).status_code == 200
    obj = model.objects.first()
    assert lead_client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200


def test_policy_versions_are_read_only(lead_client):
    v1 = PolicyVersion.objects.get(number=1)
    url = reverse("admin:governance_policyversion_change", args=[v1.pk])
    lead_client.post(url, {"change_note": "Rewritten"})
    v1.refresh_from_db()
    assert v1.change_note == "Default policy shipped with the product"
    delete = reverse("admin:governance_policyversion_delete", args=[v1.pk])
    assert lead_client.post(delete, {"post": "yes"}).status_code == 403
    assert PolicyVersion.objects.filter(pk=v1.pk).exists()


def test_measure_parameters_are_validated(lead_client):
    measure = Measure.objects.get(consideration__code="human-signoff", level="medium")
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    response = lead_client.post(
        url,
        {
            "consideration": measure.consideration_id,
            "level": "medium",
            "text": measure.text,
            "parameters": '{"signoffs_per_move": "one", "environments": ["prod"]}',
        },
    )
    assert response.status_code == 400 and b"must be a whole number" in response.content
    measure.refresh_from_db()
    assert measure.parameters["signoffs_per_move"] == 1
