"""The demo's Step 8 content (issue 16): a year of daily snapshots whose last is today's
real figures, KRIs with one in breach, and a signed framework review whose proposal
became a policy draft; the pages show them; a second seed writes nothing."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from governance.models import PolicyVersion
from oversight.models import FrameworkReview, GovernanceSnapshot, KeyRiskIndicator
from oversight.selectors.indicators import governance_indicators
from tests.demo.conftest import seed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


def test_a_year_of_snapshots_ending_at_todays_figures():
    days = list(GovernanceSnapshot.objects.order_by("day").values_list("day", flat=True))
    assert len(days) == 365 and days[-1] == timezone.localdate()
    assert (days[-1] - days[0]).days == 364
    latest = GovernanceSnapshot.objects.get(day=timezone.localdate())
    assert latest.indicators == governance_indicators()


def test_kris_one_in_breach_and_a_signed_review_with_a_drafted_proposal():
    latest = GovernanceSnapshot.objects.get(day=timezone.localdate()).indicators
    levels = [k.level_for(latest.get(k.indicator)) for k in KeyRiskIndicator.objects.all()]
    assert levels.count("breach") == 1 and len(levels) >= 3
    review = FrameworkReview.objects.get()
    assert review.is_signed and review.signed_by.username == "governance.lead"
    proposal = review.proposals.get()
    assert proposal.policy_draft.status == PolicyVersion.Status.DRAFT
    assert proposal.evidence


def test_the_pages_show_them():
    client = Client()
    client.force_login(User.objects.get(username="auditor"))
    page = client.get("/kpis/?days=365").content.decode()
    assert "365 daily snapshots" in page and 'data-kri-status="breach"' in page
    review = FrameworkReview.objects.get()
    assert client.get(f"/kpis/reviews/{review.pk}/").status_code == 200


def test_a_second_seed_adds_no_snapshot_or_review():
    counts = (GovernanceSnapshot.objects.count(), FrameworkReview.objects.count())
    seed()
    assert (GovernanceSnapshot.objects.count(), FrameworkReview.objects.count()) == counts
