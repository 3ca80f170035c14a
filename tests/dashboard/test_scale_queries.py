"""Issue 18: the composed pages, a dataset page and the inventory, audit, fairness, monitoring and
experiment lists of the API read the database the same number of times for a portfolio
of 3 use cases and of 30 (``demo.scale``, the code of ``manage.py seed_scale``).

Exact counts: a change that adds a query per use case, version or obligation fails
here, and so does one that adds a query to every request (then update the figure)."""

import pytest

pytestmark = pytest.mark.django_db


def use_case_page(use_case):
    return f"/inventory/use-cases/{use_case.pk}/"


def dataset_page(use_case):
    return f"/inventory/datasets/{use_case.datasets.order_by('pk').first().pk}/"


PAGES = {
    "dataset_page": 9,
    # + the latest governance snapshot's KRI breaches (issue 16, Step 8), + the audit
    # head naming the kept figures, read twice (the tallies, the RACI ids shared with
    # the incomplete list); counted cold: see test_home_keeps_its_figures
    "/": 17,  # the obligations tally in one query (issue 18, cold paths)
    "use_case_page": 32,  # + the use case's documents card (issue 15)
    "/inventory/": 9,
    "/inventory/datasets/": 7,
    "/audit/": 6,
    "/reviews/experiments/": 4,
}
API = {
    "/api/v1/use-cases/": 7,
    "/api/v1/teams/": 5,
    "/api/v1/models/": 5,
    "/api/v1/model-versions/": 7,
    "/api/v1/datasets/": 6,
    "/api/v1/audit-events/": 5,
    "/api/v1/scored-datasets/": 4,
    "/api/v1/bias-summaries/": 4,
    "/api/v1/monitoring-configs/": 4,
    "/api/v1/monitoring-windows/": 4,
    "/api/v1/drift-alerts/": 4,
    "/api/v1/experiments/": 4,
}


FUNCTIONS = {"use_case_page": use_case_page, "dataset_page": dataset_page}


def _urls(expected):
    return [FUNCTIONS.get(url, url) for url in expected]


def test_home_use_case_inventory_and_audit_pages_do_not_grow(scale_counts):
    counts = scale_counts(_urls(PAGES))
    assert counts == {url: [n, n] for url, n in PAGES.items()}, counts


def test_home_keeps_its_figures_until_the_records_change(client_for, governance_lead):
    """Viewed again with nothing audited meanwhile, the home page reads neither the
    obligations' tally nor the RACI and ethics counts (audit.figures)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(governance_lead)
    client.get("/")
    with CaptureQueriesContext(connection) as warm:
        assert client.get("/").status_code == 200
    sql = " ".join(q["sql"] for q in warm.captured_queries)
    assert "governance_obligation" not in sql and "governance_raciassignment" not in sql
    assert "governance_ethicsanswerset" not in sql


def test_my_work_and_its_badge_share_the_kept_sections(client_for, risk_officer, governance_lead):
    """The badge every page fetches and the page read the sections once between two
    audited writes; a finding handed to the person is counted at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews.services.findings import finding_set_owner
    from tests.factories import FindingFactory

    finding = FindingFactory()
    finding.model_version.model.use_case.team.members.add(risk_officer)
    client = client_for(risk_officer)
    before = client.get("/my-work/counts/").json()
    with CaptureQueriesContext(connection) as warm:
        assert client.get("/my-work/").status_code == 200
        assert client.get("/my-work/counts/").json() == before
    assert not any("governance_obligation" in q["sql"] for q in warm.captured_queries)
    finding_set_owner(finding=finding, by=governance_lead, owner=risk_officer, reason="Handover")
    assert client.get("/my-work/counts/").json()["findings"] == before["findings"] + 1


def test_api_lists_do_not_grow(scale_counts):
    counts = scale_counts(_urls(API), username="governance.lead")
    assert counts == {url: [n, n] for url, n in API.items()}, counts


# Issue 16: findings, My work, attestations and training, the KPIs and framework reviews.
# My work differs by role (a risk officer's sections read more; the remediations to
# verify are read set-based, RACI included, whatever the number of candidates); training reads each
# module's completion (constant in the portfolio, one set per module).
GOVERNANCE_PAGES = {
    # Cold: + the audit head of the kept summary, + the page's ids before its rows.
    "/reviews/findings/?unresolved=true": 13,
    # Cold (audit.figures): + the audit head for the sections and for the periodic
    # reviews' index, + the obligations shown read by id after their index.
    "/my-work/": {"risk.officer": 41, "governance.lead": 34},
    "/my-work/counts/": {"risk.officer": 41, "governance.lead": 34},
    "/attestations/": 8,
    "/training/": 26,
    "/kpis/?days=365": 6,  # cold: + the audit head of the kept charts
    # Counted and paged from an index, then the page's rows by id.
    "/obligations/?state=owed": 7,
    "/kpis/reviews/": 5,
}


@pytest.mark.parametrize("username", ["risk.officer", "governance.lead"])
def test_governance_pages_do_not_grow(scale_counts, username):
    counts = scale_counts(list(GOVERNANCE_PAGES), username=username)
    expected = {
        url: [n[username], n[username]] if isinstance(n, dict) else [n, n]
        for url, n in GOVERNANCE_PAGES.items()
    }
    assert counts == expected, counts


def test_raci_incomplete_reads_the_same_for_any_page_with_rows(scale_counts):
    """The incomplete RACI list: 15 queries for a page of rows whatever the portfolio
    (the 30-use-case one has incomplete use cases; cold, with the audit head of the kept
    ids); the 3-use-case portfolio has none, and an empty page reads no rows, cells or
    staffing (12)."""
    from django.contrib.auth.models import User

    from governance.selectors.raci import raci_incomplete_use_cases

    counts = scale_counts(["/raci/incomplete/"], username="governance.lead")
    lead = User.objects.get(username="governance.lead")
    assert raci_incomplete_use_cases(user=lead).exists()
    assert counts == {"/raci/incomplete/": [12, 15]}, counts
