"""The framework review (issue 16, Step 8), through the pages: a governance lead opens a
review of a period (indicators and per-cell evidence frozen), concludes it, adds a
proposal linked to its evidence, makes it a policy draft (governance's own services;
published with four eyes, unchanged) and signs with the password typed again. Every
bypass is refused with a reason and writes nothing."""

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from governance.models import PolicyCell, PolicyVersion
from notifications.models import Notification
from oversight.models import FrameworkReview, GovernanceSnapshot, PolicyChangeProposal
from oversight.services import framework as svc
from oversight.services.snapshots import snapshot_take
from oversight.tasks import framework_review_due
from tests.factories import user_with_role
from tests.oversight.portfolio import build_portfolio

pytestmark = pytest.mark.django_db
PASSWORD = "a long and correct password"


@pytest.fixture
def lead(db):
    user = user_with_role(Role.GOVERNANCE_LEAD, username="lead", email="lead@example.org")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def review(lead):
    build_portfolio()
    snapshot_take()
    today = timezone.localdate()
    return svc.framework_review_create(
        by=lead, period_start=today - dt.timedelta(days=364), period_end=today
    )


def _state(review):
    review.refresh_from_db()
    return (
        review.status,
        review.conclusion,
        review.signed_by_id,
        PolicyChangeProposal.objects.count(),
        PolicyVersion.objects.filter(status=PolicyVersion.Status.DRAFT).count(),
        AuditEvent.objects.filter(action__startswith="framework_review.").count(),
    )


def _proposal_data(**overrides):
    return {
        "tier": "3",
        "consideration": "bias-harm-testing",
        "proposed_level": "strict",
        "rationale": "Bias breaches stayed open all year on high-tier models.",
        "evidence": "",
        **overrides,
    }


def test_the_whole_review_through_the_pages(lead, client_for):
    build_portfolio()
    snapshot_take()
    client = client_for(lead)
    today = timezone.localdate()
    response = client.post(
        "/kpis/reviews/new/",
        {"period_start": (today - dt.timedelta(days=364)).isoformat(), "period_end": today},
    )
    review = FrameworkReview.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/kpis/reviews/{review.pk}/"
    assert review.indicators["snapshots"] == 1
    assert review.indicators["headlines"]["findings.open"]["last"] == 4
    cells = {(c["tier"], c["consideration"]): c for c in review.cells}
    assert cells[(3, "bias-harm-testing")]["waivers"] == 1
    assert cells[(3, "bias-harm-testing")]["findings"] == 1
    assert cells[(3, "audit-documentation")]["findings"] == 1
    url = f"/kpis/reviews/{review.pk}/"
    page = client.get(url).content.decode()
    assert 'data-chart="chart-cells-data"' in page
    assert "Write the review&#x27;s conclusion before signing it." in page
    finding = review.cells[0]["finding_ids"] or [None]
    evidence = f"snapshot:{GovernanceSnapshot.objects.get().pk}"
    if finding[0]:
        evidence += f", finding:{finding[0]}"
    assert client.post(url + "proposals/", _proposal_data(evidence=evidence)).status_code == 302
    proposal = PolicyChangeProposal.objects.get()
    assert proposal.evidence[0]["kind"] == "snapshot"
    assert client.post(url + f"proposals/{proposal.pk}/draft/").status_code == 302
    proposal.refresh_from_db()
    draft = proposal.policy_draft
    assert draft.status == PolicyVersion.Status.DRAFT
    assert (
        PolicyCell.objects.get(version=draft, tier=3, consideration__code="bias-harm-testing").level
        == "strict"
    )
    conclusion = "The framework works; bias testing must be stricter for high-tier use cases."
    assert client.post(url + "conclusion/", {"conclusion": conclusion}).status_code == 302
    assert client.post(url + "sign/", {"password": PASSWORD}).status_code == 302
    review.refresh_from_db()
    assert review.is_signed and review.signed_by == lead and review.conclusion == conclusion
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "framework_review.created",
        "framework_review.proposal_added",
        "framework_review.proposal_drafted",
        "framework_review.concluded",
        "framework_review.signed",
    } <= actions
    page = client.get(url).content.decode()
    assert 'data-testid="proposal-draft-link"' in page and "sign-form" not in page


