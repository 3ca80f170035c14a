"""The knowledge check's attempt limit holds when a person submits from several tabs
at once (issue 16): parallel wrong answers on committed data, each request on its own
connection, record at most three failed attempts; the others are refused with the
wait, and none is a server error (``raise_request_exception=False`` counts a view's
exception as the 500 it would be)."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from engagement.models import TrainingCompletion, TrainingModule
from engagement.services import MAX_FAILED_ATTEMPTS
from tests.engagement.test_training import right_answers, wrong_answers
from tests.factories import user_with_role

PARALLEL = 8


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_answers_record_at_most_the_limit():
    module = TrainingModule.objects.get(code="signing-part-11")
    person = user_with_role(Role.APPROVER, username="many.tabs")
    url = reverse("engagement:module-submit", args=[module.code])
    barrier = threading.Barrier(PARALLEL)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def submit():
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(pk=person.pk))
        barrier.wait()
        try:
            response = client.post(url, wrong_answers(module))
            with lock:
                answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * MAX_FAILED_ATTEMPTS + [400] * (PARALLEL - MAX_FAILED_ATTEMPTS)
    assert all(b"try after" in body for status, body in answers if status == 400)
    assert TrainingCompletion.objects.filter(user=person).count() == MAX_FAILED_ATTEMPTS
    # and the right answers are refused too until the hour is over
    client = Client(raise_request_exception=False)
    client.force_login(person)
    assert client.post(url, right_answers(module)).status_code == 400
    assert not TrainingCompletion.objects.filter(user=person, passed=True).exists()
