"""``audit.figures``: a portfolio figure is kept while nothing is audited and the day is
the same, and computed again at once after any audited write (through the service, the
page or the admin alike) or at midnight."""

import datetime as dt

import pytest

from audit import figures
from audit.figures import audit_head, figure_while_unchanged
from audit.services import audit_record
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, day):
        self.calls += 1
        return {"calls": self.calls}


def test_kept_while_nothing_is_audited():
    compute = Counter()
    assert figure_while_unchanged("n", compute) == {"calls": 1}
    assert figure_while_unchanged("n", compute) == {"calls": 1}
    assert compute.calls == 1


def test_names_are_kept_apart():
    a, b = Counter(), Counter()
    figure_while_unchanged("mine:1", a)
    figure_while_unchanged("mine:2", b)
    assert (a.calls, b.calls) == (1, 1)


def test_any_audited_write_moves_the_head_and_the_figure_is_computed_again(governance_lead):
    compute = Counter()
    before = audit_head()
    figure_while_unchanged("n", compute)
    UseCaseFactory()  # a governed row saved: captured by the audit registry
    assert audit_head() != before
    assert figure_while_unchanged("n", compute) == {"calls": 2}
    audit_record(
        action="test.noted", obj=governance_lead, actor=governance_lead, reason="its own event"
    )
    assert figure_while_unchanged("n", compute) == {"calls": 3}


def test_a_new_day_computes_again(monkeypatch):
    compute = Counter()
    figure_while_unchanged("n", compute)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    monkeypatch.setattr(figures.timezone, "localdate", lambda: tomorrow)
    assert figure_while_unchanged("n", compute) == {"calls": 2}


def test_the_head_names_position_hash_and_the_newest_migration(governance_lead):
    from django.db.migrations.recorder import MigrationRecorder

    event = audit_record(action="test.noted", obj=governance_lead, actor=governance_lead)
    newest = MigrationRecorder.Migration.objects.order_by("-id").first()
    assert audit_head() == f"{event.seq}-{event.hash}-{newest.pk}"


@pytest.mark.django_db(transaction=True)
def test_a_migration_applied_computes_again():
    """A data migration writes rows without audit events: the figure follows it.

    ``migrate`` runs as the tables' owner (the application's role may not write
    ``django_migrations`` on PostgreSQL), so the row is recorded as the owner here too."""
    from django.db.migrations.recorder import MigrationRecorder

    from audit.db_roles import as_owner

    compute = Counter()
    figure_while_unchanged("n", compute)
    with as_owner():
        MigrationRecorder.Migration.objects.create(app="audit", name="9999_test_only")
    try:
        assert figure_while_unchanged("n", compute) == {"calls": 2}
    finally:
        with as_owner():
            MigrationRecorder.Migration.objects.filter(name="9999_test_only").delete()
