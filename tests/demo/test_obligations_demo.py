"""The demo's Step 5 content: every classified demo use case has its obligations, with
a why and (where the demo RACI names people) an owner; a second seed writes nothing."""

from unittest import mock

import pytest
from django.db.models import Q

from governance.models import Obligation, ObligationEvent
from inventory.models import ModelVersion, UseCase
from tests.demo.conftest import seed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


def test_demo_use_cases_owe_measures_with_why_and_owner():
    with mock.patch("governance.tasks.obligations_notify_owners.delay"):
        classified = UseCase.objects.filter(risk_tier__isnull=False)
        assert classified.exists()
        for use_case in classified:
            active = use_case.obligations.filter(active=True)
            assert active.filter(model_version__isnull=True).exists(), use_case.name
            assert all(o.why for o in active)
            # Each version owes its own measures about the model (issue 12).
            for version in ModelVersion.objects.filter(model__use_case=use_case).exclude(
                environment="retired"
            ):
                owed = active.filter(Q(model_version__isnull=True) | Q(model_version=version))
                assert owed.count() >= 7, (use_case.name, version.version_label)
        assert Obligation.objects.filter(owner__isnull=False).exists()
        counts = (Obligation.objects.count(), ObligationEvent.objects.count())
        output = seed()
        assert (Obligation.objects.count(), ObligationEvent.objects.count()) == counts
        assert "Created: nothing." in output
