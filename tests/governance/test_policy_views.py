"""Step 4 pages through the Django client: the published matrix and its chart, drafts,
editing cells, publishing, discarding, the diff page; and who may do what."""

import json
import re

import pytest
from django.urls import reverse

from core.charts.governance import policy_matrix_heatmap
from governance.models import FrameworkChange, PolicyVersion
from governance.selectors import policy_default, policy_published_latest, policy_version_cells
from governance.services import policy_draft_create
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead

pytestmark = pytest.mark.django_db

POLICY = reverse("governance:policy")


def version_url(version):
    return reverse("governance:policy-version", args=[version.pk])


def cells_post(version, **changes):
    """The edit form's data: every cell of ``version``, with changes by field name."""
    data = {f"cell_{t}_{c}": level for (t, c), level in policy_version_cells(version).items()}
    data.update(changes)
    return data


@pytest.fixture
def draft(governance_lead):
    return policy_draft_create(policy=policy_default(), by=governance_lead)


def test_every_role_reads_the_published_matrix(client_for, users_by_role):
    for user in users_by_role.values():
        response = client_for(user).get(POLICY)
        assert response.status_code == 200, user
        html = response.content.decode()
        assert "v1" in html and "Default policy shipped with the product" in html
        assert "Multiple sign-offs (two) for every environment move" in html
        match = re.search(
            r'<script id="chart-policy-data" type="application/json">(.*?)</script>', html, re.S
        )
        figure = json.loads(match.group(1))
        assert figure["data"][0]["type"] == "heatmap"
        assert len(figure["data"][0]["y"]) == 9


def test_anonymous_and_no_role(client, client_for, no_role_user):
    response = client.get(POLICY)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client_for(no_role_user).get(POLICY).status_code == 403


def test_only_leads_see_and_use_the_draft_button(client_for, risk_officer, governance_lead):
    assert b"Create a draft" not in client_for(risk_officer).get(POLICY).content
    assert b"Create a draft" in client_for(governance_lead).get(POLICY).content
    new = reverse("governance:policy-draft-new")
    assert client_for(risk_officer).post(new).status_code == 403
    assert not PolicyVersion.objects.filter(status="draft").exists()
    response = client_for(governance_lead).post(new)
    draft = PolicyVersion.objects.get(status="draft")
    assert response.status_code == 302 and response["Location"] == version_url(draft)
    # A second draft is refused with a message, not an error page.
    response = client_for(governance_lead).post(new, follow=True)
    assert b"already has a draft" in response.content
    assert PolicyVersion.objects.filter(status="draft").count() == 1


def test_lead_edits_and_publishes_a_draft(client_for, governance_lead, draft):
    c = client_for(governance_lead)
    page = c.get(version_url(draft))
    assert page.status_code == 200 and b'name="cell_1_transparency"' in page.content
    response = c.post(version_url(draft), cells_post(draft, cell_1_transparency="medium"))
    assert response.status_code == 302
    assert policy_version_cells(draft)[(1, "transparency")] == "medium"
    publish = reverse("governance:policy-version-publish", args=[draft.pk])
    response = c.post(publish, {"note": "Low-tier models must be explainable."})
    change = FrameworkChange.objects.get(policy_version=draft)
    proposal = reverse("governance:framework-change", args=[change.pk])
    assert response.status_code == 302 and response["Location"] == proposal
    assert policy_published_latest().number == 3  # not before a second lead signs
    page = c.get(proposal)
    assert b"Withdraw" in page.content and b"Sign the approval" not in page.content
    second = client_for(other_lead())
    assert b"Sign the approval" in second.get(proposal).content
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert second.post(approve, {"password": PASSWORD}).status_code == 302
    latest = policy_published_latest()
    assert latest.number == 4 and latest.published_by == other_lead()
    diff = c.get(reverse("governance:policy-diff"))
    assert diff.status_code == 200
    assert b"v3 \xe2\x86\x92 v4" in diff.content and b"Explainability tools" in diff.content


