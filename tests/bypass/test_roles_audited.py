"""Roles are groups: what a role permits, and when a person joined (which sets when
their first attestations and training fall due), are part of the record. A governance
lead cannot edit a role's permissions; a superuser's break-glass edit is audited, and
the figures kept for the pages (``audit.figures``) follow it at once."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.figures import audit_head
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client_for):
    return client_for(UserFactory(username="root", is_superuser=True, is_staff=True))


def _group_form(group, permissions) -> dict:
    return {"name": group.name, "permissions": [p.pk for p in permissions]}


def test_a_lead_cannot_widen_what_a_role_permits(client_for, governance_lead):
    auditors = Group.objects.get(name=Role.AUDITOR)
    before = set(auditors.permissions.values_list("pk", flat=True))
    change = Permission.objects.get(codename="change_usecase")
    lead = client_for(governance_lead)
    url = reverse("admin:auth_group_change", args=[auditors.pk])
    assert lead.get(url).status_code == 403
    response = lead.post(url, _group_form(auditors, [*auditors.permissions.all(), change]))
    assert response.status_code == 403
    assert set(auditors.permissions.values_list("pk", flat=True)) == before
    assert lead.get(reverse("admin:auth_group_add")).status_code == 403


def test_a_superuser_widening_a_role_is_audited(root):
    auditors = Group.objects.get(name=Role.AUDITOR)
    change = Permission.objects.get(codename="change_usecase")
    head = audit_head()
    url = reverse("admin:auth_group_change", args=[auditors.pk])
    response = root.post(url, _group_form(auditors, [*auditors.permissions.all(), change]))
    assert response.status_code == 302
    assert auditors.permissions.filter(pk=change.pk).exists()
    event = AuditEvent.objects.filter(object_type="auth.group").order_by("seq").last()
    assert event.object_id == str(auditors.pk)
    assert "permissions" in event.changes
    assert event.actor.username == "root"
    assert audit_head() != head


def test_renaming_a_role_is_audited(root):
    validators = Group.objects.get(name=Role.VALIDATOR)
    url = reverse("admin:auth_group_change", args=[validators.pk])
    response = root.post(url, _group_form(validators, validators.permissions.all()) | {"name": "x"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_type="auth.group").order_by("seq").last()
    assert event.changes["name"] == [Role.VALIDATOR.value, "x"]


def test_moving_the_date_a_person_joined_is_audited(root, approver):
    head = audit_head()
    joined = timezone.localtime(approver.date_joined) - timezone.timedelta(days=400)
    url = reverse("admin:auth_user_change", args=[approver.pk])
    form = {
        "username": approver.username,
        "first_name": approver.first_name,
        "last_name": approver.last_name,
        "email": approver.email,
        "is_active": "on",
        "is_staff": "on" if approver.is_staff else "",
        "groups": list(approver.groups.values_list("pk", flat=True)),
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.strftime("%H:%M:%S"),
    }
    response = root.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(object_type="auth.user").order_by("seq").last()
    assert event.object_id == str(approver.pk)
    assert "date_joined" in event.changes
    assert audit_head() != head
