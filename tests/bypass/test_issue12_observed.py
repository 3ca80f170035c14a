"""Issue 12, "What was observed", replayed on the seeded demo portfolio.

Each of the twelve observations is walked again exactly as reported: as the demo user
who tried it (``data.scientist``, a team-mate, ``auditor``, ``governance.lead``...),
through the route reported (API path or page), on the demo's own use cases, versions
and requests. Each is now refused (403/409/400 with a reason a person understands),
nothing is written, and the deployment gate answers for the demo's production versions
as before. The demo is seeded once for the module (``tests.demo.portfolio``); every
test runs in a savepoint inside it.

Where the route of the report no longer exists in the same form, the test follows the
nearest real route and its docstring says so.
"""

import hashlib
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

import demo
from accounts.models import ApiToken, RoleGrant
from audit.models import AuditEvent
from governance.models import (
    Classification,
    ClassificationConfirmation,
    EthicsDeviation,
    EthicsDeviationAcceptance,
    FrameworkChange,
    FrameworkChangeDecision,
    Obligation,
    PolicyVersion,
    RaciAssignment,
    RaciRole,
    RiskRule,
    UseCaseRaciCell,
)
from governance.selectors import obligations_gating_move, policy_published_latest
from governance.services import obligation_accept, obligation_submit_evidence
from inventory.models import ArtifactLink, Dataset, ModelVersion, Regulation, UseCase
from inventory.services import model_version_move
from reviews.models import BlockingWaiver, PromotionRequest, Signature, SigningFailure
from reviews.selectors.promotion import request_state
from tests.demo.portfolio import seeded_demo
from tests.factories import api_token_for, full_answers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("demo_portfolio"),
    # One test process seeds the demo once for the whole module.
    pytest.mark.xdist_group("issue12-observed"),
]

API = "/api/v1"
GATE = f"{API}/gate/"
PASSWORD = demo.DEMO_PASSWORD

# The demo's use cases the observations are replayed on.
CREDIT_LIMIT = "Credit-limit increase eligibility"  # High, credit risk, pending prod request
CHURN = "Customer churn prediction"  # Medium, data.scientist's own, in production
CARD_FRAUD = "Real-time card fraud detection"  # Critical, fraud team, in production
CV_SCREENING = "Graduate CV screening"  # Critical, pending prod request, open bias finding
ATTRITION = "Employee attrition risk"  # High by the risk officer's own re-classification
RETAIL_CREDIT = "Retail credit application scoring"  # declares PRA SS1/23
LOAN_DATASET = "Retail loan applications 2019-2024"  # PII columns


@pytest.fixture(scope="module")
def demo_portfolio(django_db_setup, django_db_blocker):
    with seeded_demo(django_db_blocker) as output:
        yield output


# --- helpers -----------------------------------------------------------------------------


def person(username: str) -> User:
    return User.objects.get(username=username)


def token_api(username: str) -> APIClient:
    """A pipeline's client: the user's API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(person(username))}")
    return client


def session_api(username: str) -> APIClient:
    """The browser's API client: a signed-in session (what signing needs)."""
    client = APIClient()
    client.force_login(person(username))
    return client