def test_a_cell_with_no_measure_is_a_clear_error(client_for, governance_lead, draft):
    before = policy_version_cells(draft)
    response = client_for(governance_lead).post(
        version_url(draft),
        cells_post(draft, cell_1_transparency="medium", cell_4_reproducibility=""),
    )
    assert response.status_code == 400
    assert "Critical × Reproducibility and traceability: the cell names no measure." in (
        response.content.decode()
    )
    assert policy_version_cells(draft) == before


def test_unknown_level_is_refused_by_the_form(client_for, governance_lead, draft):
    response = client_for(governance_lead).post(
        version_url(draft), cells_post(draft, cell_1_transparency="extreme")
    )
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert policy_version_cells(draft)[(1, "transparency")] == "light"


def test_publishing_without_a_note_or_an_empty_draft(client_for, governance_lead, draft):
    c = client_for(governance_lead)
    publish = reverse("governance:policy-version-publish", args=[draft.pk])
    assert c.post(publish, {"note": ""}).status_code == 400
    draft.cells.all().delete()
    response = c.post(publish, {"note": "Empty"})
    assert response.status_code == 400 and b"The policy is empty" in response.content
    assert policy_published_latest().number == 3


def test_a_published_version_is_read_only(client_for, governance_lead):
    v1 = policy_published_latest()
    c = client_for(governance_lead)
    page = c.get(version_url(v1))
    assert page.status_code == 200 and b'name="cell_1_transparency"' not in page.content
    response = c.post(version_url(v1), cells_post(v1, cell_1_transparency="strict"), follow=True)
    assert b"is published and cannot be changed" in response.content
    assert policy_version_cells(v1)[(1, "transparency")] == "light"
    publish = reverse("governance:policy-version-publish", args=[v1.pk])
    # Published meanwhile: the state changed underneath (409), not a bad input.
    assert c.post(publish, {"note": "again"}).status_code == 409


def test_non_leads_cannot_change_a_draft(client_for, draft, risk_officer, auditor, approver):
    for user in (risk_officer, auditor, approver):
        c = client_for(user)
        assert c.get(version_url(draft)).status_code == 200
        assert b'name="cell_1_transparency"' not in c.get(version_url(draft)).content
        assert c.post(version_url(draft), cells_post(draft)).status_code == 403
        publish = reverse("governance:policy-version-publish", args=[draft.pk])
        assert c.post(publish, {"note": "x"}).status_code == 403
        discard = reverse("governance:policy-version-discard", args=[draft.pk])
        assert c.post(discard).status_code == 403
    assert PolicyVersion.objects.get(pk=draft.pk).status == "draft"


def test_lead_discards_a_draft(client_for, governance_lead, draft):
    discard = reverse("governance:policy-version-discard", args=[draft.pk])
    assert client_for(governance_lead).post(discard).status_code == 302
    assert not PolicyVersion.objects.filter(pk=draft.pk).exists()


def test_diff_page_bad_input_and_unknown_version(client_for, risk_officer):
    c = client_for(risk_officer)
    url = reverse("governance:policy-diff")
    assert c.get(url).status_code == 200
    assert c.get(url, {"from": "x", "to": "999"}).status_code == 400
    assert c.get(reverse("governance:policy-version", args=[999999])).status_code == 404


def test_policy_heatmap_is_pure():
    fig = policy_matrix_heatmap(
        {(1, "a"): "none", (2, "a"): "strict", (1, "b"): "medium"},
        considerations=[("a", "Alpha"), ("b", "Beta")],
        tiers=[(1, "Low"), (2, "High")],
    )
    trace = fig.data[0]
    assert list(trace.y) == ["Beta", "Alpha"]  # first consideration on top
    assert [list(r) for r in trace.z] == [[2, None], [0, 3]]
    assert [list(r) for r in trace.text] == [["Medium", ""], ["None", "Strict"]]
