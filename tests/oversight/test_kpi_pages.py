"""The KPI trends page (issue 16, Step 8): who reads it, the period's 400s, the KRI
status, drill-down links whose lists count as many rows as the figures, the CSV, and a
constant number of queries whatever the portfolio."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from oversight.models import GovernanceSnapshot, KeyRiskIndicator
from oversight.services.snapshots import snapshot_take
from tests.oversight.portfolio import build_portfolio

pytestmark = pytest.mark.django_db

READERS = (Role.RISK_OFFICER, Role.GOVERNANCE_LEAD, Role.AUDITOR)
REFUSED = (Role.DATA_SCIENTIST, Role.APPROVER, Role.VALIDATOR)


@pytest.mark.parametrize("role", READERS)
def test_readers_see_the_page_and_the_navigation_link(role, users_by_role, client_for):
    response = client_for(users_by_role[role]).get("/kpis/")
    assert response.status_code == 200
    assert 'href="/kpis/"' in response.content.decode()


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize(
    "path", ["/kpis/", "/kpis/export.csv", "/kpis/reviews/", "/kpis/reviews/new/"]
)
def test_other_roles_are_refused(role, path, users_by_role, client_for):
    client = client_for(users_by_role[role])
    response = client.post(path) if path.endswith("new/") else client.get(path)
    assert response.status_code == 403
    home = client.get("/").content.decode()
    assert 'href="/kpis/"' not in home


def test_no_role_and_anonymous_are_refused(no_role_user, client_for, client):
    assert client_for(no_role_user).get("/kpis/").status_code == 403
    response = client.get("/kpis/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("days", ["0", "7", "366", "abc", "30.5", "-30", "9" * 40])
def test_a_bad_period_is_a_400_naming_the_allowed_values(days, risk_officer, client_for):
    client = client_for(risk_officer)
    response = client.get("/kpis/", {"days": days})
    assert response.status_code == 400
    assert "30, 90, 365" in response.content.decode()
    assert client.get("/kpis/export.csv", {"days": days}).status_code == 400


def _seed_history(days: int = 40) -> None:
    today = timezone.localdate()
    GovernanceSnapshot.objects.bulk_create(
        GovernanceSnapshot(
            day=today - dt.timedelta(days=i),
            taken_at=timezone.now(),
            indicators={"findings.open": i, "findings.overdue": i % 3},
        )
        for i in range(1, days)
    )


def test_the_page_shows_trends_kri_status_and_csv(risk_officer, client_for):
    build_portfolio()
    _seed_history()
    snapshot_take()
    KeyRiskIndicator.objects.create(indicator="findings.overdue", name="Overdue", breach_level=1)
    KeyRiskIndicator.objects.create(indicator="findings.open", warning_level=3, breach_level=10)
    client = client_for(risk_officer)
    page = client.get("/kpis/", {"days": 30}).content.decode()
    assert 'data-chart="chart-findings-data"' in page
    assert 'id="chart-findings-data"' in page
    assert 'data-kri-status="breach"' in page and 'data-kri-status="warning"' in page
    assert "30 daily snapshots" in page
    body = client.get("/kpis/export.csv", {"days": 30}).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "day" and len(rows) == 31
    col = rows[0].index("findings.open")
    assert rows[-1][col] == "4" and rows[1][col] == "29"
    assert (
        len(list(csv.reader(io.StringIO(client.get("/kpis/export.csv?days=365").content.decode()))))
        == 41
    )


def _links(page: str) -> dict[str, str]:
    """{indicator key: link} of the indicators table's rows that have a link."""
    out = {}
    for row in page.split("<tr")[1:]:
        row = row.split("</tr>")[0]
        key, link = re.search(r'data-indicator="([^"]+)"', row), re.search(r'href="([^"]+)"', row)
        if key and link:
            out[key.group(1)] = link.group(1)
    return out


def _count_on_list(client, url: str) -> int:
    response = client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200, url
    page_obj = response.context["page_obj"]
    return page_obj.paginator.count


def test_each_link_opens_a_list_with_as_many_rows_as_the_figure(risk_officer, client_for):
    build_portfolio()
    snapshot, _ = snapshot_take()
    client = client_for(risk_officer)
    page = client.get("/kpis/").content.decode()
    links = _links(page)
    checked = 0
    for key, url in links.items():
        if "/reviews/periodic-reviews/" in url:
            continue  # not paginated by rows of a queryset: its count is the ids' length
        if key.endswith("_pct"):
            # A share of people: its link opens the completion by role and team.
            assert client.get(url).status_code == 200, (key, url)
            continue
        assert _count_on_list(client, url) == snapshot.indicators[key], (key, url)
        checked += 1
    assert {"findings.open", "obligations.overdue", "bias.breaches_open"} <= set(links)
    assert any(".consideration." in k for k in links) and any(".age." in k for k in links)
    assert checked >= 15


def test_the_page_reads_in_a_constant_number_of_queries(
    risk_officer, client_for, django_assert_num_queries
):
    client = client_for(risk_officer)
    build_portfolio()
    snapshot_take()
    KeyRiskIndicator.objects.create(indicator="findings.open", breach_level=10)
    client.get("/kpis/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/kpis/?days=365")
    _seed_history(300)
    build_portfolio(copies=3)
    KeyRiskIndicator.objects.create(indicator="findings.overdue", breach_level=10)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/kpis/?days=365").status_code == 200


def test_a_breach_shows_on_the_home_page_for_readers_only(users_by_role, client_for):
    build_portfolio()
    snapshot_take()
    KeyRiskIndicator.objects.create(
        indicator="findings.overdue", name="Late findings", breach_level=1
    )
    KeyRiskIndicator.objects.create(
        indicator="findings.open", name="Open findings", breach_level=99
    )
    page = client_for(users_by_role[Role.AUDITOR]).get("/").content.decode()
    assert 'data-testid="kri-breaches"' in page and "Late findings" in page
    assert "Open findings" not in page
    page = client_for(users_by_role[Role.DATA_SCIENTIST]).get("/").content.decode()
    assert 'data-testid="kri-breaches"' not in page
