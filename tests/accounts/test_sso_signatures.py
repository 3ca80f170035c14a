"""Every kind of signature under single sign-on keeps Part 11's re-authentication
(issue 17): the dialog of an account that signs in through the provider asks no
password, a valid dialog sends the signer to the real test provider with prompt=login
and max_age=0, and the callback posts the dialog again with the provider's proof, so the
same service checks everything again and records how the signer re-authenticated. The
signer tries to get around it: an old sign-in, another person, a replayed answer, a
proof made for another signature, a target changed meanwhile, a password."""

import datetime as dt
from dataclasses import dataclass
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SsoIdentity
from accounts.roles import Role
from accounts.sso import stepup
from audit.models import AuditEvent
from core import finding_rules as fr
from governance import tasks
from governance.models import FrameworkChangeDecision, RiskRule
from governance.services.framework_changes import risk_rule_propose_active
from inventory.models import ModelVersion
from oversight.models import FrameworkReview
from oversight.services.framework import framework_review_conclude, framework_review_create
from oversight.services.snapshots import snapshot_take
from reviews.models import Finding, Signature
from reviews.services import acceptance as acceptance_svc
from reviews.services.findings import finding_open
from reviews.services.promotion import periodic_review_sign
from reviews.services.validation import validation_record
from tests.experiments.test_experiments_services import draft
from tests.factories import user_with_role
from tests.governance.four_eyes import other_lead
from tests.reviews.signoff_world import PASSWORD, with_password
from tests.reviews.test_validation import RECORD as VALIDATION_RECORD
from tests.sso_fixtures import APP
from tests.sso_provider import local_path, sign_in_at, sso_settings

pytestmark = pytest.mark.django_db
BY_PROVIDER = "provider re-authentication"
# A dialog of no field posts its CSRF token all the same (the test client does not check it).
NO_FIELDS = {"csrfmiddlewaretoken": "from-the-page"}


@dataclass
class Case:
    """One kind of signature: who signs, the dialog, what it posts, the records it
    wrote (their auth_method), and a change of its target made by someone else."""

    signer: object
    url: str
    data: dict
    records: object
    change: object = None
    dialog: str = ""  # the page showing the dialog, when it is not the one posted to


