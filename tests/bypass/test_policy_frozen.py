"""Issue 12: a published policy version is what was decided; its cells never change.

Migration 0022 had added ``human-signoff.independent_validation`` to the cells of the
published versions in place; migration 0023 restores them as published and brings the
parameter in a new version (v3), published by the system and audited. Then, walked as
the governance lead who would edit a published cell: the page, the API, the admin, the
service, the model and the database (a raw UPDATE or DELETE with the application's
credentials) all refuse, and nothing changes; a draft's cells stay editable.
"""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import PolicyCell, PolicyVersion
from governance.selectors import policy_default, policy_published_latest
from governance.selectors.policy import policy_version_cells
from governance.services import policy_cells_set, policy_draft_create

pytestmark = pytest.mark.django_db

PARAM = "independent_validation"


def signoff_cells(version) -> list[PolicyCell]:
    return list(version.cells.filter(consideration__code="human-signoff").order_by("tier"))


def frozen(version) -> list[tuple]:
    return list(
        PolicyCell.objects.filter(version=version)
        .order_by("tier", "consideration_id")
        .values_list("tier", "consideration_id", "level", "text", "parameters")
    )


# --- the migration put it right ---------------------------------------------------------


def test_earlier_versions_are_as_they_were_published():
    published = PolicyVersion.objects.filter(policy=policy_default(), status="published")
    earlier = published.exclude(pk=policy_published_latest().pk)
    assert earlier.count() >= 2
    for version in earlier:
        assert all(PARAM not in cell.parameters for cell in signoff_cells(version)), version


def test_the_parameter_arrives_in_a_new_version_published_by_the_system():
    latest = policy_published_latest()
    assert latest.number == 3 and latest.published_by is None
    assert "published by the system migration" in latest.change_note
    assert latest.based_on.number == 2
    cells = signoff_cells(latest)
    assert cells and all(cell.parameters[PARAM] is (cell.level == "strict") for cell in cells)
    # Everything else is v2's cells, unchanged.
    before = {(c.tier, c.consideration_id): c for c in latest.based_on.cells.all()}
    for cell in latest.cells.exclude(consideration__code="human-signoff"):
        old = before[(cell.tier, cell.consideration_id)]
        assert (cell.level, cell.text, cell.parameters) == (old.level, old.text, old.parameters)
    event = AuditEvent.objects.get(action="policy_version.published", object_id=str(latest.pk))
    assert event.actor is None and event.actor_label.startswith("system:migration governance.0023")
    assert event.changes["status"] == [None, "published"]
    restored = AuditEvent.objects.filter(action="policy_version.cells_restored")
    assert {e.object_id for e in restored} == {
        str(v.pk) for v in PolicyVersion.objects.filter(number__in=[1, 2])
    }


def test_the_audit_chain_holds_with_the_migrations_events():
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().startswith("OK")


# --- every route refuses an edit of a published cell -----------------------------------------


def test_page_api_admin_and_service_refuse_to_change_a_published_cell(client_for, governance_lead):
    from tests.governance.test_policy_views import cells_post

    latest = policy_published_latest()
    before = frozen(latest)
    page = client_for(governance_lead)
    url = reverse("governance:policy-version", args=[latest.pk])
    response = page.post(url, cells_post(latest, cell_4_transparency="none"))
    assert response.status_code == 409
    assert b"is published and cannot be changed" in response.content

    api = APIClient()
    api.force_login(governance_lead)
    response = api.post(
        f"/api/v1/policy-versions/{latest.pk}/cells/",
        {"cells": [{"tier": 4, "consideration": "transparency", "level": "none"}]},
        format="json",
    )
    assert response.status_code == 409

    admin_url = reverse("admin:governance_policyversion_change", args=[latest.pk])
    assert page.post(admin_url, {"change_note": "edited"}).status_code == 403
    delete_url = reverse("admin:governance_policyversion_delete", args=[latest.pk])
    assert page.post(delete_url, {"post": "yes"}).status_code == 403

    with pytest.raises(ValidationError, match="published"):
        policy_cells_set(version=latest, cells={(4, "transparency"): "none"}, by=governance_lead)
    assert frozen(latest) == before
    assert policy_version_cells(latest)[(4, "transparency")] != "none"


