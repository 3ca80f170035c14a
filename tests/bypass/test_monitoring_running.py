"""Issue 12: "monitoring configured" is an obligation that blocks prod for the tiers that
owe monitoring, and it must mean monitoring that runs. Walked as the data scientist who
configured monitoring once, moved the version to production and never sent it any
production data: once the version has been in production for two periods of its
cadence, the gate answers blocked until a window with production data is computed
recently; a configuration alone no longer passes."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.selectors import obligations_gating_move
from inventory.choices import RiskTier
from monitoring.services.policy import monitoring_configured
from reviews.models import PromotionRequest
from tests.bypass.test_gate_policy import gate, move
from tests.factories import MonitoringConfigFactory, MonitoringWindowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitored_in_prod(world, data_scientist, risk_officer, approver, governance_lead):
    """A Critical version moved to prod with its monitoring configured (weekly)."""
    from governance.services import obligations_recompute

    use_case, version = world
    use_case.risk_tier = RiskTier.CRITICAL
    use_case.save(update_fields=["risk_tier"])
    obligations_recompute(use_case=use_case)
    config = MonitoringConfigFactory(model_version=version, cadence="weekly")
    req = None
    for env in ("qa", "preprod", "prod"):
        req = move(
            version,
            env,
            requester=data_scientist,
            signers=[risk_officer, approver],
            checker=risk_officer,
            lead=governance_lead,
        )
    return version, config, req


def in_prod_since(req, days: int) -> None:
    PromotionRequest.objects.filter(pk=req.pk).update(
        decided_at=timezone.now() - dt.timedelta(days=days)
    )


def monitoring_reasons(response) -> list[dict]:
    return [r for r in response.json()["reasons"] if r.get("obligation") == "production-monitoring"]


def test_a_version_newly_in_prod_is_allowed_on_its_configuration(
    monitored_in_prod, api_client_for, data_scientist
):
    version, config, req = monitored_in_prod
    assert config.windows.count() == 0
    response = gate(api_client_for(data_scientist), version)
    assert response.json()["allowed"] is True, response.json()


def test_a_configuration_nobody_feeds_blocks_prod_after_two_periods(
    monitored_in_prod, api_client_for, data_scientist
):
    version, config, req = monitored_in_prod
    in_prod_since(req, days=30)
    response = gate(api_client_for(data_scientist), version)
    assert response.json()["allowed"] is False
    [reason] = monitoring_reasons(response)
    assert reason["code"] == "obligation-unmet"
    assert "no monitoring window with production data" in reason["message"]
    [item] = [
        o
        for o in obligations_gating_move(version=version, environment="prod")
        if o["code"] == "production-monitoring"
    ]
    assert "no monitoring window" in item["problem"]


def test_a_recent_window_with_data_lets_it_through_and_a_stale_one_does_not(
    monitored_in_prod, api_client_for, data_scientist
):
    version, config, req = monitored_in_prod
    in_prod_since(req, days=60)
    now = timezone.now()
    stale = MonitoringWindowFactory(
        config=config, start=now - dt.timedelta(days=27), end=now - dt.timedelta(days=20)
    )
    response = gate(api_client_for(data_scientist), version)
    [reason] = monitoring_reasons(response)
    assert "not running" in reason["message"] and f"{stale.end:%Y-%m-%d}" in reason["message"]
    # A recent window without rows is not monitoring either.
    MonitoringWindowFactory(
        config=config,
        start=now - dt.timedelta(days=10),
        end=now - dt.timedelta(days=3),
        status="empty",
        rows=0,
    )
    assert monitoring_reasons(gate(api_client_for(data_scientist), version))
    MonitoringWindowFactory(
        config=config, start=now - dt.timedelta(days=17), end=now - dt.timedelta(days=3)
    )
    response = gate(api_client_for(data_scientist), version)
    assert response.json()["allowed"] is True, response.json()


def test_before_production_the_configuration_is_what_is_owed(world):
    use_case, version = world
    assert "no monitoring configuration" in monitoring_configured(version)
    MonitoringConfigFactory(model_version=version)
    assert monitoring_configured(version) is None  # in dev: no production data yet
