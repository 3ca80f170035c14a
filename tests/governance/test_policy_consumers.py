"""Issue 12: every machine-readable parameter of the policy has a reader in code. The
registry (``core.policy_rules.PARAMETER_CONSUMERS``) is filled by the modules that read
parameters, beside the code that reads them; the default policy as published (every
cell of the latest published version, and every measure of the catalogue) must name
no parameter that nobody registered."""

import pytest

from core import policy_rules
from governance.models import Measure, PolicyCell
from governance.selectors import policy_published_latest

pytestmark = pytest.mark.django_db


def test_every_parameter_of_the_default_policy_has_a_consumer():
    version = policy_published_latest()
    names: dict[str, set[str]] = {}
    for cell in PolicyCell.objects.filter(version=version).select_related("consideration"):
        names.setdefault(cell.consideration.code, set()).update(cell.parameters)
    for measure in Measure.objects.select_related("consideration"):
        names.setdefault(measure.consideration.code, set()).update(measure.parameters)
    assert sum(len(v) for v in names.values()) > 28  # the 28 of the issue, plus the gates
    assert policy_rules.unread_parameters(names) == []


def test_a_parameter_nobody_reads_is_reported():
    assert policy_rules.unread_parameters({"transparency": ["colour"]}) == ["transparency.colour"]
    with pytest.raises(ValueError, match="not a parameter"):
        policy_rules.register_consumer("nobody", "transparency", "colour")


def test_the_default_policy_gates_from_its_parameters():
    """Each cell says which moves its obligation blocks and what satisfies it; the
    Critical tier gates production on every consideration but the sign-off, which its
    own signatures satisfy, and monitoring is met by a monitoring configuration."""
    version = policy_published_latest()
    critical = {
        c.consideration.code: c.parameters
        for c in PolicyCell.objects.filter(version=version, tier=4).select_related("consideration")
    }
    gating = {code for code, p in critical.items() if "prod" in p["blocks"]}
    assert gating == set(policy_rules.CONSIDERATIONS) - {"human-signoff"}
    assert critical["human-signoff"]["evidence"] == "signatures"
    assert critical["production-monitoring"]["evidence"] == "monitoring-config"
    for code, params in critical.items():
        assert policy_rules.validate_parameters(code, params) == []


def test_gate_parameters_are_validated():
    params = {
        "interpretability": "explainability_tools",
        "explanations_required": True,
        "blocks": ["moon"],
        "evidence": "a nod",
        "carry_over": "yes",
    }
    errors = policy_rules.validate_parameters("transparency", params)
    assert any(e.startswith("blocks:") for e in errors)
    assert any(e.startswith("evidence:") for e in errors)
    assert any(e.startswith("carry_over:") for e in errors)
