"""Step 5 in the admin site: obligations and events open read-only for a governance
lead."""

from unittest import mock

import pytest
from django.urls import reverse

from governance.models import Obligation, ObligationEvent
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def obligation(team):
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.LOW)
    with mock.patch("governance.tasks.obligations_notify_owners.delay"):
        obligations_recompute(use_case=use_case)
    return Obligation.objects.filter(use_case=use_case).first()


@pytest.mark.parametrize("model", [Obligation, ObligationEvent], ids=lambda m: m.__name__)
def test_admin_pages_open_read_only(client, governance_lead, obligation, model):
    client.force_login(governance_lead)
    name = f"admin:governance_{model._meta.model_name}"
    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    obj = model.objects.first()
    assert client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"{name}_add")).status_code == 403
    delete = reverse(f"{name}_delete", args=[obj.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
