"""Step 5 pages through the client: a use case's obligations, evidence, acceptance,
waivers, the link from the use case and the home KPI."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import Obligation
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from tests.factories import ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def notify_delay():
    with mock.patch("governance.tasks.obligations_notify_owners.delay") as delay:
        yield delay


@pytest.fixture
def use_case(team):
    use_case = UseCaseFactory(team=team, name="Credit limit model", risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)  # owes the version-scope ones (issue 12)
    obligations_recompute(use_case=use_case)
    return use_case


@pytest.fixture
def signoff(use_case):
    return Obligation.objects.get(use_case=use_case, consideration__code="human-signoff")


def url(use_case, obligation=None, action=""):
    base = f"/obligations/use-cases/{use_case.pk}/"
    return f"{base}{obligation.pk}/{action}/" if obligation else base


def test_every_role_reads_what_is_owed_why_and_by_whom(client_for, users_by_role, use_case):
    for user in users_by_role.values():
        response = client_for(user).get(url(use_case))
        assert response.status_code == 200
        content = response.content.decode()
        assert "Human-in-the-loop sign-off" in content
        assert "Policy v3, High tier" in content
        assert "owed by this version" in content and "Evidence must cover" in content
        assert "nobody named — RACI incomplete" in content


def test_no_role_and_anonymous_are_kept_out(client, client_for, no_role_user, use_case):
    assert client_for(no_role_user).get(url(use_case)).status_code == 403
    assert client.get(url(use_case)).status_code == 302


def test_use_case_page_links_here_and_home_shows_the_kpi(client_for, risk_officer, use_case):
    c = client_for(risk_officer)
    detail = c.get(f"/inventory/use-cases/{use_case.pk}/").content.decode()
    assert url(use_case) in detail
    home = c.get("/").content.decode()
    assert "Obligations open" in home


def test_team_submits_a_file_and_a_risk_officer_accepts(
    client_for, data_scientist, risk_officer, use_case, signoff
):
    upload = SimpleUploadedFile("signoff.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    response = client_for(data_scientist).post(url(use_case, signoff, "evidence"), {"file": upload})
    assert response.status_code == 302
    signoff.refresh_from_db()
    assert signoff.status == "evidence_submitted" and signoff.evidence_name == "signoff.pdf"
    page = client_for(risk_officer).get(url(use_case)).content.decode()
    assert "Accept the evidence" in page
    client_for(risk_officer).post(url(use_case, signoff, "accept"))
    signoff.refresh_from_db()
    assert signoff.status == "accepted"


def test_bad_input_is_a_400_on_the_page_not_a_500(client_for, data_scientist, use_case, signoff):
    response = client_for(data_scientist).post(
        url(use_case, signoff, "evidence"), {"link": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert "valid http(s) URL" in response.content.decode()
    signoff.refresh_from_db()
    assert signoff.status == "open"


def test_permissions_are_enforced_on_post(
    client_for, auditor, approver, data_scientist, governance_lead, use_case, signoff
):
    assert (
        client_for(auditor)
        .post(url(use_case, signoff, "evidence"), {"link": "https://docs.example.org/x"})
        .status_code
        == 403
    )
    assert (
        client_for(approver)
        .post(url(use_case, signoff, "waive"), {"justification": "x"})
        .status_code
        == 403
    )
    assert client_for(data_scientist).get(url(use_case, signoff, "accept")).status_code == 405
    # Issue 12: the sign-off obligation is met by the signatures; a lead never waives it.
    response = client_for(governance_lead).post(
        url(use_case, signoff, "waive"), {"justification": "Ok."}
    )
    assert response.status_code == 400
    assert b"never waived" in response.content and b"Nothing was saved" in response.content
    signoff.refresh_from_db()
    assert signoff.status == "open"


def test_obligation_of_another_use_case_is_404(client_for, governance_lead, signoff, team):
    other = UseCaseFactory(team=team)
    response = client_for(governance_lead).post(
        url(other, signoff, "waive"), {"justification": "x"}
    )
    assert response.status_code == 404


def test_home_shows_obligations_by_status_and_tier(client_for, risk_officer):
    from governance.selectors.obligations import obligation_status_by_tier
    from governance.services import classification_submit, obligations_recompute
    from tests.factories import UseCaseFactory, full_answers

    use_case = UseCaseFactory()
    classification_submit(
        use_case=use_case, answers=full_answers(audience="public"), by=risk_officer
    )
    created = obligations_recompute(use_case=use_case)["created"]
    table = obligation_status_by_tier()
    open_row = next(r for r in table["rows"] if r["label"] == "Open")
    assert open_row["counts"] == [0, 0, created, 0]  # a High-tier use case
    content = client_for(risk_officer).get("/").content.decode()
    assert "Obligations by status and risk tier" in content


def test_home_tally_equals_a_count_of_the_rows():
    """Issue 18 (cold paths): the tally summed per tier by the database equals the
    obligations counted one by one, tiers, statuses, overdue and unclassified alike."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Consideration, Obligation
    from governance.selectors.obligations import PENDING, obligation_status_by_tier
    from inventory.choices import RiskTier
    from tests.factories import ObligationFactory, UseCaseFactory

    today = timezone.localdate()
    considerations = list(Consideration.objects.order_by("order")[:4])
    statuses = [s for s, _ in Obligation.Status.choices]
    for n, tier in enumerate([None, *RiskTier]):
        use_case = UseCaseFactory(risk_tier=tier)
        for k, consideration in enumerate(considerations):
            ObligationFactory(
                use_case=use_case,
                consideration=consideration,
                status=statuses[(n + k) % len(statuses)],
                due_date=today + dt.timedelta(days=(-5 if (n + k) % 3 else 5)),
            )
    ObligationFactory(
        use_case=UseCaseFactory(risk_tier=RiskTier.HIGH),
        active=False,
        superseded_at=timezone.now(),
    )
    rows = list(Obligation.objects.filter(active=True).select_related("use_case"))
    table = obligation_status_by_tier(today=today)
    tiers = list(RiskTier)
    for (status, _), row in zip(Obligation.Status.choices, table["rows"], strict=True):
        expected = [
            sum(1 for o in rows if o.status == status and o.use_case.risk_tier == t) for t in tiers
        ]
        assert row["counts"] == expected, status
    late = [o for o in rows if o.status in PENDING and o.due_date < today]
    assert table["overdue"] == [sum(1 for o in late if o.use_case.risk_tier == t) for t in tiers]
    assert table["overdue_total"] == len(late) > 0
    assert table["open"] == sum(1 for o in rows if o.status in PENDING)
