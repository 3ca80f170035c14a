"""The pure rules of findings management (issue 16)."""

from datetime import date

from core import finding_rules as fr


def rows():
    return {s: r.to_dict() for s, r in fr.DEFAULT_RULES.items()}


def test_due_date_is_the_opening_day_plus_the_severity_s_days():
    assert fr.due_on(date(2026, 1, 1), fr.DEFAULT_RULES[fr.CRITICAL]) == date(2026, 1, 15)
    assert fr.due_on(date(2026, 1, 1), fr.DEFAULT_RULES[fr.LOW]) == date(2026, 6, 30)


def test_the_flow_and_its_refusals():
    assert fr.transition_refusal(fr.OPEN, fr.PLANNED) is None
    assert fr.transition_refusal(fr.REMEDIATED, fr.VERIFIED) is None
    assert fr.transition_refusal(fr.VERIFIED, fr.CLOSED) is None
    assert "verified" in fr.transition_refusal(fr.OPEN, fr.CLOSED)
    assert "verified" in fr.transition_refusal(fr.REMEDIATED, fr.CLOSED)
    assert "only a remediated" in fr.transition_refusal(fr.PLANNED, fr.VERIFIED)
    assert "closed" in fr.transition_refusal(fr.CLOSED, fr.PLANNED)
    assert fr.actor_of(fr.REMEDIATED, fr.VERIFIED) == fr.SECOND_LINE
    assert fr.actor_of(fr.OPEN, fr.REMEDIATED) == fr.OWNER
    assert fr.actor_of(fr.ACCEPTED, fr.OPEN) == fr.SYSTEM


def test_blocking_follows_the_rule_and_the_status():
    medium, low = fr.DEFAULT_RULES[fr.MEDIUM], fr.DEFAULT_RULES[fr.LOW]
    assert fr.blocks(medium, fr.OPEN, "prod") and fr.blocks(medium, fr.REMEDIATED, "qa")
    assert not fr.blocks(medium, fr.VERIFIED, "prod")
    assert not fr.blocks(medium, fr.ACCEPTED, "prod")
    assert not fr.blocks(low, fr.OPEN, "prod")


def test_a_higher_authority_may_do_what_a_lower_may():
    assert fr.authority_suffices(["governance-lead"], "risk-officer")
    assert not fr.authority_suffices(["risk-officer"], "governance-lead")
    assert not fr.authority_suffices([], "risk-officer")


def test_the_defaults_are_valid_and_loosening_with_severity_is_refused():
    assert fr.validate_rules(rows()) == {}
    bad = rows()
    bad["critical"]["remediation_days"] = 60  # longer than high's 30
    bad["high"]["acceptance_authority"] = "risk-officer"  # lower than medium? equal: fine
    bad["critical"]["acceptance_authority"] = "risk-officer"  # lower than high's lead? no
    errors = fr.validate_rules(bad)["finding_rules"]
    assert any("critical: it cannot have longer to remediate than high" in e for e in errors)
    bad = rows()
    bad["high"]["blocks"] = ["prod"]  # fewer than medium's
    assert any(
        "at least the moves medium blocks" in e for e in fr.validate_rules(bad)["finding_rules"]
    )
    bad = rows()
    bad["critical"]["acceptance_authority"] = "risk-officer"
    assert any("lower authority" in e for e in fr.validate_rules(bad)["finding_rules"])


def test_bad_rows_are_named():
    bad = rows()
    del bad["low"]
    bad["medium"]["remediation_days"] = 0
    bad["high"]["acceptance_max_days"] = 999
    bad["critical"]["blocks"] = ["moon"]
    bad["extreme"] = bad["critical"]
    errors = " ".join(fr.validate_rules(bad)["finding_rules"])
    for words in (
        "missing: low",
        "medium: remediation days",
        "high: an acceptance runs",
        "critical: blocked moves",
        "Unknown severity extreme",
    ):
        assert words in errors


def test_ageing_buckets_every_severity():
    out = fr.ageing([("high", 0), ("high", 30), ("low", 31), ("critical", 200), ("odd", 5)])
    assert list(out) == [label for label, _, _ in fr.AGE_BUCKETS]
    assert out["0-30 days"]["high"] == 2
    assert out["31-90 days"]["low"] == 1
    assert out["over 180 days"]["critical"] == 1
    assert sum(sum(v.values()) for v in out.values()) == 4


def test_rules_from_rows_fill_the_defaults():
    rules = fr.rules_from_rows({"low": {**rows()["low"], "remediation_days": 200}})
    assert rules["low"].remediation_days == 200
    assert rules["critical"] == fr.DEFAULT_RULES["critical"]