def test_a_second_proposal_reuses_the_policy_draft(review, lead):
    first = svc.proposal_add(
        review=review, by=lead, tier=3, consideration="bias-harm-testing",
        proposed_level="strict", rationale="Breaches.",
    )  # fmt: skip
    second = svc.proposal_add(
        review=review, by=lead, tier=2, consideration="transparency",
        proposed_level="medium", rationale="Complaints.",
    )  # fmt: skip
    assert svc.proposal_make_draft(proposal=first, by=lead) == svc.proposal_make_draft(
        proposal=second, by=lead
    )
    assert PolicyVersion.objects.filter(status=PolicyVersion.Status.DRAFT).count() == 1


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.AUDITOR])
def test_readers_who_are_not_leads_see_but_write_nothing(role, review, client_for, users_by_role):
    client = client_for(users_by_role[role])
    url = f"/kpis/reviews/{review.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "conclusion-form" not in page.content.decode()
    before = _state(review)
    today = timezone.localdate().isoformat()
    for path, data in (
        ("/kpis/reviews/new/", {"period_start": today, "period_end": today}),
        (url + "conclusion/", {"conclusion": "Mine."}),
        (url + "proposals/", _proposal_data()),
        (url + "sign/", {"password": PASSWORD}),
    ):
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "governance lead" in response.content.decode()
    assert _state(review) == before


def test_a_non_lead_cannot_sign_even_with_a_password(review, risk_officer, client_for):
    review.conclusion = "Done."
    review.save()
    risk_officer.set_password(PASSWORD)
    risk_officer.save()
    before = _state(review)
    response = client_for(risk_officer).post(
        f"/kpis/reviews/{review.pk}/sign/", {"password": PASSWORD}
    )
    assert response.status_code == 403
    assert _state(review) == before


def test_a_wrong_password_signs_nothing(review, lead, client_for):
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    before = _state(review)
    response = client_for(lead).post(f"/kpis/reviews/{review.pk}/sign/", {"password": "wrong"})
    assert response.status_code == 400
    assert "The password is not correct; nothing was signed." in response.content.decode()
    assert _state(review) == before
    assert AuditEvent.objects.filter(action="signature.password_refused").count() == 1


