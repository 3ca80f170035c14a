"""The daily governance snapshot (issue 16, Step 8): its content against a hand-built
portfolio, exactly once a day, append-only, in a constant number of queries; KRI breaches
e-mailed to the governance leads exactly once per KRI and day."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from audit.append_only import AppendOnlyError
from notifications.models import Notification
from oversight.models import GovernanceSnapshot, KeyRiskIndicator
from oversight.selectors.indicators import INDICATORS, governance_indicators, register
from oversight.services.snapshots import snapshot_take
from oversight.tasks import governance_snapshot_daily
from tests.factories import user_with_role
from tests.oversight.portfolio import build_portfolio, expected

pytestmark = pytest.mark.django_db


def test_snapshot_content_matches_the_hand_built_portfolio():
    codes = build_portfolio()
    snapshot, created = snapshot_take()
    assert created
    assert snapshot.day == timezone.localdate()
    assert snapshot.indicators == expected(codes)


def test_an_empty_portfolio_has_zeros_and_no_median():
    values = governance_indicators()
    assert values["findings.open"] == 0
    assert values["obligations.open"] == 0
    assert values["approvals.median_days"] is None


def test_the_counts_scale_with_the_portfolio():
    codes = build_portfolio(copies=3)
    assert governance_indicators() == expected(codes, copies=3)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_snapshot_reads_in_a_constant_number_of_queries(django_assert_num_queries):
    build_portfolio(copies=1)
    small = _queries(governance_indicators)
    build_portfolio(copies=4)
    with django_assert_num_queries(small):
        governance_indicators()


def test_taking_it_twice_a_day_keeps_the_first():
    build_portfolio()
    first, created = snapshot_take()
    build_portfolio()  # the portfolio changes during the day
    assert governance_snapshot_daily.run()["created"] is False
    second, created_again = snapshot_take()
    assert created and not created_again
    assert second.pk == first.pk
    assert GovernanceSnapshot.objects.count() == 1
    assert GovernanceSnapshot.objects.get().indicators["findings.open"] == 4


def test_the_task_reports_the_day():
    assert governance_snapshot_daily.run() == {
        "day": timezone.localdate().isoformat(),
        "created": True,
    }
    assert governance_snapshot_daily.run()["created"] is False


def test_a_snapshot_is_never_changed_or_deleted():
    snapshot, _ = snapshot_take()
    snapshot.indicators = {"findings.open": 0}
    with pytest.raises(AppendOnlyError):
        snapshot.save()
    with pytest.raises(AppendOnlyError):
        snapshot.delete()
    with pytest.raises(AppendOnlyError):
        GovernanceSnapshot.objects.update(indicators={})


def test_one_more_indicator_group_is_one_line():
    try:
        register("extra", lambda today: {"extra.count": 7}, {"extra.count": "Extra"})
        assert governance_indicators()["extra.count"] == 7
    finally:
        INDICATORS.pop("extra")


# --- Key risk indicators -----------------------------------------------------------------


@pytest.fixture
def leads(db):
    return [
        user_with_role(Role.GOVERNANCE_LEAD, username=f"lead{i}", email=f"lead{i}@example.org")
        for i in range(2)
    ]


def test_a_breached_kri_mails_every_lead_exactly_once_a_day(
    leads, django_capture_on_commit_callbacks
):
    build_portfolio()
    inactive = user_with_role(Role.GOVERNANCE_LEAD, username="gone", email="gone@example.org")
    inactive.is_active = False
    inactive.save()
    user_with_role(Role.RISK_OFFICER, username="risk", email="risk@example.org")
    breached = KeyRiskIndicator.objects.create(
        indicator="findings.overdue", comparison="above", warning_level=0, breach_level=1
    )
    KeyRiskIndicator.objects.create(indicator="findings.open", breach_level=100)  # ok
    KeyRiskIndicator.objects.create(indicator="drift.alerts_open", breach_level=1, active=False)
    with django_capture_on_commit_callbacks(execute=False):
        snapshot_take()
        snapshot_take()
        governance_snapshot_daily.run()
    notes = Notification.objects.filter(kind=Notification.Kind.KRI_BREACH)
    assert sorted(n.email for n in notes) == ["lead0@example.org", "lead1@example.org"]
    assert {n.subject_id for n in notes} == {str(breached.pk)}
    # The next day, again once.
    with django_capture_on_commit_callbacks(execute=False):
        tomorrow, _ = snapshot_take(today=timezone.localdate() + dt.timedelta(days=1))
    assert tomorrow.indicators["findings.overdue"] == 1, tomorrow.indicators
    assert Notification.objects.filter(kind=Notification.Kind.KRI_BREACH).count() == 4


def test_a_kri_below_its_level_mails_nobody(leads):
    KeyRiskIndicator.objects.create(indicator="findings.open", breach_level=1)
    snapshot_take()
    assert not Notification.objects.filter(kind=Notification.Kind.KRI_BREACH).exists()


def test_the_breach_e_mail_renders(leads, mailoutbox):
    build_portfolio()
    KeyRiskIndicator.objects.create(
        indicator="findings.overdue", name="Overdue findings", breach_level=1
    )
    from notifications.services import notification_send

    snapshot_take()
    note = Notification.objects.filter(kind=Notification.Kind.KRI_BREACH).first()
    assert notification_send(notification_id=note.pk) == "sent"
    assert "Overdue findings" in mailoutbox[0].subject
    assert "/kpis/" in mailoutbox[0].body


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({"indicator": "no.such.thing", "breach_level": 1}, "indicator"),
        ({"indicator": "findings.open", "breach_level": 5, "warning_level": 9}, "warning_level"),
        (
            {"indicator": "findings.open", "comparison": "below", "breach_level": 5}
            | {"warning_level": 1},
            "warning_level",
        ),
    ],
)
def test_a_kri_on_an_unknown_indicator_or_with_levels_out_of_order_is_refused(fields, error_field):
    with pytest.raises(ValidationError) as exc:
        KeyRiskIndicator(**fields).full_clean()
    assert error_field in exc.value.error_dict
