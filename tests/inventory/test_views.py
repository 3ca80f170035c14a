"""Inventory pages through the Django client: role x page permissions, forms and
their errors, filters, search, pagination and query counts."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import Classification
from governance.services import classification_submit
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Regulation, UseCase
from tests.factories import (
    DatasetColumnFactory,
    DatasetFactory,
    MLModelFactory,
    ModelVersionFactory,
    TeamFactory,
    UseCaseFactory,
    full_answers,
)

pytestmark = pytest.mark.django_db

SHA_A = "a" * 64
SHA_B = "b" * 64

# Every kind of visitor: the fixture that makes them (None: anonymous).
VISITORS = [
    "data_scientist",
    "other_data_scientist",
    "risk_officer",
    "governance_lead",
    "approver",
    "auditor",
    "no_role_user",
    None,
]


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


@pytest.fixture
def ml_model(use_case):
    return MLModelFactory(use_case=use_case, name="pd-gbm")


@pytest.fixture
def dataset(team, data_scientist):
    ds = DatasetFactory(name="loan_applications", team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=ds, name="date_of_birth", is_pii=True, lineage_notes="CRM")
    DatasetColumnFactory(dataset=ds, name="income", is_pii=False, lineage_notes="Declared")
    return ds


def visit(request, who, method, url, data=None):
    """Fetch a page as a visitor (fixture name, or None for anonymous)."""
    client = Client()
    if who is not None:
        client.force_login(request.getfixturevalue(who))
    return getattr(client, method)(url, data or {})


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def use_case_post_data(team, owner, /, **overrides):
    data = {
        "name": "Mortgage PD",
        "team": team.pk,
        "status": "development",
        "purpose": "Probability of default for mortgage applications.",
        "restrictions": "",
        "business_owner": owner.pk,
        "technical_owner": owner.pk,
        "regulations": [Regulation.objects.get(code="gdpr").pk],
        "uses_pii": "on",
    }
    data.update(overrides)
    return data


# --- Role x page matrix ---------------------------------------------------------

READ_EXPECTED = {
    "data_scientist": 200,
    "other_data_scientist": 200,
    "risk_officer": 200,
    "governance_lead": 200,
    "approver": 200,
    "auditor": 200,
    "no_role_user": 403,
    None: "login",
}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("page", ["list", "detail", "model", "datasets", "dataset"])
def test_read_pages_need_a_role(request, who, page, use_case, ml_model, dataset):
    url = {
        "list": reverse("inventory:use-case-list"),
        "detail": reverse("dashboard:use-case-detail", args=[use_case.pk]),
        "model": reverse("inventory:model-detail", args=[ml_model.pk]),
        "datasets": reverse("inventory:dataset-list"),
        "dataset": reverse("inventory:dataset-detail", args=[dataset.pk]),
    }[page]
    response = visit(request, who, "get", url)
    expected = READ_EXPECTED[who]
    if expected == "login":
        assert_login_redirect(response)
    else:
        assert response.status_code == expected


WRITE_EXPECTED = {
    # create: any team member or lead; edit/classify: own team (classify: + risk officer)
    "create": {"data_scientist", "other_data_scientist", "governance_lead"},
    "edit": {"data_scientist", "governance_lead"},
    "classify": {"data_scientist", "governance_lead", "risk_officer"},
    "add-model": {"data_scientist", "governance_lead"},
    "add-version": {"data_scientist", "governance_lead"},
    "dataset-create": {"data_scientist", "other_data_scientist", "governance_lead"},
    "dataset-edit": {"data_scientist", "governance_lead"},
}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("page", list(WRITE_EXPECTED))
def test_change_pages_follow_team_and_role(request, who, page, use_case, ml_model, dataset):
    url = {
        "create": reverse("inventory:use-case-create"),
        "edit": reverse("inventory:use-case-update", args=[use_case.pk]),
        "classify": reverse("governance:use-case-classify", args=[use_case.pk]),
        "add-model": reverse("inventory:model-create", args=[use_case.pk]),
        "add-version": reverse("inventory:version-create", args=[ml_model.pk]),
        "dataset-create": reverse("inventory:dataset-create"),
        "dataset-edit": reverse("inventory:dataset-update", args=[dataset.pk]),
    }[page]
    response = visit(request, who, "get", url)
    if who is None:
        assert_login_redirect(response)
    elif who in WRITE_EXPECTED[page]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    "who", ["other_data_scientist", "risk_officer", "approver", "auditor", "no_role_user"]
)
def test_forbidden_posts_write_nothing(request, who, use_case, ml_model, dataset, team):
    owner = request.getfixturevalue("data_scientist")
    posts = [
        (reverse("inventory:use-case-update", args=[use_case.pk]), {"name": "Hijacked"}),
        (reverse("inventory:model-create", args=[use_case.pk]), {"name": "intruder"}),
        (
            reverse("inventory:version-create", args=[ml_model.pk]),
            {
                "version_label": "9.9",
                "artifact_uri": "s3://x",
                "artifact_sha256": SHA_A,
                "framework": "x",
                "authors": [owner.pk],
            },
        ),
        (reverse("inventory:dataset-update", args=[dataset.pk]), {"name": "Hijacked"}),
    ]
    if who not in ("other_data_scientist",):
        posts.append((reverse("inventory:use-case-create"), use_case_post_data(team, owner)))
    for url, data in posts:
        assert visit(request, who, "post", url, data).status_code == 403, url
    use_case.refresh_from_db()
    dataset.refresh_from_db()
    assert use_case.name == "Retail credit scoring"
    assert dataset.name == "loan_applications"
    assert MLModel.objects.count() == 1
    assert ModelVersion.objects.count() == 0
    assert UseCase.objects.count() == 1


@pytest.mark.parametrize(
    "url_name",
    [
        "dashboard:use-case-detail",
        "inventory:use-case-update",
        "governance:use-case-classify",
        "inventory:model-create",
    ],
)
def test_missing_use_case_is_404(client_for, governance_lead, url_name):
    response = client_for(governance_lead).get(reverse(url_name, args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/inventory/models/999999/",
        "/inventory/models/999999/versions/new/",
        "/inventory/datasets/999999/",
        "/inventory/datasets/999999/edit/",
        "/inventory/use-cases/99999999999999999999999/",
    ],
)
def test_missing_rows_are_404_never_500(client_for, governance_lead, url):
    assert client_for(governance_lead).get(url).status_code == 404


def test_no_role_gets_403_page_in_the_site_layout(client_for, no_role_user):
    response = client_for(no_role_user).get(reverse("inventory:use-case-list"))
    assert response.status_code == 403
    assert b"no governance role" in response.content


# --- Buttons only where permitted -------------------------------------------------


@pytest.mark.parametrize(
    ("who", "create", "edit", "classify"),
    [
        ("data_scientist", True, True, True),
        ("other_data_scientist", True, False, False),
        ("risk_officer", False, False, True),
        ("governance_lead", True, True, True),
        ("approver", False, False, False),
        ("auditor", False, False, False),
    ],
)
def test_action_buttons_only_where_permitted(request, who, create, edit, classify, use_case):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    listing = client.get(reverse("inventory:use-case-list")).content.decode()
    assert (reverse("inventory:use-case-create") in listing) is create
    detail = client.get(reverse("dashboard:use-case-detail", args=[use_case.pk])).content.decode()
    assert (reverse("inventory:use-case-update", args=[use_case.pk]) in detail) is edit
    assert (reverse("inventory:model-create", args=[use_case.pk]) in detail) is edit
    assert (reverse("governance:use-case-classify", args=[use_case.pk]) in detail) is classify


def test_admin_link_only_for_governance_leads(client_for, governance_lead, risk_officer):
    assert b'href="/admin/"' in client_for(governance_lead).get("/inventory/").content
    assert b'href="/admin/"' not in client_for(risk_officer).get("/inventory/").content


# --- List: columns, filters, search, pagination, query count ----------------------


def test_list_shows_the_columns(client_for, risk_officer, use_case, ml_model):
    classification_submit(
        use_case=use_case, answers=full_answers(availability="scheduled"), by=risk_officer
    )
    html = client_for(risk_officer).get(reverse("inventory:use-case-list")).content.decode()
    row = html[html.index("Retail credit scoring") :]
    row = row[: row.index("</tr>")]
    assert "Credit risk" in row  # team
    assert "Development" in row  # status
    assert "tier-3" in row and "High" in row  # tier badge (SR 11-7 -> high)
    assert "Level 2" in row  # criticality
    assert use_case.technical_owner.get_full_name() in row
    assert "SR-11-7" in row and "GDPR" in row
    assert re.search(r'<td class="num">\s*1\s*</td>', row)  # one model


def test_list_filters_and_search(client_for, risk_officer, use_case, other_team):
    other = UseCaseFactory(name="Churn propensity", team=other_team, status="production")
    other.regulations.set(Regulation.objects.filter(code="ccpa"))
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    client = client_for(risk_officer)
    url = reverse("inventory:use-case-list")

    def names(**params):
        html = client.get(url, params).content.decode()
        return {n for n in ("Retail credit scoring", "Churn propensity") if n in html}

    assert names() == {"Retail credit scoring", "Churn propensity"}
    assert names(q="churn") == {"Churn propensity"}
    assert names(q="credit risk") == {"Retail credit scoring"}  # team name
    assert names(risk_tier=3) == {"Retail credit scoring"}
    assert names(unclassified="true") == {"Churn propensity"}
    assert names(status="production") == {"Churn propensity"}
    assert names(team="marketing") == {"Churn propensity"}
    assert names(regulation="gdpr") == {"Retail credit scoring"}
    assert names(owner=use_case.technical_owner.username) == {"Retail credit scoring"}
    assert names(risk_tier=[3, 4], status="production") == set()


@pytest.mark.parametrize(
    "params",
    [
        {"risk_tier": "nine"},
        {"status": "shipped"},
        {"team": "no-such-team"},
        {"owner": "nobody"},
        {"page": "abc"},
        {"page": "999"},
        {"criticality": "-1", "q": "x" * 500},
    ],
)
def test_bad_list_parameters_never_fail(client_for, auditor, use_case, params):
    assert client_for(auditor).get(reverse("inventory:use-case-list"), params).status_code == 200


def test_list_paginates_25_and_keeps_filters_in_page_links(client_for, auditor, team):
    UseCaseFactory.create_batch(30, team=team, status="production")
    UseCaseFactory.create_batch(3, team=team, status="idea")
    client = client_for(auditor)
    url = reverse("inventory:use-case-list")
    first = client.get(url, {"status": "production"})
    assert len(first.context["use_cases"]) == 25
    html = first.content.decode()
    assert "?status=production&amp;page=2" in html
    second = client.get(url, {"status": "production", "page": 2})
    assert len(second.context["use_cases"]) == 5
    assert "26–30 of 30" in second.content.decode()


def test_list_query_count_does_not_grow_with_rows(
    client_for, auditor, team, django_assert_max_num_queries
):
    client = client_for(auditor)
    url = reverse("inventory:use-case-list")
    regs = list(Regulation.objects.all()[:2])

    def add(n):
        for uc in UseCaseFactory.create_batch(n, team=team):
            uc.regulations.set(regs)
            MLModelFactory(use_case=uc)

    add(2)
    client.get(url)  # warm the session
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    add(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url, {"regulation": "gdpr"})
    assert response.status_code == 200


# --- Detail -----------------------------------------------------------------------


def test_detail_shows_models_versions_datasets_and_classification(
    client_for, data_scientist, risk_officer, use_case, ml_model, dataset
):
    use_case.datasets.add(dataset)
    ModelVersionFactory(
        model=ml_model,
        version_label="2.1.0",
        artifact_sha256="0123456789ab" + "c" * 52,
        framework="XGBoost 2.1",
        authors=[data_scientist],
    )
    classification_submit(
        use_case=use_case, answers=full_answers(), by=data_scientist, note="First pass"
    )
    classification_submit(
        use_case=use_case,
        answers=full_answers(audience="customers", error_impact=["personal"]),
        by=risk_officer,
        note="Effective challenge",
    )
    response = client_for(risk_officer).get(
        reverse("dashboard:use-case-detail", args=[use_case.pk])
    )
    html = response.content.decode()
    assert "Retail credit scoring" in html and use_case.purpose in html
    assert "pd-gbm" in html and "2.1.0" in html and "0123456789ab…" in html
    assert "XGBoost 2.1" in html and "Development" in html
    assert data_scientist.get_full_name() in html
    assert "loan_applications" in html
    # Current class: tier, level, operationalisation and the decisive reason highlighted.
    assert "Critical" in html and "1 - Irregular, ad-hoc usage" in html
    assert "Self-service analytics run on the design node" in html
    decisive = html[html.index("reason-decisive") :]
    assert "Public-facing decisions about people" in decisive[:1500]
    assert "Customers" in decisive[:1500]
    # History: both rows, newest first, with from -> to and notes.
    history = html[html.index('id="history"') :]
    assert history.index("Effective challenge") < history.index("First pass")
    assert "First classification" in history
    assert "UTC" in history


def test_unclassified_detail_invites_classification(client_for, data_scientist, use_case):
    html = (
        client_for(data_scientist)
        .get(reverse("dashboard:use-case-detail", args=[use_case.pk]))
        .content.decode()
    )
    assert "Not yet classified" in html
    assert "Answer the questionnaire" in html


# --- Use-case forms -----------------------------------------------------------------


def test_create_use_case(client_for, data_scientist, team):
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-create"), use_case_post_data(team, data_scientist)
    )
    use_case = UseCase.objects.get(name="Mortgage PD")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:use-case-detail", args=[use_case.pk])
    assert use_case.created_by == data_scientist and use_case.uses_pii
    assert list(use_case.regulations.values_list("code", flat=True)) == ["gdpr"]


def test_team_choices_are_limited_to_own_teams(client_for, data_scientist, team, other_team):
    response = client_for(data_scientist).get(reverse("inventory:use-case-create"))
    choices = [t.pk for t in response.context["form"].fields["team"].queryset]
    assert choices == [team.pk]
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-create"), use_case_post_data(other_team, data_scientist)
    )
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert not UseCase.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"purpose": ""}, "purpose"),
        ({"status": "shipped"}, "status"),
        ({"business_owner": "999999"}, "business_owner"),
        ({"regulations": ["999999"]}, "regulations"),
        ({"team": "not-a-number"}, "team"),
    ],
)
def test_invalid_use_case_shows_errors_and_writes_nothing(
    client_for, data_scientist, team, overrides, field
):
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-create"), use_case_post_data(team, data_scientist, **overrides)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert b"field-error" in response.content
    assert not UseCase.objects.exists()


def test_duplicate_use_case_name_is_a_form_error(client_for, data_scientist, team, use_case):
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-create"),
        use_case_post_data(team, data_scientist, name="Retail credit scoring"),
    )
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert UseCase.objects.count() == 1


def test_edit_use_case_reclassifies_when_regulations_change(
    client_for, data_scientist, team, use_case
):
    classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    data = use_case_post_data(
        team,
        data_scientist,
        name="Retail credit scoring",
        regulations=[Regulation.objects.get(code="eu-ai-act").pk],
    )
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-update", args=[use_case.pk]), data
    )
    assert response.status_code == 302
    use_case.refresh_from_db()
    assert use_case.risk_tier == 4
    assert Classification.objects.filter(use_case=use_case).count() == 2


def test_edit_with_bad_input_changes_nothing(client_for, data_scientist, team, use_case):
    data = use_case_post_data(team, data_scientist, name="", regulations=[])
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-update", args=[use_case.pk]), data
    )
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    use_case.refresh_from_db()
    assert use_case.name == "Retail credit scoring"
    assert use_case.regulations.count() == 2


def test_data_scientist_cannot_move_a_use_case_to_another_team(
    client_for, data_scientist, team, other_team, use_case
):
    data = use_case_post_data(team, data_scientist, name=use_case.name, team=other_team.pk)
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-update", args=[use_case.pk]), data
    )
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    use_case.refresh_from_db()
    assert use_case.team == team


# --- Models and versions --------------------------------------------------------------


def test_add_model_then_duplicate_name_is_a_form_error(client_for, data_scientist, use_case):
    client = client_for(data_scientist)
    url = reverse("inventory:model-create", args=[use_case.pk])
    response = client.post(url, {"name": "pd-gbm", "description": "GBM"})
    ml_model = MLModel.objects.get()
    assert response["Location"] == reverse("inventory:model-detail", args=[ml_model.pk])
    response = client.post(url, {"name": "pd-gbm"})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert MLModel.objects.count() == 1


def version_data(user, **overrides):
    data = {
        "version_label": "1.0.0",
        "artifact_uri": "s3://models/pd/1.0.0/model.pkl",
        "artifact_sha256": SHA_A,
        "framework": "XGBoost 2.1",
        "training_data_ref": "snapshot 2026-01",
        "metrics": '{"auc": 0.81}',
        "authors": [user.pk],
    }
    data.update(overrides)
    return data


def test_register_version_is_idempotent_and_refuses_a_second_sha(
    client_for, data_scientist, ml_model
):
    client = client_for(data_scientist)
    url = reverse("inventory:version-create", args=[ml_model.pk])
    response = client.post(url, version_data(data_scientist, artifact_sha256=SHA_A.upper()))
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert version.artifact_sha256 == SHA_A and version.metrics == {"auc": 0.81}

    again = client.post(url, version_data(data_scientist), follow=True)
    assert b"already registered" in again.content
    assert ModelVersion.objects.count() == 1

    refused = client.post(url, version_data(data_scientist, artifact_sha256=SHA_B))
    assert refused.status_code == 400  # refused (issue 12)
    errors = refused.context["form"].errors["artifact_sha256"]
    assert "already registered" in errors[0]
    assert b"field-error" in refused.content
    assert ModelVersion.objects.get().artifact_sha256 == SHA_A


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"artifact_sha256": "not-a-hash"}, "artifact_sha256"),
        ({"metrics": "{not json"}, "metrics"),
        ({"metrics": '{"auc": "high"}'}, "metrics"),
        ({"version_label": ""}, "version_label"),
        ({"authors": []}, "authors"),
    ],
)
def test_invalid_version_shows_errors_and_writes_nothing(
    client_for, data_scientist, ml_model, overrides, field
):
    response = client_for(data_scientist).post(
        reverse("inventory:version-create", args=[ml_model.pk]),
        version_data(data_scientist, **overrides),
    )
    assert response.status_code == 400  # refused (issue 12)
    form = response.context["form"]
    assert field in form.errors or form.non_field_errors()
    assert not ModelVersion.objects.exists()


def test_model_detail_lists_versions(client_for, auditor, ml_model):
    ModelVersionFactory(model=ml_model, version_label="3.0.0", metrics={"ks": 0.42})
    html = (
        client_for(auditor).get(reverse("inventory:model-detail", args=[ml_model.pk])).content
    ).decode()
    assert "3.0.0" in html and "ks" in html and "0.42" in html
    assert reverse("inventory:version-create", args=[ml_model.pk]) not in html


# --- Datasets -----------------------------------------------------------------------


def columns_data(rows, initial=0):
    data = {
        "columns-TOTAL_FORMS": str(len(rows)),
        "columns-INITIAL_FORMS": str(initial),
        "columns-MIN_NUM_FORMS": "0",
        "columns-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"columns-{i}-{key}"] = value
    return data


def dataset_data(team, owner, /, rows=(), **overrides):
    data = {
        "name": "transactions",
        "team": team.pk,
        "owner": owner.pk,
        "source": "dwh.core.transactions",
        "description": "",
        "provenance": "Nightly extract.",
        **columns_data(list(rows)),
    }
    data.update(overrides)
    return data


def test_create_dataset_with_columns(client_for, data_scientist, team):
    rows = [
        {"name": "iban", "data_type": "string", "is_pii": "on", "lineage_notes": "Core banking"},
        {"name": "amount", "data_type": "decimal", "lineage_notes": ""},
        {"name": "", "data_type": "", "lineage_notes": ""},  # empty extra row is ignored
    ]
    response = client_for(data_scientist).post(
        reverse("inventory:dataset-create"), dataset_data(team, data_scientist, rows)
    )
    dataset = Dataset.objects.get(name="transactions")
    assert response["Location"] == reverse("inventory:dataset-detail", args=[dataset.pk])
    assert list(dataset.columns.values_list("name", "is_pii")) == [
        ("iban", True),
        ("amount", False),
    ]


def test_duplicate_column_names_write_nothing(client_for, data_scientist, team):
    rows = [{"name": "iban", "data_type": "string"}, {"name": "iban", "data_type": "string"}]
    response = client_for(data_scientist).post(
        reverse("inventory:dataset-create"), dataset_data(team, data_scientist, rows)
    )
    assert response.status_code == 400
    assert "only once" in response.content.decode()
    assert not Dataset.objects.exists() and not DatasetColumn.objects.exists()


def test_missing_management_form_is_an_error_not_a_500(client_for, data_scientist, team):
    data = dataset_data(team, data_scientist)
    del data["columns-TOTAL_FORMS"]
    response = client_for(data_scientist).post(reverse("inventory:dataset-create"), data)
    assert response.status_code == 400
    assert not Dataset.objects.exists()


def test_edit_dataset_replaces_columns(client_for, data_scientist, team, dataset):
    rows = [{"name": "date_of_birth", "is_pii": "on", "lineage_notes": "CRM, checked"}]
    data = dataset_data(team, data_scientist, name="loan_applications")
    data.update(columns_data(rows, initial=1))
    response = client_for(data_scientist).post(
        reverse("inventory:dataset-update", args=[dataset.pk]), data
    )
    assert response.status_code == 302
    assert list(dataset.columns.values_list("name", "lineage_notes")) == [
        ("date_of_birth", "CRM, checked")
    ]


def test_edit_dataset_form_is_prefilled(client_for, data_scientist, dataset):
    response = client_for(data_scientist).get(
        reverse("inventory:dataset-update", args=[dataset.pk])
    )
    html = response.content.decode()
    assert 'value="date_of_birth"' in html and 'value="income"' in html
    assert response.context["form"]["owner"].value() == data_scientist.pk


def test_dataset_list_filters(client_for, auditor, dataset, other_team):
    DatasetFactory(name="web_sessions", team=other_team)
    client = client_for(auditor)
    url = reverse("inventory:dataset-list")

    def names(**params):
        html = client.get(url, params).content.decode()
        return {n for n in ("loan_applications", "web_sessions") if n in html}

    assert names() == {"loan_applications", "web_sessions"}
    assert names(has_pii="true") == {"loan_applications"}
    assert names(has_pii="false") == {"web_sessions"}
    assert names(team="marketing") == {"web_sessions"}
    assert names(q="loan") == {"loan_applications"}
    assert client.get(url, {"has_pii": "maybe", "page": "x"}).status_code == 200


def test_dataset_detail_shows_pii_and_lineage(client_for, auditor, dataset, use_case):
    use_case.datasets.add(dataset)
    html = (
        client_for(auditor).get(reverse("inventory:dataset-detail", args=[dataset.pk])).content
    ).decode()
    assert "date_of_birth" in html and "CRM" in html and "Declared" in html
    assert html.count('class="badge pii"') == 1
    assert "Retail credit scoring" in html  # used by
    assert reverse("inventory:dataset-update", args=[dataset.pk]) not in html
    assert 'id="audit-history"' in html  # its change history, from the audit trail


def test_another_teams_dataset_cannot_be_moved_or_edited(client_for, data_scientist, dataset):
    other = TeamFactory(name="Elsewhere", slug="elsewhere")
    response = client_for(data_scientist).post(
        reverse("inventory:dataset-update", args=[dataset.pk]),
        dataset_data(other, data_scientist, name="loan_applications"),
    )
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    dataset.refresh_from_db()
    assert dataset.team.slug == "credit-risk"


def test_detail_shows_the_answers_given_with_their_labels(client_for, risk_officer):
    from governance.services import classification_submit
    from tests.factories import UseCaseFactory, full_answers

    use_case = UseCaseFactory()
    classification_submit(
        use_case=use_case,
        answers=full_answers(error_impact=["legal", "personal"]),
        by=risk_officer,
    )
    response = client_for(risk_officer).get(f"/inventory/use-cases/{use_case.pk}/")
    content = response.content.decode()
    assert "Answers given (13)" in content
    assert "Legal or regulatory standing, People&#x27;s lives (decisions about individuals)" in (
        content
    )
    assert "<dt>Does it use personal data (PII)?</dt><dd>No</dd>" in content
