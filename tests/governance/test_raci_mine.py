"""Issue 18: "my responsibilities" at portfolio scale, grouped by use case, a page of
use cases at a time, filtered by letter and name; the home page's count of incomplete
matrices computed in SQL agrees with the list checked in Python."""

import pytest
from django.contrib.auth.models import User

from governance.models import RaciAssignment, RaciRole, RaciTask, UseCaseRaciCell
from governance.selectors.raci import (
    raci_my_responsibilities,
    raci_my_use_cases,
    use_cases_with_incomplete_raci,
    use_cases_with_incomplete_raci_count,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(db):
    from demo import scale

    scale.load(n=30, seed=0)
    return {u: User.objects.get(username=u) for u in ("risk.officer", "data.scientist")}


def client(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def test_the_page_groups_rows_by_use_case_and_pages_them(portfolio):
    user = portfolio["risk.officer"]
    rows = raci_my_responsibilities(user=user)
    mine = list(raci_my_use_cases(user=user))
    assert [u.pk for u in mine] == list(dict.fromkeys(r["use_case"].pk for r in rows))
    response = client(user).get("/raci/mine/")
    assert response.status_code == 200
    groups = response.context["groups"]
    assert len(groups) == 25 and response.context["page_obj"].paginator.count == len(mine)
    first = groups[0]
    assert first["use_case"] == mine[0]
    assert first["rows"] == [r for r in rows if r["use_case"].pk == mine[0].pk]
    second = client(user).get("/raci/mine/?page=2").context["groups"]
    assert [g["use_case"] for g in second] == mine[25:]


def test_the_letter_and_name_filters(portfolio):
    user = portfolio["data.scientist"]
    rows = raci_my_responsibilities(user=user)
    accountable = {r["use_case"].pk for r in rows if "A" in r["letters"]}
    response = client(user).get("/raci/mine/", {"letter": "A"})
    assert response.status_code == 200
    shown = [g for g in response.context["groups"]]
    assert {g["use_case"].pk for g in shown} <= accountable
    assert response.context["page_obj"].paginator.count == len(accountable)
    assert all("A" in r["letters"] for g in shown for r in g["rows"])
    name = shown[0]["use_case"].name
    response = client(user).get("/raci/mine/", {"q": name})
    assert [g["use_case"].name for g in response.context["groups"]] == [name]


def test_a_bad_filter_is_a_400_naming_it(portfolio):
    response = client(portfolio["risk.officer"]).get("/raci/mine/", {"letter": "X"})
    assert response.status_code == 400
    assert "letter" in response.content.decode()


def test_a_use_case_with_its_own_matrix_follows_it(portfolio):
    """Risk / audit is Informed of identification in the template; a matrix of its own
    that makes it Accountable shows under the A filter for that use case only."""
    user = portfolio["risk.officer"]
    use_case = raci_my_use_cases(user=user).last()
    tasks = {t.code: t for t in RaciTask.objects.all()}
    roles = {r.code: r for r in RaciRole.objects.all()}
    UseCaseRaciCell.objects.create(
        use_case=use_case, task=tasks["identification"], role=roles["risk-audit"], letters="C"
    )
    assert use_case not in raci_my_use_cases(user=user, letter="A")
    assert use_case in raci_my_use_cases(user=user, letter="C")
    rows = raci_my_responsibilities(user=user, use_case_ids=[use_case.pk])
    assert [(r["task"].code, r["letters"]) for r in rows] == [("identification", "C")]


def test_the_incomplete_count_agrees_with_the_list(portfolio):
    lead = User.objects.get(username="governance.lead")
    assert use_cases_with_incomplete_raci_count(user=lead) == len(
        use_cases_with_incomplete_raci(user=lead)
    )
    # Nobody named for Risk / audit on two use cases, and one with its own matrix
    # missing its Accountable for model acceptance: three more.
    staffed = RaciAssignment.objects.filter(role__code="risk-audit").order_by("use_case_id")
    gone = list(staffed.values_list("use_case_id", flat=True)[:2])
    RaciAssignment.objects.filter(role__code="risk-audit", use_case_id__in=gone).delete()
    other = staffed.exclude(use_case_id__in=gone).first().use_case
    tasks = {t.code: t for t in RaciTask.objects.all()}
    roles = {r.code: r for r in RaciRole.objects.all()}
    UseCaseRaciCell.objects.create(
        use_case=other, task=tasks["model-acceptance"], role=roles["risk-audit"], letters="R"
    )
    listed = use_cases_with_incomplete_raci(user=lead)
    assert {u.pk for u in listed} >= set(gone) | {other.pk}
    assert use_cases_with_incomplete_raci_count(user=lead) == len(listed)
