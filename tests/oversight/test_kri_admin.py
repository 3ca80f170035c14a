"""Key risk indicators are edited by governance leads in the admin site (issue 16, Step
8): an unknown indicator or levels in the wrong order are refused there, nothing saved;
every change is in the audit trail; other roles do not get in."""

import pytest

from audit.models import AuditEvent
from oversight.models import KeyRiskIndicator

pytestmark = pytest.mark.django_db
ADD = "/admin/oversight/keyriskindicator/add/"


def _form(**overrides):
    return {
        "indicator": "findings.overdue",
        "name": "Overdue findings",
        "comparison": "above",
        "warning_level": "1",
        "breach_level": "3",
        "active": "on",
        **overrides,
    }


def test_a_lead_adds_a_kri_and_it_is_audited(governance_lead, client_for):
    response = client_for(governance_lead).post(ADD, _form())
    assert response.status_code == 302
    kri = KeyRiskIndicator.objects.get()
    assert (kri.indicator, kri.breach_level) == ("findings.overdue", 3)
    assert AuditEvent.objects.filter(object_type="oversight.keyriskindicator").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"indicator": "findings.everything"}, "Unknown indicator"),
        ({"warning_level": "9"}, "cannot exceed the breach level"),
        ({"comparison": "below", "warning_level": "1"}, "cannot be under the breach level"),
    ],
)
def test_a_bad_kri_is_refused_in_the_admin(governance_lead, client_for, overrides, message):
    response = client_for(governance_lead).post(ADD, _form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not KeyRiskIndicator.objects.exists()


def test_other_roles_do_not_get_into_the_admin(risk_officer, client_for):
    response = client_for(risk_officer).post(ADD, _form())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not KeyRiskIndicator.objects.exists()