def page(username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def use_case(name: str) -> UseCase:
    return UseCase.objects.get(name=name)


def newest_version(name: str, environment: str | None = None) -> ModelVersion:
    versions = ModelVersion.objects.filter(model__use_case__name=name)
    if environment:
        versions = versions.filter(environment=environment)
    return versions.order_by("-registered_at", "-id").first()


def pending_request(name: str) -> PromotionRequest:
    return PromotionRequest.objects.get(
        model_version__model__use_case__name=name, status=PromotionRequest.Status.PENDING
    )


def gate(username: str, **body) -> dict:
    response = token_api(username).post(GATE, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def codes(answer: dict) -> set[str]:
    return {r["code"] for r in answer["reasons"]}


def register_next(username: str, version: ModelVersion, label: str = "9.0-observed"):
    return token_api(username).post(
        f"{API}/model-versions/",
        {
            "model": version.model_id,
            "version_label": label,
            "artifact_uri": f"s3://models/{label}/model.pkl",
            "artifact_sha256": hashlib.sha256(f"{version.pk}/{label}".encode()).hexdigest(),
            "framework": version.framework or "scikit-learn 1.6",
            "training_data_ref": version.training_data_ref,
        },
        format="json",
    )


def blocking_codes(req: PromotionRequest) -> set[str]:
    return {b.item.code for b in request_state(req).unwaived}


def sign_page_post(username: str, req: PromotionRequest, meaning: str, password=PASSWORD):
    return page(username).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": meaning, "password": password, "reason": "Replayed from issue 12."},
    )


def accept_evidence(version: ModelVersion, consideration: str) -> None:
    """What used to be enough: evidence submitted by the technical owner and accepted
    by the risk officer, for this version's obligation."""
    ob = Obligation.objects.get(
        model_version=version, consideration__code=consideration, active=True
    )
    owner = version.model.use_case.technical_owner
    if ob.status == Obligation.Status.OPEN:
        ob = obligation_submit_evidence(
            obligation=ob, by=owner, link=f"https://docs.example.org/{version.pk}/{consideration}"
        )
    obligation_accept(obligation=ob, by=person("risk.officer"), note="Evidence reviewed.")


# --- 1. A data scientist picked their own approvers ---------------------------------------

SELF_APPROVAL = {
    "cells": [
        {"task": "model-acceptance", "role": "data-scientists", "letters": "AR"},
        {"task": "model-acceptance", "role": "risk-audit", "letters": "C"},
    ]
}


def test_01_data_scientist_cannot_pick_own_approvers():
    """``POST /api/v1/raci-matrices/<id>/cells/`` making data scientists Accountable for
    model acceptance, and naming team-mates for "Risk / audit", on the credit team's
    use case that waits for its production sign-offs; then a team-mate signs the
    "Model acceptance" slot and the pipeline asks the gate for prod."""
    uc = use_case(CREDIT_LIMIT)
    req = pending_request(CREDIT_LIMIT)
    version = req.model_version
    assert person("data.scientist").teams.filter(pk=uc.team_id).exists()
    cells = list(UseCaseRaciCell.objects.filter(use_case=uc).values_list("pk", "letters"))
    named = set(RaciAssignment.objects.filter(use_case=uc).values_list("pk", flat=True))

    ds = token_api("data.scientist")
    response = ds.post(f"{API}/raci-matrices/{uc.pk}/cells/", SELF_APPROVAL, format="json")
    assert response.status_code == 403
    assert "decide who signs" in response.json()["detail"]
    for who in ({"user": "credit.modeller"}, {"team": "credit-risk"}):
        response = ds.post(
            f"{API}/raci-matrices/{uc.pk}/assignments/",
            {"role": "risk-audit", **who},
            format="json",
        )
        assert response.status_code == 403, who
        assert "decide who signs" in response.json()["detail"]
    # ... and through the pages.
    matrix_page = page("data.scientist").post(
        reverse("governance:raci-use-case", args=[uc.pk]),
        {"cell-model-acceptance-data-scientists": "AR", "cell-model-acceptance-risk-audit": "C"},
    )
    assert matrix_page.status_code == 403 and b"decide who signs" in matrix_page.content
    assign_page = page("data.scientist").post(
        reverse("governance:raci-assignment-add", args=[uc.pk]),
        {
            "role": RaciRole.objects.get(code="risk-audit").pk,
            "user": person("credit.modeller").pk,
        },
    )
    assert assign_page.status_code == 403
    assert list(UseCaseRaciCell.objects.filter(use_case=uc).values_list("pk", "letters")) == cells
    assert set(RaciAssignment.objects.filter(use_case=uc).values_list("pk", flat=True)) == named

    # The team-mate who "signed the Model acceptance slot" is refused before any
    # password, on the page and the API; nothing is signed.
    signatures = Signature.objects.filter(request=req).count()
    shown = page("credit.modeller").get(reverse("reviews:request-sign", args=[req.pk]))
    assert shown.status_code == 403 and b'type="password"' not in shown.content
    assert sign_page_post("credit.modeller", req, "approved").status_code == 403
    api = session_api("credit.modeller").post(
        f"{API}/promotion-requests/{req.pk}/sign/",
        {"meaning": "approved", "password": PASSWORD},
        format="json",
    )
    assert api.status_code == 403 and api.json()["detail"]
    assert Signature.objects.filter(request=req).count() == signatures
    assert "model-acceptance" in request_state(req).tally.open_slots
    # The gate does not allow the version into prod.
    answer = gate("data.scientist", model_version=version.pk, environment="prod")
    assert answer["allowed"] is False and "no-approval" in codes(answer)


def test_01_a_team_mate_made_accountable_cannot_clear_the_periodic_review():
    """Had the matrix been changed (here by the governance lead) to make the credit
    team Accountable for model acceptance of its IFRS 9 model, whose periodic review is
    overdue, a team-mate who did not author the version signs the review
    (``/reviews/versions/<id>/periodic-review/``) to turn the gate green: refused, the
    signer's role is checked, not only the RACI, and the gate still blocks."""
    from governance.services import raci_matrix_set
    from reviews.models import PeriodicReview

    uc = use_case("IFRS 9 probability of default")
    in_prod = newest_version(uc.name, "prod")
    mate = person("credit.modeller")
    assert not in_prod.authors.filter(pk=mate.pk).exists()
    assert mate.teams.filter(pk=uc.team_id).exists()
    before = gate("data.scientist", model_version=in_prod.pk, environment="prod")
    assert "periodic-review-overdue" in codes(before)
    raci_matrix_set(
        use_case=uc,
        cells={
            ("model-acceptance", "data-scientists"): "AR",
            ("model-acceptance", "risk-audit"): "C",
        },
        by=person("governance.lead"),
    )
    posted = page("credit.modeller").post(
        reverse("reviews:periodic-review-sign", args=[in_prod.pk]),
        {"outcome": "satisfactory", "note": "All fine.", "password": PASSWORD},
    )
    assert posted.status_code == 403 and b"risk officer" in posted.content
    assert not PeriodicReview.objects.filter(model_version=in_prod, reviewed_by=mate).exists()
    after = gate("data.scientist", model_version=in_prod.pk, environment="prod")
    assert "periodic-review-overdue" in codes(after)


# --- 2. Evidence for one version counted for the next -------------------------------------


def test_02_evidence_of_one_version_does_not_count_for_the_next():
    """``data.scientist`` registers a next version of their production churn model
    (``POST /api/v1/model-versions/``) and asks to move it on: the new version owes its
    own bias testing and verification; the production version's accepted evidence
    counts for it no more."""
    in_prod = newest_version(CHURN, "prod")
    assert gate("data.scientist", model_version=in_prod.pk, environment="prod")["allowed"]
    created = register_next("data.scientist", in_prod)
    assert created.status_code == 201, created.content
    nxt = ModelVersion.objects.get(pk=created.json()["id"])

    own = Obligation.objects.filter(model_version=nxt, active=True)
    old = Obligation.objects.filter(model_version=in_prod, active=True)
    for code in ("bias-harm-testing", "preproduction-verification"):
        assert own.get(consideration__code=code).status == "open", code
        assert old.get(consideration__code=code).status == "accepted", code
        assert old.get(consideration__code=code).evidence_version == in_prod

    # The move that needs the bias evidence is asked for, as the pipeline did.
    ds = token_api("data.scientist")
    req = None
    for _env in ("qa", "preprod"):
        asked = ds.post(
            f"{API}/promotion-requests/",
            {"model_version": nxt.pk, "justification": "Same as the version in production."},
            format="json",
        )
        assert asked.status_code == 201, asked.content
        req = PromotionRequest.objects.get(pk=asked.json()["id"])
        if req.to_environment == "preprod" or req.status != "approved":
            break
    assert req.to_environment == "preprod" and req.status == "pending"
    assert "obligation:bias-harm-testing" in blocking_codes(req)
    nxt.refresh_from_db()
    assert nxt.environment != "preprod"
    # The risk officer's approval is refused on the page; nothing is signed.
    refused = sign_page_post("risk.officer", req, "approved")
    assert refused.status_code == 403
    assert not Signature.objects.filter(request=req).exists()
    # The gate refuses the next version; the one in production is still allowed.
    for env in ("preprod", "prod"):
        assert gate("data.scientist", model_version=nxt.pk, environment=env)["allowed"] is False
    assert gate("data.scientist", model_version=in_prod.pk, environment="prod")["allowed"]


# --- 3. A Critical version passed the gate with 7 of 9 obligations open --------------------


def test_03_critical_version_with_open_obligations_is_refused_at_the_gate():
    """A next version of the Critical card-fraud model with only what used to count (a
    bias check and a verification report), no validation and no monitoring. The report
    had it reach preproduction under the old rules; the test puts it there directly
    (``inventory.services.model_version_move``, what an approval does), since the
    request route now refuses that move without a validation. Then the team asks for
    prod (``POST /api/v1/promotion-requests/``), the risk officer tries to approve and
    the pipeline asks the gate."""
    in_prod = newest_version(CARD_FRAUD, "prod")
    assert use_case(CARD_FRAUD).risk_tier == 4
    created = register_next("fraud.engineer", in_prod)
    assert created.status_code == 201, created.content
    nxt = ModelVersion.objects.get(pk=created.json()["id"])
    for code in ("bias-harm-testing", "preproduction-verification"):
        accept_evidence(nxt, code)
    model_version_move(version=nxt, to_environment="preprod")

    open_items = {
        f"obligation:{item['code']}"
        for item in obligations_gating_move(version=nxt, environment="prod")
        if item["problem"]
    }
    assert "obligation:production-monitoring" in open_items
    assert len(open_items) >= 5, open_items

    asked = token_api("fraud.engineer").post(
        f"{API}/promotion-requests/",
        {"model_version": nxt.pk, "justification": "Go live."},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    req = PromotionRequest.objects.get(pk=asked.json()["id"])
    blocking = blocking_codes(req)
    assert open_items <= blocking
    assert "validation:missing" in blocking
    listed = {b["code"] for b in asked.json()["state"]["blocking"]}
    assert open_items | {"validation:missing"} <= listed

    # Approve is disabled with the reason (issue 18); posted anyway it is refused
    # before the password.
    shown = page("risk.officer").get(reverse("reviews:request-sign", args=[req.pk]))
    assert re.search(rb'value="approved"[^>]* disabled', shown.content)
    assert b'data-testid="why-disabled-approved">Blocking items' in shown.content
    refused = sign_page_post("risk.officer", req, "approved", password="not the password")
    assert refused.status_code == 403 and b"Blocking items" in refused.content
    assert not SigningFailure.objects.filter(user=person("risk.officer")).exists()
    # The missing validation cannot be waived away.
    waived = token_api("governance.lead").post(
        f"{API}/promotion-requests/{req.pk}/waive/",
        {"code": "validation:missing", "reason": "Urgent."},
        format="json",
    )
    assert waived.status_code == 400 and "not waived" in str(waived.json())
    on_page = page("governance.lead").post(
        reverse("reviews:request-waive", args=[req.pk]),
        {"code": "validation:missing", "reason": "Urgent."},
    )
    assert on_page.status_code == 400 and b"not waived" in on_page.content
    assert not Signature.objects.filter(request=req).exists()
    assert not BlockingWaiver.objects.filter(request=req).exists()

    answer = gate("fraud.engineer", model_version=nxt.pk, environment="prod")
    assert answer["allowed"] is False
    reasons = codes(answer)
    assert "validation" in reasons  # no independent validator
    assert "obligation-unmet" in reasons
    unmet = {r.get("obligation") for r in answer["reasons"] if r["code"] == "obligation-unmet"}
    assert {c.removeprefix("obligation:") for c in open_items} <= unmet
    assert "production-monitoring" in unmet  # unmonitored
    # The version in production still answers allowed; its sign-off obligation was
    # met by the signatures themselves.
    assert gate("fraud.engineer", model_version=in_prod.pk, environment="prod")["allowed"]
    signoff = Obligation.objects.get(
        model_version=in_prod, consideration__code="human-signoff", active=True
    )
    assert signoff.status == "accepted"


# --- 4. Classification trusted the developer's word ----------------------------------------


def test_04_classification_does_not_trust_the_developers_word():
    """``data.scientist`` registers a consumer loan use case on the credit team's loan
    applications (PII columns), declares "uses PII: no" and classifies it (API and
    page); removes the dataset's PII flags instead; classifies without the dataset and
    attaches it afterwards, then asks for the 0-signature move. And nobody confirmed a
    High classification: the demo's attrition model waits for the second line."""
    loans = Dataset.objects.get(name=LOAN_DATASET)
    ds = token_api("data.scientist")
    body = {
        "name": "Consumer loan top-up offers",
        "purpose": "Score existing borrowers for a top-up loan offer.",
        "team": "credit-risk",
        "business_owner": "credit.head",
        "technical_owner": "data.scientist",
        "uses_pii": False,
        "datasets": [loans.pk],
    }
    created = ds.post(f"{API}/use-cases/", body, format="json")
    assert created.status_code == 201, created.content
    loan_uc = UseCase.objects.get(pk=created.json()["id"])
    refused = ds.post(
        f"{API}/use-cases/{loan_uc.pk}/classification/", {"answers": full_answers()}, format="json"
    )
    assert refused.status_code == 400
    assert "PII columns" in str(refused.json()) and "date_of_birth" in str(refused.json())
    form = {k: v for k, v in full_answers().items() if v != []}
    on_page = page("data.scientist").post(
        reverse("governance:use-case-classify", args=[loan_uc.pk]), form
    )
    assert on_page.status_code == 400 and "PII columns" in on_page.content.decode()
    assert not Classification.objects.filter(use_case=loan_uc).exists()
    loan_uc.refresh_from_db()
    assert loan_uc.risk_tier is None

    # Un-flagging the dataset's PII columns is the second line's decision.
    columns = [
        {"name": c.name, "data_type": c.data_type, "is_pii": False}
        for c in loans.columns.order_by("pk")
    ]
    unflag = ds.patch(f"{API}/datasets/{loans.pk}/", {"columns": columns}, format="json")
    assert unflag.status_code == 403 and "second line" in unflag.json()["detail"]
    assert loans.columns.filter(is_pii=True).count() == 4

    # Classified Low without the dataset, then the dataset attached: the move that
    # needed no signature is not approved while the data contradicts the answers.
    body = {**body, "name": "Consumer loan top-up, second try", "datasets": []}
    later = UseCase.objects.get(pk=ds.post(f"{API}/use-cases/", body, format="json").json()["id"])
    classified = ds.post(
        f"{API}/use-cases/{later.pk}/classification/", {"answers": full_answers()}, format="json"
    )
    assert classified.status_code == 201, classified.content
    model = ds.post(f"{API}/models/", {"use_case": later.pk, "name": "Top-up scorecard"})
    assert model.status_code == 201, model.content
    version = ds.post(
        f"{API}/model-versions/",
        {
            "model": model.json()["id"],
            "version_label": "1.0",
            "artifact_uri": "s3://models/top-up/1.0/model.pkl",
            "artifact_sha256": hashlib.sha256(b"top-up 1.0").hexdigest(),
            "framework": "scikit-learn 1.6",
        },
        format="json",
    )
    assert version.status_code == 201, version.content
    attached = ds.patch(f"{API}/use-cases/{later.pk}/", {"datasets": [loans.pk]}, format="json")
    assert attached.status_code == 200, attached.content
    asked = ds.post(
        f"{API}/promotion-requests/",
        {"model_version": version.json()["id"], "justification": "Ship it."},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    assert asked.json()["status"] == "pending"
    assert "classification:pii-undeclared" in {b["code"] for b in asked.json()["state"]["blocking"]}
    assert ModelVersion.objects.get(pk=version.json()["id"]).environment == "dev"

    # A High class nobody from the second line confirmed: the developer cannot confirm
    # it, and it stops the move past QA at the gate.
    attrition = use_case(ATTRITION)
    assert attrition.risk_tier == 3
    confirm_url = f"{API}/use-cases/{attrition.pk}/classification-confirmation/"
    for who in ("people.analyst", "data.scientist"):
        response = session_api(who).post(confirm_url, {"password": PASSWORD}, format="json")
        assert response.status_code == 403, who
        assert response.json()["detail"]
    confirm_page = page("people.analyst").post(
        reverse("governance:use-case-classification-confirm", args=[attrition.pk]),
        {"password": PASSWORD},
    )
    assert confirm_page.status_code == 403
    assert not ClassificationConfirmation.objects.filter(use_case=attrition).exists()
    answer = gate(
        "people.analyst", model_version=newest_version(ATTRITION).pk, environment="preprod"
    )
    assert answer["allowed"] is False and "classification:unconfirmed" in codes(answer)


# --- 5. The ethical position fed nothing ---------------------------------------------------


def test_05_ethics_answers_below_the_position_block_until_accepted():
    """``data.scientist`` answers the ethics questions of their production churn model
    far below the organisation's position (transparency 1 against 4, "manipulation"
    declared), ``POST /api/v1/ethics-answer-sets/``; then tries to accept the
    deviations themselves, and the risk officer to accept the prohibited harm."""
    uc = use_case(CHURN)
    in_prod = newest_version(CHURN, "prod")
    answers = {
        "aspects": [],
        "psychology": ["manipulation"],
        "financial_impact": "none",
        "transparency": 1,
    }
    answered = token_api("data.scientist").post(
        f"{API}/ethics-answer-sets/", {"use_case": uc.pk, "answers": answers}, format="json"
    )
    assert answered.status_code == 201, answered.content
    opened = EthicsDeviation.objects.filter(use_case=uc, closed_at=None)
    assert set(opened.values_list("code", flat=True)) == {
        "transparency",
        "psychology:manipulation",
    }
    assert {d.owner for d in opened} == {person("risk.officer")}
    shown = page("data.scientist").get(reverse("dashboard:use-case-detail", args=[uc.pk]))
    assert b'id="ethics-deviations"' in shown.content

    answer = gate("data.scientist", model_version=in_prod.pk, environment="prod")
    assert answer["allowed"] is False
    assert {"ethics:transparency", "ethics:psychology:manipulation"} <= codes(answer)

    body = {
        "reason": "The churn scores only order the retention team's call list.",
        "expires_on": str(timezone.localdate() + timedelta(days=90)),
        "password": PASSWORD,
    }
    transparency = opened.get(code="transparency")
    refused = session_api("data.scientist").post(
        f"{API}/ethics-deviations/{transparency.pk}/accept/", body, format="json"
    )
    assert refused.status_code == 403 and "second line" in refused.json()["detail"]
    on_page = page("data.scientist").post(
        reverse("governance:ethics-deviation-accept", args=[transparency.pk]), body
    )
    assert on_page.status_code == 403
    manipulation = opened.get(code="psychology:manipulation")
    never = session_api("risk.officer").post(
        f"{API}/ethics-deviations/{manipulation.pk}/accept/", body, format="json"
    )
    assert never.status_code == 400 and "prohibited harm" in str(never.json())
    assert not EthicsDeviationAcceptance.objects.filter(deviation__use_case=uc).exists()
    assert AuditEvent.objects.filter(
        action="ethics.deviation_accept_refused", actor=person("data.scientist")
    ).exists()


# --- 6. A governance lead could act as anyone ----------------------------------------------


def test_06_governance_lead_cannot_act_as_anyone():
    """``governance.lead`` in the admin site: reads the API tokens (a copied token acted
    as its owner), creates one for the approver, resets the approver's password to sign
    as them, adds themselves to the approver group; and tokens never expired nor died
    with a password change."""
    issued = APIClient().post(
        f"{API}/auth/token/", {"username": "data.scientist", "password": PASSWORD}
    )
    assert issued.status_code == 200
    secret = issued.json()["token"]
    token = ApiToken.objects.filter(user=person("data.scientist")).latest("created")
    lead = page("governance.lead")
    listing = lead.get(reverse("admin:accounts_apitoken_changelist"))
    assert listing.status_code == 200
    assert secret not in listing.content.decode() and token.digest not in listing.content.decode()
    detail = lead.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert secret not in detail.content.decode()
    shown = APIClient()
    shown.credentials(HTTP_AUTHORIZATION=f"Token {token.prefix}")
    assert shown.get(f"{API}/use-cases/").status_code == 401

    # A token "for the approver" made in the admin is the lead's own.
    approver = person("approver")
    before = ApiToken.objects.filter(user=approver).count()
    lead.post(reverse("admin:accounts_apitoken_add"), {"name": "ci", "user": approver.pk})
    assert ApiToken.objects.filter(user=approver).count() == before

    # The approver's password stays the approver's.
    reset = reverse("admin:auth_user_password_change", args=[approver.pk])
    assert lead.get(reset).status_code == 403
    posted = lead.post(reset, {"password1": "lead-knows-it-42", "password2": "lead-knows-it-42"})
    assert posted.status_code == 403 and b"superuser" in posted.content
    assert person("approver").check_password(PASSWORD)

    # No approval role for themselves, in the user form or as a role grant.
    me = person("governance.lead")
    groups = set(me.groups.values_list("name", flat=True))
    form = {
        "username": me.username,
        "first_name": me.first_name,
        "last_name": me.last_name,
        "email": me.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": list(me.groups.values_list("pk", flat=True)) + [approver.groups.get().pk],
    }
    self_grant = lead.post(reverse("admin:auth_user_change", args=[me.pk]), form)
    assert self_grant.status_code == 400
    assert "cannot give yourself a role" in self_grant.content.decode()
    assert set(person("governance.lead").groups.values_list("name", flat=True)) == groups
    grant = lead.post(
        reverse("admin:accounts_rolegrant_add"),
        {"user": me.pk, "role": "approver", "reason": "Cover the CAB."},
    )
    assert grant.status_code == 400 and "yourself" in grant.content.decode()
    assert not RoleGrant.objects.filter(user=me).exists()

    # Tokens expire, and die with a password change.
    days = settings.API_TOKEN_DAYS
    assert timedelta(days=days - 1) < token.expires - timezone.now() <= timedelta(days=days)
    changed = page("data.scientist").post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert changed.status_code == 302
    copied = APIClient()
    copied.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = copied.get(f"{API}/use-cases/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


# --- 7. Anyone could block another team's deployment ---------------------------------------


def test_07_another_team_cannot_block_a_deployment_with_the_same_sha():
    """``data.scientist`` (marketing) registers a version of their churn model carrying
    the artifact SHA-256 of the fraud team's production card-fraud version (API and
    page), then the fraud team's pipeline asks the gate by SHA only."""
    theirs = newest_version(CARD_FRAUD, "prod")
    sha = theirs.artifact_sha256
    before = gate("fraud.engineer", artifact_sha256=sha, environment="prod")
    assert before["allowed"] is True and before["model_version"] == theirs.pk
    churn_model = newest_version(CHURN).model
    body = {
        "model": churn_model.pk,
        "version_label": "9.1-observed",
        "artifact_uri": "s3://marketing/churn/copied.pkl",
        "artifact_sha256": sha,
        "framework": "scikit-learn 1.6",
    }
    response = token_api("data.scientist").post(f"{API}/model-versions/", body, format="json")
    assert response.status_code == 400
    assert "already registered" in str(response.json()) and "governance lead" in str(
        response.json()
    )
    on_page = page("data.scientist").post(
        reverse("inventory:version-create", args=[churn_model.pk]),
        {**body, "authors": [person("data.scientist").pk]},
    )
    assert on_page.status_code == 400 and "already registered" in on_page.content.decode()
    link = page("data.scientist").post(
        reverse("admin:inventory_artifactlink_add"),
        {"artifact_sha256": sha, "model": churn_model.pk, "reason": "Same file."},
    )
    assert link.status_code in (302, 403)
    assert list(ModelVersion.objects.filter(artifact_sha256=sha)) == [theirs]
    assert not ArtifactLink.objects.filter(artifact_sha256=sha).exists()
    after = gate("fraud.engineer", artifact_sha256=sha, environment="prod")
    assert after["allowed"] is True and after["model_version"] == theirs.pk
    assert "ambiguous-artifact" not in codes(after)


# --- 8. Routine obligation work turned production red --------------------------------------


def test_08_waiving_an_obligation_that_does_not_gate_prod_keeps_it_allowed():
    """After deployment the governance lead waives an obligation of the churn use case
    that does not gate its production move (``POST /api/v1/obligations/<id>/waive/``):
    the approval still stands and the gate still answers ``allowed``, with no
    ``signature-mismatch``."""
    in_prod = newest_version(CHURN, "prod")
    assert gate("data.scientist", model_version=in_prod.pk, environment="prod")["allowed"]
    gating = {item["code"] for item in obligations_gating_move(version=in_prod, environment="prod")}
    unrelated = (
        Obligation.objects.filter(use_case=use_case(CHURN), active=True, status="open")
        .exclude(consideration__code__in=gating | {"human-signoff"})
        .order_by("pk")
        .first()
    )
    if unrelated is None:
        # Every obligation of the use case gates prod at this tier: the unrelated one
        # is then a next version's.
        nxt = ModelVersion.objects.get(pk=register_next("data.scientist", in_prod).json()["id"])
        unrelated = Obligation.objects.get(
            model_version=nxt, consideration__code="bias-harm-testing", active=True
        )
    waived = token_api("governance.lead").post(
        f"{API}/obligations/{unrelated.pk}/waive/",
        {"justification": "Not needed for this model; agreed with the risk officer."},
        format="json",
    )
    assert waived.status_code == 200 and waived.json()["status"] == "waived"
    answer = gate("data.scientist", model_version=in_prod.pk, environment="prod")
    assert answer["allowed"] is True, answer["reasons"]
    assert "signature-mismatch" not in codes(answer)
    approved = PromotionRequest.objects.get(pk=answer["request"])
    assert all(s.valid for s in request_state(approved).signatures)


# --- 9. Policy publication and rule edits were one person's act ----------------------------


def test_09_policy_publication_and_rule_edits_need_a_second_lead():
    """``governance.lead`` publishes a policy draft (``POST
    /api/v1/policy-versions/<id>/publish/``), changes a classification rule through the
    API, and approves their own proposals, the demo's pending one included."""
    lead = token_api("governance.lead")
    published = policy_published_latest()
    # The demo's framework review left a policy draft (its proposal); else one is made.
    existing = PolicyVersion.objects.filter(policy=published.policy, status="draft").first()
    if existing is None:
        made = lead.post(f"{API}/policy-versions/", {"policy": published.policy_id}, format="json")
        assert made.status_code == 201, made.content
    draft_id = existing.pk if existing else made.json()["id"]
    proposed = lead.post(f"{API}/policy-versions/{draft_id}/publish/", {"note": "Live now."})
    assert proposed.status_code == 202
    assert PolicyVersion.objects.get(pk=draft_id).is_draft
    assert policy_published_latest().pk == published.pk

    rule = RiskRule.objects.get(name="Customer-facing")
    for method in ("put", "patch", "delete"):
        answer = getattr(lead, method)(f"{API}/risk-rules/{rule.pk}/", {"active": False})
        assert answer.status_code == 405, method
    rule_change = lead.post(
        f"{API}/risk-rules/{rule.pk}/propose/",
        {"reason": "Off for now.", "changes": {"active": False}},
        format="json",
    )
    assert rule_change.status_code == 202
    # The organisation's ethical position, lowered by the same lead.
    from demo.ethics import POSITION
    from governance.selectors.ethics import ethics_position_current

    position = ethics_position_current()
    lowered = lead.post(
        f"{API}/ethics-answer-sets/", {"answers": {**POSITION, "transparency": 1}}, format="json"
    )
    assert lowered.status_code == 201, lowered.content
    assert ethics_position_current() == position
    own = [proposed.json()["id"], rule_change.json()["id"]]
    # ... and the demo's own pending proposal (a rule's explanation reworded).
    own += list(
        FrameworkChange.objects.filter(
            proposed_by=person("governance.lead"), decision__isnull=True
        ).values_list("pk", flat=True)
    )
    decisions = FrameworkChangeDecision.objects.count()
    for pk in set(own):
        api = session_api("governance.lead").post(
            f"{API}/framework-changes/{pk}/approve/", {"password": PASSWORD}, format="json"
        )
        assert api.status_code == 403 and "other than the proposer" in api.json()["detail"]
        on_page = page("governance.lead").post(
            reverse("governance:framework-change-approve", args=[pk]), {"password": PASSWORD}
        )
        assert on_page.status_code == 403
    assert FrameworkChangeDecision.objects.count() == decisions
    assert RiskRule.objects.get(pk=rule.pk).active
    assert policy_published_latest().pk == published.pk
    assert ethics_position_current() == position


# --- 10. Evidence could not be opened ------------------------------------------------------


def test_10_evidence_files_are_downloadable_and_checked():
    """The risk officer opens a JSON evidence file the demo's experiments filed (the
    report: no download route, ``/media/`` 404); the obligations page links it; the
    file is checked against its SHA-256 and ``/media/`` still serves nothing."""
    ob = (
        Obligation.objects.exclude(evidence_file="")
        .filter(evidence_sha256__gt="")
        .order_by("pk")
        .first()
    )
    assert ob is not None, "the demo files at least one evidence file"
    page_url = reverse("governance:obligation-evidence-file", args=[ob.use_case_id, ob.pk])
    for username in ("risk.officer", "auditor"):
        for response in (
            page(username).get(page_url),
            token_api(username).get(f"{API}/obligations/{ob.pk}/evidence/file/"),
        ):
            assert response.status_code == 200
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            body = b"".join(response.streaming_content)
            assert hashlib.sha256(body).hexdigest() == ob.evidence_sha256
    listing = page("risk.officer").get(
        reverse("governance:obligations-use-case", args=[ob.use_case_id])
    )
    assert page_url in listing.content.decode()
    assert Client().get(page_url).status_code == 302  # anonymous: to the login page
    assert page("risk.officer").get(f"/media/{ob.evidence_file.name}").status_code == 404
    assert default_storage.exists(ob.evidence_file.name)


# --- 11. An auditor signed -------------------------------------------------------------------


@pytest.mark.parametrize("username", ["auditor", "data.scientist", "credit.modeller"])
def test_11_auditor_and_first_line_are_offered_no_signature(username):
    """``/reviews/requests/<id>/sign/`` of the demo's pending production request,
    opened by the auditor, the data scientist and a team-mate: no form, no password
    field, the reason; each meaning posted (page and API) is refused and audited."""
    req = pending_request(CREDIT_LIMIT)
    signatures = Signature.objects.filter(request=req).count()
    shown = page(username).get(reverse("reviews:request-sign", args=[req.pk]))
    assert shown.status_code == 403
    assert b'id="sign-form"' not in shown.content and b'type="password"' not in shown.content
    assert b'data-testid="refusal"' in shown.content
    for meaning in ("reviewed", "approved", "rejected"):
        assert sign_page_post(username, req, meaning).status_code == 403
        api = session_api(username).post(
            f"{API}/promotion-requests/{req.pk}/sign/",
            {"meaning": meaning, "password": PASSWORD, "reason": "x"},
            format="json",
        )
        assert api.status_code == 403 and api.json()["detail"]
    assert Signature.objects.filter(request=req).count() == signatures
    assert not SigningFailure.objects.filter(user=person(username)).exists()
    refused = AuditEvent.objects.filter(action="signature.refused", actor=person(username))
    assert refused.count() == 6


def test_11_governance_lead_is_offered_only_reviewed():
    req = pending_request(CREDIT_LIMIT)
    shown = page("governance.lead").get(reverse("reviews:request-sign", args=[req.pk]))
    assert shown.status_code == 200
    assert b'value="reviewed"' in shown.content
    assert b'value="approved"' not in shown.content and b'value="rejected"' not in shown.content
    assert sign_page_post("governance.lead", req, "approved").status_code == 403
    assert not Signature.objects.filter(request=req, signer=person("governance.lead")).exists()


def test_11_approve_is_not_offered_while_a_blocking_item_is_open():
    """The CV screening request waits on an open bias finding: the risk officer is
    offered reject, not approve, and an approval posted anyway is refused before the
    password is checked."""
    req = pending_request(CV_SCREENING)
    assert request_state(req).unwaived
    shown = page("risk.officer").get(reverse("reviews:request-sign", args=[req.pk]))
    assert shown.status_code == 200
    # Approve is shown disabled with the reason (issue 18), reject is offered
    assert re.search(rb'value="approved"[^>]* disabled', shown.content)
    assert b'data-testid="why-disabled-approved">Blocking items' in shown.content
    assert re.search(rb'value="rejected"(?![^>]* disabled)', shown.content)
    refused = sign_page_post("risk.officer", req, "approved", password="a wrong guess")
    assert refused.status_code == 403 and b"Blocking items" in refused.content
    assert not Signature.objects.filter(request=req).exists()
    assert not SigningFailure.objects.filter(user=person("risk.officer")).exists()


def _auditor_routes() -> list[tuple[str, list, dict]]:
    """Every page that signs, decides or changes something, on the demo's rows:
    (URL name, arguments, posted body)."""
    from experiments.models import Experiment
    from fairness.models import BiasSummary, ScoredDataset
    from monitoring.models import DriftAlert
    from reviews.models import Finding, Validation

    req = pending_request(CREDIT_LIMIT)
    in_prod = newest_version(CARD_FRAUD, "prod")
    monitored = newest_version(RETAIL_CREDIT, "prod")
    approved = PromotionRequest.objects.filter(model_version=in_prod, status="approved").first()
    uc = use_case(CARD_FRAUD)
    attrition = use_case(ATTRITION)
    deviation = EthicsDeviation.objects.filter(closed_at=None).order_by("pk").first()
    change = FrameworkChange.objects.filter(decision__isnull=True).order_by("pk").first()
    ob = Obligation.objects.filter(use_case=uc, active=True).order_by("pk").first()
    finding = Finding.objects.filter(status="open").order_by("pk").first()
    accepted = Finding.objects.exclude(validation=None).order_by("pk").first()
    validation = Validation.objects.order_by("pk").first()
    experiment = Experiment.objects.order_by("pk").first()
    alert = DriftAlert.objects.order_by("pk").first()
    scored = ScoredDataset.objects.order_by("pk").first()
    summary = BiasSummary.objects.order_by("pk").first()
    dataset = Dataset.objects.get(name=LOAN_DATASET)
    body = {
        "password": PASSWORD,
        "reason": "The auditor tries.",
        "meaning": "reviewed",
        "note": "The auditor tries.",
        "justification": "The auditor tries.",
        "resolution": "The auditor tries.",
        "plan": "The auditor tries.",
        "actions": "2099-01-01 The auditor tries.",
        "severity": "low",
        "owner": "auditor",
        "title": "The auditor's finding",
        "outcome": "satisfactory",
        "expires_on": str(timezone.localdate() + timedelta(days=30)),
        "link": "https://docs.example.org/auditor",
        "code": "x",
    }
    return [
        ("reviews:request-sign", [req.pk], body),
        ("reviews:request-revoke", [approved.pk], body),
        ("reviews:request-waive", [req.pk], body),
        ("reviews:request-withdraw", [req.pk], body),
        ("reviews:request-create", [in_prod.pk], body),
        ("reviews:periodic-review-sign", [in_prod.pk], body),
        ("reviews:finding-create", [in_prod.pk], body),
        ("reviews:finding-remediate", [finding.pk], body),
        ("reviews:finding-verify", [finding.pk], body),
        ("reviews:finding-close", [finding.pk], body),
        ("reviews:finding-plan", [finding.pk], body),
        ("reviews:finding-severity", [finding.pk], body),
        ("reviews:finding-owner", [finding.pk], body),
        ("reviews:validations", [in_prod.pk], body),
        ("reviews:validation-sign", [validation.pk], body),
        ("reviews:finding-accept", [accepted.pk], body),
        ("governance:use-case-classify", [uc.pk], body),
        ("governance:use-case-classification-confirm", [attrition.pk], body),
        ("governance:ethics-deviation-accept", [deviation.pk], body),
        ("governance:ethics-use-case-answer", [uc.pk], body),
        ("governance:ethics-answer", [], body),
        ("governance:raci-use-case", [uc.pk], body),
        ("governance:raci-assignment-add", [uc.pk], body),
        ("governance:policy-draft-new", [], body),
        ("governance:framework-change-approve", [change.pk], body),
        ("governance:framework-change-reject", [change.pk], body),
        ("governance:risk-rule-propose-new", [], body),
        ("governance:version-change-declaration-declare", [in_prod.pk], body),
        ("governance:obligation-evidence", [uc.pk, ob.pk], body),
        ("governance:obligation-accept", [uc.pk, ob.pk], body),
        ("governance:obligation-waive", [uc.pk, ob.pk], body),
        ("inventory:use-case-create", [], body),
        ("inventory:use-case-update", [uc.pk], body),
        ("inventory:model-create", [uc.pk], body),
        ("inventory:version-create", [in_prod.model_id], body),
        ("inventory:dataset-create", [], body),
        ("inventory:dataset-update", [dataset.pk], body),
        ("fairness:bias-upload", [in_prod.pk], body),
        ("fairness:bias-summary-request", [scored.pk], body),
        ("fairness:bias-summary-evidence", [summary.pk], body),
        ("monitoring:monitoring-configure", [monitored.pk], body),
        ("monitoring:monitoring-recompute", [monitored.pk], body),
        ("monitoring:monitoring-alert-acknowledge", [alert.pk], body),
        ("monitoring:monitoring-alert-resolve", [alert.pk], body),
        ("experiments:experiment-create", [uc.pk], body),
        ("experiments:experiment-start", [experiment.pk], body),
        ("experiments:experiment-abandon", [experiment.pk], body),
        ("experiments:experiment-sign-result", [experiment.pk], body),
    ]


def _written() -> dict[str, int]:
    """Rows of every kind the auditor's posts could write (refusals' audit events and
    the signing-refusal counters aside)."""
    from experiments.models import Experiment
    from fairness.models import BiasSummary, ScoredDataset
    from governance.models import EthicsAnswerSet, ObligationEvent
    from monitoring.models import MonitoringConfig
    from reviews.models import Finding, PeriodicReview, Validation

    models = (
        Signature,
        BlockingWaiver,
        PromotionRequest,
        PeriodicReview,
        Finding,
        Validation,
        ClassificationConfirmation,
        Classification,
        EthicsDeviationAcceptance,
        EthicsAnswerSet,
        FrameworkChange,
        FrameworkChangeDecision,
        PolicyVersion,
        ObligationEvent,
        UseCase,
        ModelVersion,
        Dataset,
        RaciAssignment,
        UseCaseRaciCell,
        ScoredDataset,
        BiasSummary,
        MonitoringConfig,
        Experiment,
    )
    counts = {m.__name__: m.objects.count() for m in models}
    counts["pending requests"] = PromotionRequest.objects.filter(status="pending").count()
    counts["open findings"] = Finding.objects.filter(status="open").count()
    return counts


def test_11_the_auditor_signs_and_changes_nothing_anywhere():
    """The auditor's role is "change nothing": every page that signs, decides or
    changes something refuses them with 403, and nothing is written."""
    before = _written()
    auditor = page("auditor")
    answered = {}
    for name, args, body in _auditor_routes():
        response = auditor.post(reverse(name, args=args), body)
        answered[name] = response.status_code
    assert {name: code for name, code in answered.items() if code != 403} == {}
    assert _written() == before


def test_11_the_auditor_signs_and_changes_nothing_through_the_api():
    """The same through the API, with a browser session (what signing needs): the
    endpoints that let any role reach their service (signing, monitoring alerts,
    confirmations) refuse the auditor too."""
    from monitoring.models import DriftAlert, MonitoringConfig
    from reviews.models import Finding, Validation

    req = pending_request(CREDIT_LIMIT)
    uc = use_case(CARD_FRAUD)
    in_prod = newest_version(CARD_FRAUD, "prod")
    ob = Obligation.objects.filter(use_case=uc, active=True).order_by("pk").first()
    deviation = EthicsDeviation.objects.filter(closed_at=None).order_by("pk").first()
    change = FrameworkChange.objects.filter(decision__isnull=True).order_by("pk").first()
    body = {
        "password": PASSWORD,
        "meaning": "reviewed",
        "reason": "The auditor tries.",
        "justification": "The auditor tries.",
        "link": "https://docs.example.org/auditor",
        "expires_on": str(timezone.localdate() + timedelta(days=30)),
    }
    routes = [
        f"promotion-requests/{req.pk}/sign/",
        f"promotion-requests/{req.pk}/waive/",
        f"promotion-requests/{req.pk}/withdraw/",
        "promotion-requests/",
        f"validations/{Validation.objects.order_by('pk').first().pk}/sign/",
        f"monitoring-configs/{MonitoringConfig.objects.order_by('pk').first().pk}/recompute/",
        f"drift-alerts/{DriftAlert.objects.order_by('pk').first().pk}/acknowledge/",
        f"drift-alerts/{DriftAlert.objects.order_by('pk').first().pk}/resolve/",
        f"use-cases/{uc.pk}/classification/",
        f"use-cases/{use_case(ATTRITION).pk}/classification-confirmation/",
        f"ethics-deviations/{deviation.pk}/accept/",
        f"framework-changes/{change.pk}/approve/",
        "finding-acceptances/",
        "change-declarations/",
        f"obligations/{ob.pk}/accept/",
        f"obligations/{ob.pk}/waive/",
        f"obligations/{ob.pk}/evidence/",
        f"raci-matrices/{uc.pk}/cells/",
        "model-versions/",
    ]
    extra = {
        "model_version": in_prod.pk,
        "finding": Finding.objects.exclude(validation=None).order_by("pk").first().pk,
    }
    before = _written()
    auditor = session_api("auditor")
    answered = {url: auditor.post(f"{API}/{url}", {**body, **extra}).status_code for url in routes}
    assert {url: code for url, code in answered.items() if code != 403} == {}
    assert _written() == before


# --- 12. Regulations mislabelled -------------------------------------------------------------


def test_12_ss3_18_and_ss1_23_are_named_apart():
    """The catalogue (``GET /api/v1/regulations/``, ``/api/v1/regulation-requirements/``)
    read by the risk officer: the book's four PRA principles are SS3/18, and SS1/23 has
    its five, model risk mitigants included; the demo's use case declaring SS1/23 is
    measured against those five. The catalogue has no write route in the API."""
    risk = token_api("risk.officer")
    rows = risk.get(f"{API}/regulations/", {"search": "PRA"}).json()["results"]
    names = {r["code"]: r["name"] for r in rows}
    assert "SS1/23" in names["pra-ss1-23"] and "SS3/18" in names["pra-ss3-18"]
    assert "SS3/18" not in names["pra-ss1-23"] and "stress" in names["pra-ss3-18"]

    def texts(code):
        found = risk.get(f"{API}/regulation-requirements/", {"regulation": code}).json()
        return [r["text"] for r in found["results"]]

    ss123, ss318 = texts("pra-ss1-23"), texts("pra-ss3-18")
    assert len(ss123) == 5 and any("model risk mitigants" in t for t in ss123)
    assert len(ss318) == 4 and any("effective challenge" in t for t in ss318)
    uc = use_case(RETAIL_CREDIT)
    requirements = risk.get(f"{API}/use-cases/{uc.pk}/requirements/").json()["results"]
    assert len([r for r in requirements if r["regulation"] == "pra-ss1-23"]) == 5
    assert not [r for r in requirements if r["regulation"] == "pra-ss3-18"]
    shown = page("auditor").get(reverse("dashboard:use-case-detail", args=[uc.pk]))
    assert b"model risk mitigants" in shown.content
    lead = token_api("governance.lead")
    ss = rows[0]["id"]
    assert lead.post(f"{API}/regulations/", {"code": "x", "name": "x"}).status_code in (403, 405)
    assert lead.patch(f"{API}/regulations/{ss}/", {"name": "SS1/23"}).status_code in (403, 405)
    assert Regulation.objects.get(code="pra-ss1-23").name == names["pra-ss1-23"]
