"""The audit trail records who changed what (old -> new), when and why: creates,
updates, deletes and many-to-many changes through the pages, the API and the admin,
RACI cells overwritten in place, workflow events with their reasons, and the
system as the actor of work done outside a request."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from audit.services import audit_context, audit_record
from governance.models import Obligation, UseCaseRaciCell
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from inventory.models import Regulation
from tests.factories import MLModelFactory, UseCaseFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
SHA = "c" * 64


@pytest.fixture
def use_case(team, data_scientist):
    use_case = UseCaseFactory(
        team=team,
        name="Mortgage PD",
        business_owner=data_scientist,
        technical_owner=data_scientist,
    )
    use_case.regulations.set(Regulation.objects.filter(code="gdpr"))
    return use_case


def events_for(obj, **filters):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), **filters
    ).order_by("seq")


def use_case_form(use_case, **overrides):
    data = {
        "name": use_case.name,
        "team": use_case.team_id,
        "status": use_case.status,
        "purpose": use_case.purpose,
        "restrictions": use_case.restrictions,
        "business_owner": use_case.business_owner_id,
        "technical_owner": use_case.technical_owner_id,
        "regulations": list(use_case.regulations.values_list("pk", flat=True)),
    }
    data.update(overrides)
    return data


def test_a_page_edit_records_who_and_each_changed_field_old_to_new(
    client_for, data_scientist, use_case
):
    before = AuditEvent.objects.count()
    eu_ai_act = Regulation.objects.get(code="eu-ai-act")
    gdpr = Regulation.objects.get(code="gdpr")
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-update", args=[use_case.pk]),
        use_case_form(use_case, name="Mortgage PD v2", regulations=[gdpr.pk, eu_ai_act.pk]),
    )
    assert response.status_code == 302
    update = events_for(use_case, action="update", seq__gt=before).first()
    assert update.actor == data_scientist and update.actor_label == "ds"
    assert update.changes["name"] == ["Mortgage PD", "Mortgage PD v2"]
    assert "purpose" not in update.changes  # unchanged fields are not listed
    assert update.context["channel"] == "page"
    assert update.context["path"] == f"/inventory/use-cases/{use_case.pk}/edit/"
    membership = [e for e in events_for(use_case, seq__gt=before) if "regulations" in e.changes]
    assert membership, "the regulations change is recorded"
    old, new = membership[-1].changes["regulations"]
    assert [r["id"] for r in old] == [gdpr.pk]
    assert sorted(r["id"] for r in new) == sorted([gdpr.pk, eu_ai_act.pk])
    assert {"id": eu_ai_act.pk, "repr": str(eu_ai_act)} in new
    assert all(e.actor == data_scientist for e in membership)


def test_an_api_edit_names_the_token_user_and_the_channel(api_client_for, data_scientist, use_case):
    response = api_client_for(data_scientist).patch(
        f"{API}/use-cases/{use_case.pk}/", {"status": "retired"}, format="json"
    )
    assert response.status_code == 200
    event = events_for(use_case, action="update").last()
    assert event.changes["status"] == ["development", "retired"]
    assert event.actor == data_scientist
    assert event.context == {
        "channel": "api",
        "method": "PATCH",
        "path": f"{API}/use-cases/{use_case.pk}/",
    }


def test_a_create_through_the_api_records_every_field_and_foreign_keys_with_names(
    api_client_for, data_scientist, use_case
):
    ml_model = MLModelFactory(use_case=use_case, name="pd-gbm")
    response = api_client_for(data_scientist).post(
        f"{API}/model-versions/",
        {
            "model": ml_model.pk,
            "version_label": "2.0",
            "artifact_uri": "s3://models/pd/2.0/model.pkl",
            "artifact_sha256": SHA,
            "framework": "xgboost 3.0",
            "metrics": {"auc": 0.84},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    version = ml_model.versions.get(version_label="2.0")
    created = events_for(version, action="create").get()
    assert created.actor == data_scientist
    assert created.changes["artifact_sha256"] == [None, SHA]
    assert created.changes["metrics"] == [None, {"auc": 0.84}]
    assert created.changes["model"] == [None, {"id": ml_model.pk, "repr": "pd-gbm"}]
    assert (created.parent_type, created.parent_id) == ("inventory.mlmodel", str(ml_model.pk))
    authors = events_for(version, action="update").last()
    assert authors.changes["authors"] == [[], [{"id": data_scientist.pk, "repr": "ds"}]]


def test_raci_cells_overwritten_in_place_keep_their_history(client_for, data_scientist, use_case):
    client = client_for(data_scientist)
    page = f"/raci/use-cases/{use_case.pk}/"
    assert client.post(page, {"cell-integration-data-ops": "R"}).status_code == 302
    assert client.post(page, {"cell-integration-data-ops": "AR"}).status_code == 302
    cell = UseCaseRaciCell.objects.get(
        use_case=use_case, task__code="integration", role__code="data-ops"
    )
    history = list(events_for(cell))
    assert [e.action for e in history] == ["create", "update"]
    assert history[0].changes["letters"] == [None, "R"]
    assert history[1].changes["letters"] == ["R", "AR"]
    assert history[1].actor == data_scientist
    assert (history[1].parent_type, history[1].parent_id) == ("inventory.usecase", str(use_case.pk))


def test_a_delete_through_the_api_records_the_last_values(
    api_client_for, data_scientist, governance_lead, use_case
):
    client = api_client_for(data_scientist)
    response = client.post(
        f"{API}/raci-matrices/{use_case.pk}/assignments/",
        {"role": "data-ops", "user": governance_lead.username},
        format="json",
    )
    assignment_id = response.json()["assignments"][0]["id"]
    assert (
        client.delete(f"{API}/raci-matrices/{use_case.pk}/assignments/{assignment_id}/").status_code
        == 204
    )
    deleted = AuditEvent.objects.get(
        object_type="governance.raciassignment", object_id=str(assignment_id), action="delete"
    )
    assert deleted.actor == data_scientist and deleted.context["method"] == "DELETE"
    assert deleted.changes["user"] == [{"id": governance_lead.pk, "repr": "lead"}, None]
    assert deleted.parent_id == str(use_case.pk)
    assert "Data ops" in deleted.object_repr


def test_an_admin_edit_is_recorded_with_the_admin_channel(client_for, governance_lead):
    regulation = Regulation.objects.get(code="gdpr")
    response = client_for(governance_lead).post(
        f"/admin/inventory/regulation/{regulation.pk}/change/",
        {
            "code": regulation.code,
            "name": regulation.name,
            "area": regulation.area,
            "jurisdiction": "European Union and EEA",
            "description": regulation.description,
            "proposal_reason": "The EEA too.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # An admin edit of a regulation is a four-eyes proposal (issue 12).
    event = AuditEvent.objects.filter(action="framework_change.proposed").last()
    assert event.actor == governance_lead and event.context["channel"] == "admin"
    from governance.models import FrameworkChange

    change = FrameworkChange.objects.get(kind="catalogue_edit")
    assert change.content["fields"]["jurisdiction"] == "European Union and EEA"


def test_a_waiver_records_the_workflow_event_with_its_reason(
    client_for, governance_lead, team, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with mock.patch("governance.tasks.obligations_notify_owners.delay"):
        use_case = UseCaseFactory(team=team, name="Credit limit", risk_tier=RiskTier.HIGH)
        obligations_recompute(use_case=use_case)
        # A use-case-scope obligation (version-scope ones are owed by versions, issue 12).
        signoff = Obligation.objects.get(
            use_case=use_case, consideration__code="audit-documentation"
        )
        response = client_for(governance_lead).post(
            f"/obligations/use-cases/{use_case.pk}/{signoff.pk}/waive/",
            {"justification": "Compensating control: four-eyes review."},
        )
    assert response.status_code == 302
    waived = AuditEvent.objects.get(action="obligation.waived")
    assert waived.reason == "Compensating control: four-eyes review."
    assert waived.actor == governance_lead
    assert (waived.parent_type, waived.parent_id) == ("inventory.usecase", str(use_case.pk))
    status = events_for(signoff, action="update").last()
    assert status.changes["status"] == ["open", "waived"]


def test_signing_in_records_nothing_but_a_role_change_is_recorded(
    client, data_scientist, governance_lead
):
    from django.contrib.auth.models import Group

    from accounts.roles import Role
    from tests.factories import PASSWORD

    before = AuditEvent.objects.count()
    assert client.login(username="ds", password=PASSWORD)
    assert AuditEvent.objects.count() == before  # last_login is not a change of record
    with audit_context(actor=governance_lead, reason="Joins model validation"):
        data_scientist.groups.add(Group.objects.get(name=Role.APPROVER))
    event = events_for(data_scientist).last()
    old, new = event.changes["groups"]
    assert [g["repr"] for g in old] == [Role.DATA_SCIENTIST]
    assert sorted(g["repr"] for g in new) == sorted([Role.DATA_SCIENTIST, Role.APPROVER])
    assert (event.actor, event.reason) == (governance_lead, "Joins model validation")


def test_a_password_change_is_recorded_without_the_hash(data_scientist):
    data_scientist.set_password("another-long-passphrase")
    data_scientist.save()
    event = events_for(data_scientist, action="update").last()
    assert event.changes == {"password": ["(changed)", "(changed)"]}


def test_audit_context_gives_a_reason_and_an_actor_to_changes_outside_a_request(
    governance_lead, use_case
):
    with audit_context(actor=governance_lead, reason="Annual review of the inventory"):
        use_case.restrictions = "Not for pricing."
        use_case.save()
    event = events_for(use_case, action="update").last()
    assert event.reason == "Annual review of the inventory"
    assert event.actor == governance_lead
    assert event.changes == {"restrictions": ["", "Not for pricing."]}


def test_work_outside_a_request_is_done_by_the_system(use_case):
    use_case.purpose = "Changed by a script."
    use_case.save()
    event = events_for(use_case, action="update").last()
    assert event.actor is None
    assert event.actor_label.startswith("system:")
    assert event.context["channel"] in {"command", "task"}


def test_a_save_that_changes_nothing_records_nothing(use_case):
    before = AuditEvent.objects.count()
    use_case.save()
    assert AuditEvent.objects.count() == before


def test_workflow_events_are_recorded_by_other_apps_with_audit_record(approver, use_case):
    event = audit_record(
        action="promotion.approved",
        obj=use_case,
        actor=approver,
        reason="Validation report reviewed.",
        changes={"status": ("pending", "approved")},
    )
    assert event.seq == AuditEvent.objects.order_by("-seq").first().seq
    assert event.changes == {"status": ["pending", "approved"]}
    assert (event.object_type, event.object_id, event.actor_label) == (
        "inventory.usecase",
        str(use_case.pk),
        "approver",
    )


def test_audit_events_cannot_be_changed_or_deleted_from_python(use_case):
    event = events_for(use_case).first()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == ""


def test_the_use_case_page_shows_its_history_with_a_link_for_auditors(
    client_for, data_scientist, auditor, use_case
):
    with audit_context(actor=data_scientist, reason="Scope narrowed"):
        use_case.restrictions = "Never for collections."
        use_case.save()
    page = reverse("dashboard:use-case-detail", args=[use_case.pk])
    content = client_for(data_scientist).get(page).content.decode()
    assert "Change history" in content
    assert (
        'Restrictions:</span> — <span aria-label="changed to">→</span> Never for collections.'
        in content
    )
    assert "Scope narrowed" in content
    assert "Full audit trail" not in content  # data scientists don't read the global trail
    content = client_for(auditor).get(page).content.decode()
    assert "Full audit trail" in content
    assert f"object_id={use_case.pk}" in content


def test_the_model_page_shows_its_versions_history(client_for, auditor, use_case):
    ml_model = MLModelFactory(use_case=use_case, name="pd-gbm")
    ml_model.description = "Gradient boosting."
    ml_model.save()
    content = (
        client_for(auditor)
        .get(reverse("inventory:model-detail", args=[ml_model.pk]))
        .content.decode()
    )
    assert "Change history" in content
    assert '<span class="muted">Description:</span>' in content  # its label (issue 18)
