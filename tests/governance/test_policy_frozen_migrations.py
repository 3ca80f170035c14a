"""The database refuses to change a published policy version or its cells
(``audit.db_guard.register_frozen``), yet the data migrations that rewrote published
cells before (governance 0022 in place, 0023 restoring them and publishing v3) still
run backwards and forwards through ``migrate``: it lifts the frozen rows' guards before
migrating and puts them back after."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from governance.models import PolicyVersion
from governance.selectors import policy_published_latest


def _refused(sql: str, params) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        assert "frozen" in str(exc) or "permission denied" in str(exc), exc
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_migrating_back_past_0023_and_forward_again_keeps_the_guard(owner_connection):
    assert policy_published_latest().number == 3
    call_command("migrate", "governance", "0022", verbosity=0)
    # 0023 reversed: v3 and its cells gone (read as values: later columns are gone too).
    published = PolicyVersion.objects.filter(status="published").values_list("number", flat=True)
    assert max(published) == 2
    call_command("migrate", verbosity=0)
    latest = policy_published_latest()
    assert latest.number == 3 and latest.published_by is None
    # The guard is back after the migrate.
    assert _refused("DELETE FROM governance_policycell WHERE version_id = %s", [latest.pk])
    assert latest.cells.exists()
