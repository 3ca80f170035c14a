"""A task sent through the real broker is run by a real worker process (not eager mode).

The worker runs with production settings (``governance.settings``) on the committed test
data; see ``conftest.py`` for how it is pointed at the test database and a private
broker. Runs on SQLite + the filesystem broker locally and on PostgreSQL + Redis in CI.
"""

import pytest

from governance.models import Classification, RiskRule
from governance.services import classification_submit
from governance.tasks import use_cases_reclassify as use_cases_reclassify_task
from inventory.models import UseCase
from tests.factories import UseCaseFactory, full_answers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_reclassifies_after_a_rule_change_and_is_idempotent(
    celery_worker, risk_officer, governance_lead
):
    use_case = UseCaseFactory(name="Churn analysis")
    first = classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    assert (first.criticality, first.risk_tier) == (1, 1)

    # A governance lead widens a rule so that ad-hoc analyses are level 2 as well.
    condition = RiskRule.objects.get(name="Scheduled batch").conditions.get()
    condition.values = ["adhoc"]
    condition.save()

    note = "Re-evaluated after a rule change (integration test)."
    task_id = celery_worker.send(use_cases_reclassify_task, by_id=governance_lead.pk, note=note)

    latest = celery_worker.wait_until(
        lambda: Classification.objects.filter(use_case=use_case).exclude(pk=first.pk).first(),
        timeout=60,
        what="the worker to write the new classification",
    )
    assert latest.criticality == 2
    assert (latest.previous_criticality, latest.previous_risk_tier) == (1, 1)
    assert latest.classified_by == governance_lead
    assert latest.note == note
    assert UseCase.objects.get(pk=use_case.pk).criticality == 2
    assert celery_worker.result_of(task_id) == {"evaluated": 1, "changed": 1, "needs_answers": 0}

    # Idempotent: the same task again finds nothing stale and writes nothing.
    rows = Classification.objects.count()
    again = celery_worker.send(use_cases_reclassify_task, by_id=governance_lead.pk, note=note)
    assert celery_worker.result_of(again) == {"evaluated": 0, "changed": 0, "needs_answers": 0}
    assert Classification.objects.count() == rows
