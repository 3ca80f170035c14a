"""The query planner's statistics (issue 16/18): refreshed after a migrate and daily by
beat on the embedded database; PostgreSQL keeps its own."""

import pytest
from django.conf import settings
from django.db import connection

from governance.tasks import database_statistics_refresh
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db


def test_the_daily_pass_refreshes_the_embedded_databases_statistics():
    UseCaseFactory()
    result = database_statistics_refresh()
    if connection.vendor != "sqlite":
        assert result == {"vendor": connection.vendor, "analyzed": False}
        return
    assert result["analyzed"] is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl FROM sqlite_stat1 WHERE tbl = 'inventory_usecase'")
        assert cursor.fetchone() is not None


def test_beat_runs_it_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["database-statistics"]
    assert entry["task"] == "governance.tasks.database_statistics_refresh"
    assert entry["schedule"] == 24 * 60 * 60
