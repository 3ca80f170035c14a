"""A broker that is down (issue 13: Redis stopped on the production path): every write
that queues work still answers 2xx/3xx, its work waits as an outbox row, and the sweep
publishes it when the broker is back.

The test process publishes to Redis on a local port nothing listens on (a real kombu
connection, refused): what ``transaction.on_commit(lambda: task.delay(...))`` used to
raise into the committed request. Committed data (``transaction=True``): commit
callbacks run inside the request, as in production.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fairness.models import BiasSummary
from fairness.services import scored_dataset_validate
from governance.models import RaciRole
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from reviews.models import PromotionRequest
from tests.broker import broker_down
from tests.fairness.test_bias_services import MAPPING, csv_bytes
from tests.reviews.test_signoff import ask, sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def committed(transactional_db):
    """Committed data, with the data migrations' content (tests/conftest.py)."""


@pytest.fixture
def outage():
    with broker_down():
        yield


def waiting(task: str) -> list[JobMarker]:
    """Jobs of ``task`` committed but not published."""
    rows = JobMarker.objects.filter(task=task, sent_at=None, done_at=None, failed_at=None)
    return list(rows.order_by("pk"))


def publish_when_back() -> None:
    """The broker is back (the session's in-memory broker) and the work scheduled a few
    seconds later (a debounced recompute, issue 18) is due: the sweep publishes all."""
    JobMarker.objects.filter(sent_at=None).update(wanted_at="2000-01-01T00:00:00Z", not_before=None)
    outcome = jobs_sweep()
    assert outcome["published"] >= 1 and "broker_down" not in outcome
    assert not JobMarker.objects.filter(sent_at=None, done_at=None).exists()


def test_a_summary_requested_while_the_broker_is_down_is_accepted_and_waits(
    api_client_for, data_scientist, version, media
):
    api = api_client_for(data_scientist)
    upload = {
        "model_version": version.pk,
        "file": SimpleUploadedFile("scores.csv", csv_bytes()),
        "mapping": json.dumps(MAPPING),
    }
    dataset = api.post("/api/v1/scored-datasets/", upload, format="multipart").json()
    # The upload is checked row by row by a worker (issue 18): done here, as it would be.
    assert scored_dataset_validate(dataset_id=dataset["id"])["status"] == "valid"
    url = f"/api/v1/scored-datasets/{dataset['id']}/summaries/"
    with broker_down():
        requested = api.post(url, {"min_group_size": 20}, format="json")
        assert requested.status_code == 202, requested.content
        # Asked again (the person retries): still one summary and one job, waiting.
        assert api.post(url, {"min_group_size": 20}, format="json").status_code == 200
    summary = BiasSummary.objects.get()
    assert summary.status == "queued"
    [job] = waiting("reviews.tasks.bias_summary_run")
    assert job.kwargs == {"summary_id": summary.pk}
    publish_when_back()


def test_a_promotion_request_made_while_the_broker_is_down_is_accepted(
    world, client_for, data_scientist, outage
):
    _use_case, version = world
    response = ask(client_for(data_scientist), version)
    assert response.status_code == 302
    req = PromotionRequest.objects.get()
    e_mails = waiting("reviews.tasks.notification_send")
    assert len(e_mails) == 2  # one per signer
    assert {job.kwargs["notification_id"] for job in e_mails} == set(
        req_notifications(req).values_list("pk", flat=True)
    )


def req_notifications(req):
    from notifications.services import notifications_about

    return notifications_about(req)


def test_a_rejection_signed_while_the_broker_is_down_is_recorded(
    world, client_for, data_scientist, approver
):
    _use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    with broker_down():
        response = sign(client_for(approver), req, meaning="rejected", reason="No rollback plan.")
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == "rejected"
    decision = req_notifications(req).get(kind="decision", recipient=data_scientist)
    assert [job.kwargs for job in waiting("reviews.tasks.notification_send")] == [
        {"notification_id": decision.pk}
    ]
    publish_when_back()


def test_a_raci_assignment_made_while_the_broker_is_down_is_saved_and_its_recompute_waits(
    world, api_client_for, governance_lead, second_risk_officer, outage
):
    use_case, _version = world
    response = api_client_for(governance_lead).post(
        f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
        {"role": "risk-audit", "user": second_risk_officer.username},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert use_case.raci_assignments.filter(
        role=RaciRole.objects.get(code="risk-audit"), user=second_risk_officer
    ).exists()
    [job] = waiting("governance.tasks.obligations_recompute")
    assert job.kwargs["use_case_id"] == use_case.pk


def test_a_raci_assignment_through_the_page_while_the_broker_is_down(
    world, client_for, governance_lead, second_risk_officer, outage
):
    use_case, _version = world
    role = RaciRole.objects.get(code="risk-audit")
    response = client_for(governance_lead).post(
        f"/raci/use-cases/{use_case.pk}/assignments/",
        {"role": role.pk, "user": second_risk_officer.pk},
    )
    assert response.status_code == 302, response.status_code
    assert use_case.raci_assignments.filter(user=second_risk_officer).exists()
    assert waiting("governance.tasks.obligations_recompute")
