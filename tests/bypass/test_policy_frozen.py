"""Issue 12: a published policy version is what was decided; its cells never change.

Migration 0022 had added ``human-signoff.independent_validation`` to the cells of the
published versions in place; migration 0023 restores them as published and brings the
parameter in a new version (v3), published by the system and audited. Then, walked as
the governance lead who would edit a published cell: the page, the API, the admin, the
service and the model all refuse, and nothing changes.
"""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import PolicyCell, PolicyVersion
from governance.selectors import policy_default, policy_published_latest
from governance.selectors.policy import policy_version_cells
from governance.services import policy_cells_set

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
