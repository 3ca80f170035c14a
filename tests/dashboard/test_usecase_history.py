"""The use case page in words (issue 18): its change history shows field labels and the
values people know (a choice's label, not its stored code; a web address as a link),
requirement levels as their labels, and evidence links as links."""

import re

import pytest
from django.urls import reverse

from governance.services import obligation_submit_evidence
from tests.reviews.signoff_world import obligation

pytestmark = pytest.mark.django_db

LINK = "https://evidence.example.org/bias-report-2026"


def test_the_history_shows_labels_human_values_and_links(
    world, client_for, data_scientist, risk_officer
):
    use_case, version = world
    obligation_submit_evidence(
        obligation=obligation(use_case, "bias-harm-testing", version), by=data_scientist, link=LINK
    )
    html = (
        client_for(risk_officer)
        .get(reverse("dashboard:use-case-detail", args=[use_case.pk]))
        .content.decode()
    )
    history = html[html.index('id="audit-history"') :]
    # The classification set the tier: its label, not the stored number.
    assert re.search(r"Risk tier:</span> — <span[^>]*>→</span> High", history), history[:3000]
    assert "risk_tier:" not in history
    # The evidence link: under its label, as a link.
    assert (
        f'Evidence link:</span> — <span aria-label="changed to">→</span> <a href="{LINK}"'
        in history
    )
    # Actions in words, the stored code kept as the title.
    assert re.search(r'<span title="[a-z_.]+">[A-Z][^<]*</span>', history)
