"""The ethical position applied (issue 12, item 5): a use case answering far below the
organisation's position (transparency 1 of 5 against 4, manipulation declared) opens
deviations owned by its model-acceptance Accountable, shown on the use case's pages
and in the API; answering within the position closes them, with an audit trail."""

from unittest import mock

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from governance.models import EthicsDeviation, RaciRole
from governance.services import (
    ethics_deviations_refresh_all,
    ethics_position_answer,
    ethics_use_case_answer,
    raci_assign,
)
from tests.factories import UseCaseFactory
from tests.governance.four_eyes import other_lead, position_approve
from tests.governance.test_ethics_services import position_answers, use_case_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def position(governance_lead):
    answer_set = ethics_position_answer(
        answers=position_answers(transparency=4), by=governance_lead, tolerance=1
    )
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        position_approve(answer_set=answer_set, by=other_lead())
    return answer_set


@pytest.fixture
def use_case(team, governance_lead, risk_officer):
    use_case = UseCaseFactory(team=team)
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="risk-audit"),
        by=governance_lead,
        user=risk_officer,
    )
    return use_case


def far_below():
    return use_case_answers(transparency=1, psychology=["manipulation"])


def test_answers_far_below_the_position_open_deviations_for_the_acceptance_accountable(
    position, use_case, data_scientist, risk_officer
):
    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    rows = {d.code: d for d in EthicsDeviation.objects.filter(use_case=use_case)}
    assert set(rows) == {"transparency", "psychology:manipulation"}
    assert {d.owner for d in rows.values()} == {risk_officer}
    assert rows["transparency"].position == position and rows["transparency"].is_open
    assert AuditEvent.objects.filter(action="ethics.deviation_opened").count() == 2


def test_answering_again_the_same_writes_nothing_and_within_tolerance_closes(
    position, use_case, data_scientist
):
    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    assert EthicsDeviation.objects.count() == 2
    better = ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(transparency=3), by=data_scientist
    )
    closed = EthicsDeviation.objects.filter(use_case=use_case)
    assert all(not d.is_open for d in closed) and closed.count() == 2
    assert {d.closed_by_answers for d in closed} == {better}
    event = AuditEvent.objects.filter(action="ethics.deviation_closed").first()
    assert event.reason == "Answered within the organisation's position."


def test_a_changed_shortfall_is_closed_and_reopened_with_the_new_values(
    position, use_case, data_scientist
):
    ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(transparency=1), by=data_scientist
    )
    ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(transparency=2), by=data_scientist
    )
    rows = EthicsDeviation.objects.filter(use_case=use_case, code="transparency")
    assert [(d.use_case_value, d.is_open) for d in rows.order_by("id")] == [(1, False), (2, True)]


def test_a_new_position_with_more_tolerance_closes_them(
    position, use_case, data_scientist, governance_lead
):
    ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(transparency=2), by=data_scientist
    )
    assert EthicsDeviation.objects.filter(closed_at=None).count() == 1
    looser = ethics_position_answer(
        answers=position_answers(transparency=4), by=governance_lead, tolerance=2
    )
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        position_approve(answer_set=looser, by=other_lead())
    assert ethics_deviations_refresh_all(by=None) == {"opened": 0, "closed": 1}
    assert ethics_deviations_refresh_all(by=None) == {"opened": 0, "closed": 0}


def test_without_a_position_nothing_deviates(use_case, data_scientist):
    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    assert not EthicsDeviation.objects.exists()


def test_deviations_show_on_the_use_case_pages_and_in_the_api(
    position, use_case, data_scientist, client_for, api_client_for, auditor, other_data_scientist
):
    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    for url in (
        reverse("dashboard:use-case-detail", args=[use_case.pk]),
        reverse("governance:ethics-use-case", args=[use_case.pk]),
    ):
        page = client_for(auditor).get(url)
        assert page.status_code == 200
        assert b"Ethics deviations" in page.content and b"answered 1 of 5" in page.content
    body = api_client_for(auditor).get(
        f"/api/v1/ethics-deviations/?use_case={use_case.pk}&open=true"
    )
    assert body.status_code == 200
    assert {d["code"] for d in body.json()["results"]} == {
        "transparency",
        "psychology:manipulation",
    }
    assert api_client_for(auditor).get("/api/v1/ethics-deviations/?use_case=x").status_code == 400


def test_ethics_blocking_costs_one_query_whatever_the_number_of_deviations(
    position, use_case, data_scientist, risk_officer, django_assert_num_queries
):
    """Whether a deviation was ever accepted (to say its acceptance expired) is part of
    the one query, not a query per deviation (it was one per open deviation)."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import EthicsDeviationAcceptance
    from governance.selectors.ethics import ethics_blocking

    ethics_use_case_answer(use_case=use_case, answers=far_below(), by=data_scientist)
    first = EthicsDeviation.objects.get(use_case=use_case, code="transparency")

    def expired(deviation):
        EthicsDeviationAcceptance.objects.create(
            deviation=deviation,
            accepted_by=risk_officer,
            printed_name=risk_officer.username,
            reason="Until the transparency review.",
            accepted_at=timezone.now() - dt.timedelta(days=40),
            expires_on=timezone.localdate() - dt.timedelta(days=1),
        )

    expired(first)
    with django_assert_num_queries(1):
        few = ethics_blocking(use_case, "prod")
    for i in range(5):
        expired(
            EthicsDeviation.objects.create(
                use_case=use_case,
                code=f"transparency-{i}",
                kind=first.kind,
                message=first.message,
                opened_by_answers=first.opened_by_answers,
                position=first.position,
                owner=first.owner,
                opened_at=first.opened_at,
            )
        )
    with django_assert_num_queries(1):
        many = ethics_blocking(use_case, "prod")
    assert len(many) == len(few) + 5
    assert sum("acceptance expired" in message for _, message in many) == 6
