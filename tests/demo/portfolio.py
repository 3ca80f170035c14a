"""The demo portfolio seeded once inside an outer transaction, for test modules and
packages that read it: each test then runs in a savepoint inside it (pytest-django's
``db`` fixture), and the whole portfolio is rolled back on exit, so the rest of the
suite starts from an empty database."""

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from unittest import mock

from celery.app.task import Task
from django.core.management import call_command
from django.db import transaction


@contextmanager
def seeded_demo(django_db_blocker) -> Iterator[str]:
    """Run ``seed_demo`` in an outer transaction; yield what it printed."""
    with django_db_blocker.unblock(), mock.patch.object(Task, "delay"):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            call_command("seed_demo", stdout=out, stderr=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