def test_the_model_refuses_to_save_or_delete_a_published_cell():
    latest = policy_published_latest()
    cell = signoff_cells(latest)[0]
    before = frozen(latest)
    cell.parameters = {**cell.parameters, PARAM: not cell.parameters[PARAM]}
    with pytest.raises(ValidationError, match="cannot be changed"):
        cell.save()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        cell.delete()
    with pytest.raises(ValidationError, match="cannot be changed"):
        PolicyCell(version=latest, tier=cell.tier, consideration=cell.consideration).save()
    latest.change_note = "rewritten"
    with pytest.raises(ValidationError, match="cannot be changed"):
        latest.save()
    assert frozen(latest) == before


# --- the database refuses it too, to a raw UPDATE or DELETE ----------------------------------

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL")


def _raw(sql: str, params=()) -> str | None:
    """Run ``sql`` as the application does (its own role on PostgreSQL); the database's
    refusal, or None when it ran."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return str(exc)
    return None


def test_the_database_refuses_a_raw_update_or_delete_of_a_published_cell():
    """Whoever reaches the database with the application's credentials (a shell on a
    web host, a report tool) cannot rewrite what a published version required: the
    database itself refuses, not only the model and the services."""
    latest = policy_published_latest()
    cell = signoff_cells(latest)[0]
    before = frozen(latest)
    changed = _raw("UPDATE governance_policycell SET level = %s WHERE id = %s", ["none", cell.pk])
    assert changed and "frozen" in changed and "published policy version" in changed
    deleted = _raw("DELETE FROM governance_policycell WHERE version_id = %s", [latest.pk])
    assert deleted and "frozen" in deleted
    assert frozen(latest) == before


def test_the_database_refuses_to_unpublish_a_version_or_move_a_draft_cell_into_it(
    governance_lead,
):
    """The two ways round a frozen cell: turn its version back into a draft, or move an
    edited draft cell under the published version."""
    latest = policy_published_latest()
    before = frozen(latest)
    unpublished = _raw(
        "UPDATE governance_policyversion SET status = 'draft', number = NULL, "
        "published_at = NULL WHERE id = %s",
        [latest.pk],
    )
    assert unpublished and "frozen" in unpublished
    assert _raw("DELETE FROM governance_policyversion WHERE id = %s", [latest.pk])
    draft = policy_draft_create(policy=latest.policy, by=governance_lead)
    draft_cell = draft.cells.first()
    moved = _raw(
        "UPDATE governance_policycell SET version_id = %s WHERE id = %s",
        [latest.pk, draft_cell.pk],
    )
    assert moved and "frozen" in moved
    latest.refresh_from_db()
    assert latest.status == "published" and frozen(latest) == before


def test_a_drafts_cells_stay_editable(governance_lead):
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    cell = draft.cells.get(tier=4, consideration__code="transparency")
    assert _raw("UPDATE governance_policycell SET level = 'none' WHERE id = %s", [cell.pk]) is None
    cell.refresh_from_db()
    assert cell.level == "none"
    policy_cells_set(version=draft, cells={(4, "transparency"): "strict"}, by=governance_lead)
    assert policy_version_cells(draft)[(4, "transparency")] == "strict"
    assert _raw("DELETE FROM governance_policycell WHERE id = %s", [cell.pk]) is None
    assert not PolicyCell.objects.filter(pk=cell.pk).exists()


@postgresql_only
def test_postgresql_guards_published_policy_rows_with_row_triggers():
    for table in ("governance_policycell", "governance_policyversion"):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.tgtype, t.tgenabled FROM pg_trigger t "
                "WHERE t.tgrelid = %s::regclass AND t.tgname = %s",
                [table, f"{table}_frozen"],
            )
            [(kind, state)] = cursor.fetchall()
        # tgtype bits: 1 row, 2 before, 8 delete, 16 update.
        assert kind & 1 and kind & 2 and kind & 24 == 24 and state != "D", table


@postgresql_only
def test_the_application_role_cannot_lift_the_guard():
    """CI runs the tests as the application role, which does not own the tables: it
    cannot disable or drop the trigger, nor its function."""
    from tests.db_guard_plugin import runs_as_owner

    if runs_as_owner("governance_policycell"):
        pytest.skip("runs as the tables' owner (set DATABASE_OWNER_URL to test the roles)")
    for sql in (
        "ALTER TABLE governance_policycell DISABLE TRIGGER USER",
        "DROP TRIGGER governance_policycell_frozen ON governance_policycell",
        "DROP FUNCTION governance_policycell_frozen() CASCADE",
        "ALTER TABLE governance_policyversion DISABLE TRIGGER ALL",
    ):
        refused = _raw(sql)
        assert refused and ("must be owner" in refused or "permission denied" in refused), sql
