"""Issue 12's governance records are append-only in PostgreSQL too: a raw UPDATE or
DELETE (what the application's database role could run by hand) is refused."""

import pytest
from django.db import DatabaseError, connection, transaction

from governance.models import ClassificationConfirmation
from inventory.choices import RiskTier
from tests.factories import UseCaseFactory, confirmed_classification

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL"
    ),
]

TABLES = [
    "governance_frameworkchange",
    "governance_frameworkchangedecision",
    "governance_classificationconfirmation",
    "inventory_artifactlink",
]


@pytest.mark.parametrize("table", TABLES)
def test_each_table_has_its_trigger(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert f"{table}_append_only" in names


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE governance_classificationconfirmation SET printed_name = 'someone else'",
        "DELETE FROM governance_classificationconfirmation",
    ],
)
def test_a_confirmation_cannot_be_rewritten_or_deleted(risk_officer, sql):
    use_case = UseCaseFactory(risk_tier=RiskTier.HIGH)
    confirmation = confirmed_classification(use_case, by=risk_officer)
    with (
        pytest.raises(DatabaseError, match="append-only|permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    confirmation.refresh_from_db()
    assert confirmation.printed_name == risk_officer.get_username()
    assert ClassificationConfirmation.objects.filter(pk=confirmation.pk).exists()