def test_a_review_without_a_conclusion_cannot_be_signed(review, lead, client_for):
    before = _state(review)
    response = client_for(lead).post(f"/kpis/reviews/{review.pk}/sign/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "conclusion before signing" in response.content.decode()
    assert _state(review) == before


def test_a_token_cannot_sign(review, lead):
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    with pytest.raises(Exception, match="API token cannot sign"):
        svc.framework_review_sign(review=review, by=lead, password=PASSWORD, via_token=True)
    assert not FrameworkReview.objects.get(pk=review.pk).is_signed


def test_a_signed_review_refuses_every_change(review, lead, client_for):
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    proposal = svc.proposal_add(
        review=review, by=lead, tier=3, consideration="bias-harm-testing",
        proposed_level="strict", rationale="Breaches.",
    )  # fmt: skip
    svc.framework_review_sign(review=review, by=lead, password=PASSWORD)
    client = client_for(lead)
    url = f"/kpis/reviews/{review.pk}/"
    before = _state(review)
    for path, data, reason in (
        (url + "sign/", {"password": PASSWORD}, "already signed"),
        (url + "conclusion/", {"conclusion": "Changed."}, "can no longer be changed"),
        (url + "proposals/", _proposal_data(), "can no longer be changed"),
        (url + f"proposals/{proposal.pk}/draft/", {}, "can no longer be changed"),
    ):
        response = client.post(path, data)
        assert response.status_code == 400, path
        assert reason in response.content.decode(), path
    assert _state(review) == before
    # The database refuses it too, whoever writes.
    with pytest.raises(DatabaseError), transaction.atomic():
        FrameworkReview.objects.filter(pk=review.pk).update(conclusion="Rewritten")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"tier": "9"}, "Select a valid choice"),
        ({"consideration": "no-such"}, "Select a valid choice"),
        ({"evidence": "finding:999999"}, "No finding #999999 exists."),
        ({"evidence": "invoice:3"}, "write kind:id"),
        ({"evidence": "finding:" + "9" * 40}, "write kind:id"),
        ({"rationale": "   "}, "This field is required"),
    ],
)
def test_a_bad_proposal_is_a_400_and_writes_nothing(review, lead, client_for, data, message):
    before = _state(review)
    response = client_for(lead).post(
        f"/kpis/reviews/{review.pk}/proposals/", _proposal_data(**data)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state(review) == before


@pytest.mark.parametrize(
    "start, end",
    [("2026-01-10", "2026-01-01"), ("2020-01-01", "2099-01-01"), ("2010-01-01", "2020-01-01")],
)
def test_a_bad_period_is_refused(lead, client_for, start, end):
    response = client_for(lead).post(
        "/kpis/reviews/new/", {"period_start": start, "period_end": end}
    )
    assert response.status_code == 400
    assert not FrameworkReview.objects.exists()


def test_a_review_is_due_once_until_one_is_signed(
    lead, settings, django_capture_on_commit_callbacks
):
    other = user_with_role(Role.GOVERNANCE_LEAD, username="lead2", email="lead2@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        assert framework_review_due.run() == {"notified": 2}
        framework_review_due.run()
    notes = Notification.objects.filter(kind=Notification.Kind.FRAMEWORK_REVIEW_DUE)
    assert sorted(notes.values_list("email", flat=True)) == sorted([lead.email, other.email])
    today = timezone.localdate()
    review = svc.framework_review_create(by=lead, period_start=today, period_end=today)
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    svc.framework_review_sign(review=review, by=lead, password=PASSWORD)
    assert framework_review_due.run() == {"notified": 0}
    settings.FRAMEWORK_REVIEW_INTERVAL_DAYS = -1  # as if a year had passed
    with django_capture_on_commit_callbacks(execute=False):
        assert framework_review_due.run() == {"notified": 2}
    assert Notification.objects.filter(kind=Notification.Kind.FRAMEWORK_REVIEW_DUE).count() == 4


def test_the_review_list_says_when_one_is_due(lead, client_for):
    page = client_for(lead).get("/kpis/reviews/").content.decode()
    assert 'data-testid="review-due"' in page and "review-create-form" in page


def test_a_review_that_does_not_exist_is_a_404(lead, client_for):
    client = client_for(lead)
    assert client.get("/kpis/reviews/999999/").status_code == 404
    assert client.get("/kpis/reviews/" + "9" * 30 + "/").status_code == 404


def test_the_draft_of_a_signed_review_can_still_be_discarded(review, lead):
    from governance.services.policy import policy_draft_discard

    proposal = svc.proposal_add(
        review=review, by=lead, tier=3, consideration="bias-harm-testing",
        proposed_level="strict", rationale="Breaches.",
    )  # fmt: skip
    draft = svc.proposal_make_draft(proposal=proposal, by=lead)
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    svc.framework_review_sign(review=review, by=lead, password=PASSWORD)
    policy_draft_discard(version=draft, by=lead)
    proposal.refresh_from_db()
    assert proposal.policy_draft is None
    assert FrameworkReview.objects.get(pk=review.pk).is_signed


@pytest.mark.parametrize("role", [Role.DATA_SCIENTIST, Role.APPROVER, Role.VALIDATOR])
def test_other_roles_neither_read_nor_write_a_review(role, review, lead, users_by_role, client_for):
    svc.framework_review_conclude(review=review, by=lead, conclusion="Done.")
    client = client_for(users_by_role[role])
    url = f"/kpis/reviews/{review.pk}/"
    before = _state(review)
    assert client.get(url).status_code == 403
    for path, data in (
        (url + "conclusion/", {"conclusion": "Mine."}),
        (url + "proposals/", _proposal_data()),
        (url + "sign/", {"password": PASSWORD}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert _state(review) == before


def test_the_review_pages_read_in_a_constant_number_of_queries(
    review, lead, client_for, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(tier):
        proposal = svc.proposal_add(
            review=review, by=lead, tier=tier, consideration="transparency",
            proposed_level="strict", rationale="Complaints.",
            evidence=[{"kind": "snapshot", "id": GovernanceSnapshot.objects.get().pk}],
        )  # fmt: skip
        svc.proposal_make_draft(proposal=proposal, by=lead)

    client = client_for(lead)
    url = f"/kpis/reviews/{review.pk}/"
    add(1)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    with CaptureQueriesContext(connection) as listed:
        client.get("/kpis/reviews/")
    for tier in (2, 3, 4):
        add(tier)
    svc.framework_review_create(
        by=lead, period_start=review.period_start, period_end=review.period_end
    )
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)
    with django_assert_num_queries(len(listed.captured_queries)):
        client.get("/kpis/reviews/")