def _finding_accept(request) -> Case:
    _, version = request.getfixturevalue("world")
    found, _ = finding_open(
        version=version,
        by=request.getfixturevalue("risk_officer"),
        title="Income proxy for age",
        severity="high",
    )
    return Case(
        signer=request.getfixturevalue("governance_lead"),
        url=reverse("reviews:finding-accept", args=[found.pk]),
        data={
            "reason": "Compensating control: manual review of declines.",
            "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
        records=lambda: list(
            Signature.objects.filter(finding_acceptance__finding=found).values_list(
                "auth_method", flat=True
            )
        ),
        # Closed by its owner meanwhile.
        change=lambda: Finding.objects.filter(pk=found.pk).update(status=fr.CLOSED),
    )


def _periodic_review(request) -> Case:
    _, version = request.getfixturevalue("world")
    ModelVersion.objects.filter(pk=version.pk).update(environment="prod")
    return Case(
        signer=request.getfixturevalue("risk_officer"),
        url=reverse("reviews:periodic-review-sign", args=[version.pk]),
        data={"outcome": "satisfactory", "note": "Stable since launch."},
        records=lambda: list(
            Signature.objects.filter(periodic_review__model_version=version).values_list(
                "auth_method", flat=True
            )
        ),
        # Rolled back out of production meanwhile.
        change=lambda: ModelVersion.objects.filter(pk=version.pk).update(environment="preprod"),
    )


def _experiment_start(request) -> Case:
    use_case, champion, challenger = request.getfixturevalue("arms")
    owner = request.getfixturevalue("data_scientist")
    experiment = draft(use_case, champion, challenger, owner)
    return Case(
        signer=owner,
        url=reverse("experiments:experiment-start", args=[experiment.pk]),
        data={"reason": "Protocol reviewed with the team."},
        records=lambda: list(experiment.signatures.values_list("auth_method", flat=True)),
    )


def _framework_change(request) -> Case:
    rule = RiskRule.objects.get(name="Customer-facing")
    change = risk_rule_propose_active(
        rule=rule, active=False, by=request.getfixturevalue("governance_lead"), reason="Tidy."
    )
    return Case(
        signer=other_lead(),
        url=reverse("governance:framework-change-approve", args=[change.pk]),
        dialog=reverse("governance:framework-change", args=[change.pk]),
        data={"reason": "Agreed."},
        records=lambda: [
            BY_PROVIDER if method == "provider" else method
            for method in FrameworkChangeDecision.objects.filter(change=change).values_list(
                "auth_method", flat=True
            )
        ],
    )


def _validation(request) -> Case:
    _, version = request.getfixturevalue("world")
    validator = user_with_role(Role.VALIDATOR, username="val")
    validation = validation_record(
        version=version, by=validator, **VALIDATION_RECORD, conclusion="approve"
    )
    return Case(
        signer=validator,
        url=reverse("reviews:validation-sign", args=[validation.pk]),
        data=NO_FIELDS,
        records=lambda: list(
            Signature.objects.filter(validation=validation).values_list("auth_method", flat=True)
        ),
    )


def _framework_review(request) -> Case:
    lead = request.getfixturevalue("governance_lead")
    snapshot_take()
    today = timezone.localdate()
    review = framework_review_create(
        by=lead, period_start=today - dt.timedelta(days=364), period_end=today
    )
    framework_review_conclude(review=review, by=lead, conclusion="The framework works.")
    url = reverse("oversight:review-detail", args=[review.pk])
    return Case(
        signer=lead,
        url=f"{url}sign/",
        dialog=url,
        data=NO_FIELDS,
        # The review is the signed record; the audit event says how.
        records=lambda: [
            BY_PROVIDER
            for _ in AuditEvent.objects.filter(
                action="signature.reauthenticated", object_id=str(review.pk)
            )
            if FrameworkReview.objects.get(pk=review.pk).is_signed
        ],
    )


CASES = {
    "finding-accept": _finding_accept,
    "periodic-review": _periodic_review,
    "experiment-start": _experiment_start,
    "framework-change": _framework_change,
    "validation": _validation,
    "framework-review": _framework_review,
}


@pytest.fixture
def sso_signer(settings, provider):
    """sso_signer(case) -> a client signed in as the case's signer, an account that
    signs in through the provider as subject "risk"."""
    sso_settings(settings, provider)

    def make(case: Case) -> Client:
        SsoIdentity.objects.create(user=case.signer, issuer=provider.issuer, subject="risk")
        client = Client()
        client.force_login(case.signer)
        return client

    return make


def to_provider(client: Client, case: Case, provider) -> str:
    """Post the dialog: the answer sends the signer to the provider."""
    response = client.post(case.url, case.data)
    assert response.status_code == 302, response.content[:600]
    assert response["Location"].startswith(provider.issuer)
    return response["Location"]


def back_from_provider(client, case, provider, login="risk") -> str:
    url = sign_in_at(requests.Session(), to_provider(client, case, provider), login, APP)
    return local_path(url)


@pytest.mark.parametrize("kind", list(CASES))
def test_every_kind_signs_through_the_provider_and_records_it(kind, request, provider, sso_signer):
    case = CASES[kind](request)
    client = sso_signer(case)
    dialog = client.get(case.dialog or case.url)
    assert dialog.status_code == 200
    assert b'name="password"' not in dialog.content
    assert b'data-testid="sso-reauth"' in dialog.content
    assert f"form-action 'self' {provider.issuer}" in dialog["Content-Security-Policy"]
    location = to_provider(client, case, provider)
    query = parse_qs(urlsplit(location).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    back = local_path(sign_in_at(requests.Session(), location, "risk", APP))
    with mock.patch.object(tasks.use_cases_reclassify, "delay"):
        signed = client.get(back)
    assert signed.status_code == 302, signed.content[:600]
    assert case.records() == [BY_PROVIDER]
    event = AuditEvent.objects.get(action="signature.reauthenticated")
    assert event.actor_id == case.signer.pk
    assert event.changes["subject"] == [None, "risk"]
    assert event.changes["issuer"] == [None, provider.issuer]
    # The same answer again (a replayed state and code): refused, nothing more signed.
    replay = client.get(back)
    assert replay.status_code == 400 and b"already used" in replay.content
    assert case.records() == [BY_PROVIDER]


@pytest.mark.parametrize("kind", ["finding-accept", "periodic-review"])
def test_a_target_changed_before_the_callback_signs_nothing(kind, request, provider, sso_signer):
    case = CASES[kind](request)
    client = sso_signer(case)
    back = back_from_provider(client, case, provider)
    case.change()
    answer = client.get(back)
    assert answer.status_code in (400, 403), answer.content[:600]
    assert case.records() == []
    assert not AuditEvent.objects.filter(action="signature.reauthenticated").exists()


def test_a_stale_auth_time_is_refused_by_the_service(
    request, provider, sso_signer, monkeypatch, settings
):
    case = _finding_accept(request)
    client = sso_signer(case)
    back = back_from_provider(client, case, provider)
    later = stepup.now() + settings.OIDC_STEPUP_MAX_AGE_SECONDS + 5
    monkeypatch.setattr(stepup, "now", lambda: later)
    refused = client.get(back)
    assert refused.status_code == 403 and b"seconds old" in refused.content
    assert case.records() == []
    assert AuditEvent.objects.filter(action="signature.refused").exists()


def test_another_person_at_the_provider_signs_nothing(request, provider, sso_signer):
    case = _periodic_review(request)
    client = sso_signer(case)
    refused = client.get(back_from_provider(client, case, provider, login="lead"))
    assert refused.status_code == 403
    assert b"signed in &#x27;lead&#x27;, not you" in refused.content
    assert case.records() == []


def test_a_proof_signs_only_the_signature_it_was_made_for(
    request, provider, sso_signer, monkeypatch, governance_lead, risk_officer
):
    """A real proof of the provider, made for accepting one finding's risk, offered to
    the services for another finding, other fields and another kind of signature."""
    case = _finding_accept(request)
    client = sso_signer(case)
    back = back_from_provider(client, case, provider)
    proofs = []
    monkeypatch.setattr(
        stepup,
        "completer_for",
        lambda kind: lambda req, proof: proofs.append(proof) or HttpResponse(),
    )
    assert client.get(back).status_code == 200
    (proof,) = proofs
    found = Finding.objects.get()
    other, _ = finding_open(
        version=found.model_version, by=risk_officer, title="Thin file applicants", severity="high"
    )
    expires_on = timezone.localdate() + dt.timedelta(days=30)
    ModelVersion.objects.filter(pk=found.model_version_id).update(environment="prod")
    version = ModelVersion.objects.get(pk=found.model_version_id)
    attempts = [
        lambda: acceptance_svc.finding_accept(
            finding=other,
            by=governance_lead,
            reason=case.data["reason"],
            expires_on=expires_on,
            password=proof,
        ),
        lambda: acceptance_svc.finding_accept(
            finding=found,
            by=governance_lead,
            reason="Another reason.",
            expires_on=expires_on,
            password=proof,
        ),
        lambda: periodic_review_sign(
            version=version,
            by=governance_lead,
            password=proof,
            outcome="satisfactory",
            note="Fine.",
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="another signature"):
            attempt()
    assert not Signature.objects.exists()
    # The one it was made for.
    acceptance_svc.finding_accept(
        finding=found,
        by=governance_lead,
        reason=case.data["reason"],
        expires_on=expires_on,
        password=proof,
    )
    assert case.records() == [BY_PROVIDER]


def test_an_sso_signer_posting_a_password_is_refused_on_the_page_and_the_api(
    request, provider, sso_signer
):
    case = _finding_accept(request)
    client = sso_signer(with_password_case(case))
    page = client.post(case.url, {**case.data, "password": PASSWORD})
    assert page.status_code == 403 and b"not with a password" in page.content
    api = client.post(
        "/api/v1/finding-acceptances/",
        {**case.data, "finding": Finding.objects.get().pk, "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert "Sign on the page" in api.json()["detail"]
    # Without a password the API says the same: it cannot send anyone to the provider.
    api = client.post(
        "/api/v1/finding-acceptances/",
        {**case.data, "finding": Finding.objects.get().pk},
        content_type="application/json",
    )
    assert api.status_code == 403 and "Sign on the page" in api.json()["detail"]
    assert case.records() == []


def with_password_case(case: Case) -> Case:
    """The signer still has a usable local password: it signs nothing all the same."""
    with_password(case.signer)
    return case


def test_a_local_signer_still_signs_with_a_password(request, client_for):
    case = _periodic_review(request)
    with_password(case.signer)
    signed = client_for(case.signer).post(case.url, {**case.data, "password": PASSWORD})
    assert signed.status_code == 302
    assert case.records() == ["password re-entry"]
    assert not AuditEvent.objects.filter(action="signature.reauthenticated").exists()
