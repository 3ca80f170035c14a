"""The background benchmark's drain on a small case (issue 18): what the product
publishes is run by its tasks, work scheduled for later is published by the sweep once
due, and the digest is sent. No timing is asserted."""

import pytest
from django.core import mail

from bench import background_bench
from governance.models import RaciRole
from governance.services import obligations_recompute, raci_assign
from inventory.choices import RiskTier
from notifications import jobs
from tests.factories import ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


def test_the_drain_runs_what_the_product_publishes(
    team, governance_lead, risk_officer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = 1
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    drain = background_bench.Drain()
    monkeypatch.setattr(jobs, "_publish", drain.publish)
    with django_capture_on_commit_callbacks(execute=True):
        raci_assign(
            use_case=use_case,
            role=RaciRole.objects.get(code="risk-audit"),
            by=governance_lead,
            user=risk_officer,
        )
    assert drain.published == {}  # debounced: the sweep publishes it once due
    drain.run()
    report = drain.report()
    recompute = report["tasks"][background_bench.RECOMPUTE]
    assert recompute == {"published": 1, "runs": 1, "skipped": 0, "seconds": recompute["seconds"]}
    assert report["noop_recomputes"] == 0  # the owners followed the RACI
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        background_bench._digest(drain)
    assert [m.to for m in mail.outbox[before:]] == [[risk_officer.email]]
