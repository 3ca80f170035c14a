"""Governance pages through the Django client: sign-in, the home dashboard and its
chart, the Step 1 questionnaire; plus the pure chart function and the strict-CSP
rules every template follows."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.charts.governance import portfolio_heatmap
from governance.models import Classification
from governance.services import classification_submit
from inventory.models import Regulation
from inventory.selectors import use_case_portfolio_counts
from tests.factories import PASSWORD, UseCaseFactory, full_answers

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
TIERS = [(1, "Low"), (2, "Medium"), (3, "High"), (4, "Critical")]


@pytest.fixture
def use_case(team, data_scientist):
    uc = UseCaseFactory(
        name="Retail credit scoring",
        team=team,
        business_owner=data_scientist,
        technical_owner=data_scientist,
        uses_pii=True,
    )
    uc.regulations.set(Regulation.objects.filter(code__in=["sr-11-7", "gdpr"]))
    return uc


def classify_url(use_case):
    return reverse("governance:use-case-classify", args=[use_case.pk])


def questionnaire_post(**answers) -> dict:
    """full_answers() as the form posts them (lists stay lists for checkboxes)."""
    return {**full_answers(**answers), "classification_note": "Annual review"}


# --- Sign-in ---------------------------------------------------------------------


def test_login_page_and_login_redirects_home(client, risk_officer):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content and b"csrfmiddlewaretoken" in page.content
    response = client.post(
        reverse("login"), {"username": risk_officer.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home") == "/"


def test_wrong_password_shows_an_error(client, risk_officer):
    response = client.post(reverse("login"), {"username": risk_officer.username, "password": "x"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_logout_is_a_post_form(client_for, risk_officer):
    client = client_for(risk_officer)
    html = client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/"', html)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # signed out


def test_header_shows_user_and_roles(client_for, risk_officer):
    html = client_for(risk_officer).get("/").content.decode()
    assert "Risk officer" in html
    assert risk_officer.get_full_name() in html


# --- Home dashboard ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("data_scientist", 200),
        ("other_data_scientist", 200),
        ("risk_officer", 200),
        ("governance_lead", 200),
        ("approver", 200),
        ("auditor", 200),
        ("no_role_user", 403),
    ],
)
def test_home_needs_a_role(request, who, status):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    assert client.get("/").status_code == status


def test_home_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_home_shows_portfolio_kpis_and_heatmap(client_for, risk_officer, team):
    high = UseCaseFactory.create_batch(2, team=team, status="production")
    for uc in high:
        classification_submit(
            use_case=uc,
            answers=full_answers(availability="realtime", audience="public"),
            by=risk_officer,
        )
    classification_submit(
        use_case=UseCaseFactory(team=team), answers=full_answers(), by=risk_officer
    )
    UseCaseFactory(team=team, status="idea")  # unclassified

    response = client_for(risk_officer).get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["total"] == 4 and counts["unclassified"] == 1
    assert response.context["high_or_critical"] == 2
    assert response.context["in_production"] == 2
    html = response.content.decode()
    assert 'data-chart="chart-heatmap-data"' in html
    figure = json.loads(
        re.search(
            r'<script id="chart-heatmap-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    trace = figure["data"][0]
    assert trace["type"] == "heatmap"
    assert trace["z"][3][2] == 2  # level 4 x high tier
    assert trace["z"][0][0] == 1  # level 1 x low tier
    assert "/static/vendor/plotly/plotly-strict.min.js" in html
    assert "/static/js/charts.js" in html


def test_home_query_count_is_constant(client_for, risk_officer, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(risk_officer)
    client.get("/")
    classification_submit(
        use_case=UseCaseFactory(team=team), answers=full_answers(), by=risk_officer
    )
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for uc in UseCaseFactory.create_batch(15, team=team):
        classification_submit(use_case=uc, answers=full_answers(), by=risk_officer)
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    # constant: one query per card whatever the number of rows (+ the audit head of the
    # kept figures, computed again after each classification: audit.figures)
    assert len(many) == len(few) <= 18


def test_portfolio_counts_selector_hides_everything_without_a_role(no_role_user, team):
    UseCaseFactory(team=team)
    assert use_case_portfolio_counts(user=no_role_user)["total"] == 0


def test_portfolio_counts_selector(risk_officer, team):
    for availability in ("realtime", "realtime", "adhoc"):
        classification_submit(
            use_case=UseCaseFactory(team=team),
            answers=full_answers(availability=availability),
            by=risk_officer,
        )
    UseCaseFactory(team=team, status="retired")
    counts = use_case_portfolio_counts(user=risk_officer)
    assert counts["total"] == 4 and counts["unclassified"] == 1
    assert counts["matrix"] == {(4, 1): 2, (1, 1): 1}
    assert counts["by_tier"] == {1: 3}
    assert counts["by_status"] == {"development": 3, "retired": 1}


def test_heatmap_is_a_pure_function_of_counts():
    fig = portfolio_heatmap({(4, 4): 3, (1, 2): 1}, tiers=TIERS, list_url="/inventory/")
    trace = fig.data[0]
    assert list(trace.x) == ["Low", "Medium", "High", "Critical"]
    assert len(trace.y) == 4 and trace.y[0].startswith("1")
    assert trace.z[3][3] == 3 and trace.z[0][1] == 1 and trace.z[2][2] == 0
    assert trace.text[2][2] == ""  # empty cells stay blank
    assert trace.customdata[3][3] == "/inventory/?criticality=4&risk_tier=4"
    # plotly.js turns <b>, <i>, <sup>... into style="" attributes, which the CSP blocks.
    assert not re.search(r"<(b|i|sup|sub|em|span|a)\b", trace.hovertemplate)
    empty = portfolio_heatmap({}, tiers=TIERS)
    assert empty.data[0].zmax == 1 and empty.data[0].customdata[0][0] == ""


# --- Classification questionnaire ---------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("data_scientist", 200),
        ("other_data_scientist", 403),
        ("risk_officer", 200),
        ("governance_lead", 200),
        ("approver", 403),
        ("auditor", 403),
        ("no_role_user", 403),
    ],
)
def test_questionnaire_permissions(request, who, status, use_case):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    assert client.get(classify_url(use_case)).status_code == status
    assert client.post(classify_url(use_case), questionnaire_post()).status_code == (
        302 if status == 200 else status
    )
    assert Classification.objects.count() == (1 if status == 200 else 0)


def test_questionnaire_anonymous_redirects_to_login(client, use_case):
    response = client.post(classify_url(use_case), questionnaire_post())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Classification.objects.exists()


def test_questionnaire_renders_widgets_help_and_read_only_facts(
    client_for, data_scientist, use_case
):
    response = client_for(data_scientist).get(classify_url(use_case))
    html = response.content.decode()
    assert 'type="radio" name="audience" value="public"' in html
    assert 'type="checkbox" name="error_impact" value="legal"' in html
    assert "The widest audience that sees or is affected" in html  # help text
    # Regulations and PII come from the use case: shown, not asked.
    assert 'name="regulations"' not in html and 'name="uses_pii"' not in html
    assert "GDPR, SR 11-7 model risk management" in html
    assert reverse("inventory:use-case-update", args=[use_case.pk]) in html
    assert not Classification.objects.exists()  # GET changes nothing


def test_risk_officer_sees_no_edit_link_for_facts(client_for, risk_officer, use_case):
    html = client_for(risk_officer).get(classify_url(use_case)).content.decode()
    assert reverse("inventory:use-case-update", args=[use_case.pk]) not in html


def test_questionnaire_is_prefilled_with_the_latest_answers(client_for, data_scientist, use_case):
    classification_submit(
        use_case=use_case,
        answers=full_answers(audience="customers", error_impact=["financial", "legal"]),
        by=data_scientist,
    )
    html = client_for(data_scientist).get(classify_url(use_case)).content.decode()
    assert re.search(r'name="audience" value="customers"[^>]*checked', html)
    assert not re.search(r'name="audience" value="public"[^>]*checked', html)
    assert re.search(r'name="error_impact" value="financial"[^>]*checked', html)
    assert re.search(r'name="error_impact" value="legal"[^>]*checked', html)
    assert Classification.objects.count() == 1


def test_submitting_records_a_classification_with_reasons(client_for, risk_officer, use_case):
    client = client_for(risk_officer)
    response = client.post(
        classify_url(use_case),
        questionnaire_post(availability="realtime", impact_lifetime="years"),
    )
    detail = reverse("dashboard:use-case-detail", args=[use_case.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{detail}#classification"
    c = Classification.objects.get()
    assert (c.criticality, c.risk_tier) == (4, 3)
    assert c.classified_by == risk_officer and c.note == "Annual review"
    assert c.answers["regulations"] == ["gdpr", "sr-11-7"] and c.answers["uses_pii"] is True
    rules = {r["rule"] for r in c.reasons}
    assert {"Real-time 24/7 scoring", "Long-lasting effects"} <= rules
    assert any(r["decisive"] for r in c.reasons)
    page = client.get(detail)
    assert b"Classified: criticality level 4" in page.content
    assert b"Real-time 24/7 scoring" in page.content


def test_empty_multi_choice_is_a_valid_answer(client_for, data_scientist, use_case):
    data = questionnaire_post()
    data.pop("error_impact")  # no box ticked
    response = client_for(data_scientist).post(classify_url(use_case), data)
    assert response.status_code == 302
    assert Classification.objects.get().answers["error_impact"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"audience": None}, "audience"),
        ({"availability": "sometimes"}, "availability"),
        ({"error_impact": ["legal", "aliens"]}, "error_impact"),
        ({"decay_rate": ""}, "decay_rate"),
    ],
)
def test_invalid_answers_show_errors_next_to_the_question(
    client_for, data_scientist, use_case, change, field
):
    data = questionnaire_post()
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = client_for(data_scientist).post(classify_url(use_case), data)
    assert response.status_code == 400  # refused (issue 12)
    assert field in response.context["form"].errors
    html = response.content.decode()
    block = html[html.index(f'id="q-{field}"') :]
    block = block[: block.index("</fieldset>")]
    assert "field-error" in block and "has-error" in html
    assert not Classification.objects.exists()
    use_case.refresh_from_db()
    assert use_case.risk_tier is None


def test_service_errors_are_keyed_by_question(client_for, data_scientist, use_case, monkeypatch):
    """A rule the form cannot know (e.g. a questionnaire edited meanwhile) still shows
    next to its question, and nothing is written."""
    from django.core.exceptions import ValidationError

    import governance.views

    def refuse(**kwargs):
        raise ValidationError({"audience": "An answer is required.", "gone": "Unknown question."})

    monkeypatch.setattr(governance.views.classification, "classification_submit", refuse)
    response = client_for(data_scientist).post(classify_url(use_case), questionnaire_post())
    assert response.status_code == 400  # refused (issue 12)
    form = response.context["form"]
    assert form.errors["audience"] == ["An answer is required."]
    assert "Gone: Unknown question." in form.non_field_errors()
    assert not Classification.objects.exists()


# --- Strict CSP: no inline scripts or styles anywhere ------------------------------


def test_pages_send_a_strict_csp(client_for, risk_officer, use_case):
    response = client_for(risk_officer).get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp


def test_templates_have_no_inline_script_or_style():
    for path in TEMPLATES_DIR.rglob("*.html"):
        parts = path.relative_to(TEMPLATES_DIR).parts
        # E-mail bodies are not pages (no CSP there); mail clients need inline styles.
        # Printed documents are files Chromium turns into PDF (documents/rendering.py),
        # never served: self-contained, with their print styles inline.
        if "admin" in parts or "email" in parts or "print" in parts:
            continue
        text = path.read_text()
        assert " style=" not in text, path
        assert "<style" not in text, path
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", text), path  # no inline event handlers


def test_home_counts_use_cases_with_open_ethical_questions(client_for, risk_officer):
    from tests.factories import UseCaseFactory

    UseCaseFactory.create_batch(3)
    UseCaseFactory(status="retired")
    response = client_for(risk_officer).get("/")
    assert response.context["without_ethics"] == 3
    assert "Ethical questions open" in response.content.decode()
