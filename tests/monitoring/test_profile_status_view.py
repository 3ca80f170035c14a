"""The monitoring page's reference profile state as JSON (issue 18: the page polls it while
a worker builds the profile, instead of asking for a reload), gated as the page is."""

import pytest
from django.urls import reverse

from monitoring.models import ReferenceProfile
from tests.monitoring.monitoring_data import build_profile, configure, reference_dataset

pytestmark = pytest.mark.django_db

Status = ReferenceProfile.Status


@pytest.fixture
def queued(world, data_scientist, media):
    _, version = world
    return configure(
        version, data_scientist, reference_dataset(version, data_scientist), build=False
    )


def _status(client, config):
    return client.get(
        reverse("monitoring:monitoring-profile-status", args=[config.model_version_id])
    )


def test_the_state_follows_the_worker(queued, client_for, auditor):
    client = client_for(auditor)
    response = _status(client, queued)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "queued",
        "status_display": "Queued",
        "pending": True,
        "reason": None,
        "rows": None,
        "built_at": None,
    }
    page = client.get(reverse("monitoring:monitoring", args=[queued.model_version_id]))
    html = page.content.decode()
    assert 'data-status-url="/reviews/versions/' in html and "js/profile_status.js" in html

    ReferenceProfile.objects.filter(dataset=queued.reference).update(status=Status.BUILDING)
    state = _status(client, queued).json()
    assert state["status"] == "building" and state["pending"] is True

    build_profile(queued)  # the worker's task, on the real file
    state = _status(client, queued).json()
    assert state["status"] == "ready" and state["pending"] is False
    assert state["rows"] == 4000 and state["built_at"]
    page = client.get(reverse("monitoring:monitoring", args=[queued.model_version_id]))
    assert "js/profile_status.js" not in page.content.decode()  # nothing left to wait for


def test_a_failed_profile_says_why(queued, client_for, auditor):
    ReferenceProfile.objects.filter(dataset=queued.reference).update(
        status=Status.FAILED, error="The reference dataset cannot be profiled: bad file"
    )
    state = _status(client_for(auditor), queued).json()
    assert state["status"] == "failed" and state["pending"] is False
    assert state["reason"] == "The reference dataset cannot be profiled: bad file"


def test_refused_to_whoever_may_not_see_the_page(queued, client, client_for, no_role_user):
    url = reverse("monitoring:monitoring-profile-status", args=[queued.model_version_id])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(no_role_user).get(url).status_code == 403
    assert (
        client_for(no_role_user)
        .get(reverse("monitoring:monitoring", args=[queued.model_version_id]))
        .status_code
        == 403
    )


def test_a_version_without_monitoring_is_404(world, client_for, auditor):
    _, version = world
    url = reverse("monitoring:monitoring-profile-status", args=[version.pk])
    assert client_for(auditor).get(url).status_code == 404
    missing = reverse("monitoring:monitoring-profile-status", args=[version.pk + 999_999])
    assert client_for(auditor).get(missing).status_code == 404
