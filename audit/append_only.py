"""Governance records are append-only: one base for every model whose rows, once
written, are never changed or deleted (audit events, classifications, ethics answers
and approvals, signatures, waivers, periodic reviews, gate calls, alert events...).

In Python, ``save()`` of an existing row, ``delete()``, and the queryset's ``update()``,
``delete()`` and ``bulk_update()`` raise ``AppendOnlyError``. In the database, every
subclass's table gets triggers after every migrate (``audit.db_guard``): on PostgreSQL
UPDATE, DELETE and TRUNCATE are refused, and the application's role has only SELECT and
INSERT on them (``audit.db_roles``); on SQLite UPDATE and DELETE are refused.
``AppendOnlyError`` is a ``ValidationError``, so a page or the API answers it as a
refused input (400), never a 500.
"""

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnlyError(ValidationError):
    """A governance record was about to be changed or deleted."""


def _noun(model) -> str:
    return str(model._meta.verbose_name_plural).capitalize()


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{_noun(self.model)} are append-only and cannot be changed.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{_noun(self.model)} are append-only and cannot be changed.")

    def delete(self):
        raise AppendOnlyError(f"{_noun(self.model)} are append-only and cannot be deleted.")

    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """Rows are added, never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{_noun(type(self))} are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{_noun(type(self))} are append-only and cannot be deleted.")
