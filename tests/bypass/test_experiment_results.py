"""Issue 14, walked as the people who got round it: an experiment whose data-quality
step failed (a sample-ratio mismatch) showed a p-value and a decision, its owner signed
it (201) and it would have been filed as preproduction evidence; a losing challenger's
signed result was filed as evidence for it. Each route is tried through the API and
through the page, and each refusal is shown to write nothing."""

import pytest
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from audit.models import AuditEvent
from experiments import selectors as esel
from experiments import services as svc
from reviews.models import Finding, Signature
from reviews.selectors.promotion import request_state
from reviews.services import promotion as psvc
from tests.experiments.test_experiments_services import analysed, draft, fill_ab
from tests.reviews.signoff_world import PASSWORD, obligation

pytestmark = pytest.mark.django_db

BASE = "/api/v1/experiments/"


def session(user):
    client = APIClient()
    client.force_login(user)
    return client


def srm_result(use_case, champion, challenger, owner):
    """An analysed A/B test whose challenger looks better but half of whose challenger
    units never arrived: a sample-ratio mismatch."""
    experiment = draft(use_case, champion, challenger, owner)
    rows = fill_ab(experiment, p_champion=0.3, p_challenger=0.7)
    kept, dropped = [], 0
    for r in rows:
        if r["arm"] == "challenger" and dropped % 2 == 0:
            dropped += 1
            continue
        dropped += r["arm"] == "challenger"
        kept.append(r)
    svc.experiment_start(experiment=experiment, by=owner, password=PASSWORD)
    svc.outcomes_record(experiment=experiment, by=owner, rows=kept)
    svc.experiment_end(experiment=experiment, reason="the planned end date was reached")
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    return experiment


def writes(experiment):
    """What a refused act must leave unchanged (a refusal's own audit event and the
    failed-password count aside: those are how it is recorded)."""
    experiment.refresh_from_db()
    return (
        Signature.objects.filter(experiment=experiment).count(),
        AuditEvent.objects.filter(action__startswith="experiment.").count(),
        experiment.evidence_sha256,
        obligation(
            experiment.use_case, "preproduction-verification", experiment.challenger
        ).evidence_sha256,
        Finding.objects.count(),
    )


def test_an_invalid_result_shows_no_p_value_effect_or_decision(
    arms, client_for, api_client_for, data_scientist
):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    assert experiment.result["valid"] is False
    assert experiment.result["verdict"].startswith("Not valid: sample-ratio mismatch")
    page = client_for(data_scientist).get(
        reverse("experiments:experiment-detail", args=[experiment.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="not-valid"' in html and "sample-ratio mismatch" in html
    assert 'data-testid="test-result"' not in html and "<dt>p-value</dt>" not in html
    assert "Challenger better" not in html and "result-data" not in html
    assert "Sign the result" not in html
    assert 'data-testid="units"' in html and "{'champion'" not in html
    api = api_client_for(data_scientist).get(f"{BASE}{experiment.pk}/results/")
    assert api.status_code == 200
    assert api.data["valid"] is False and api.data["signable"] is False
    result = api.data["result"]
    assert result["verdict"].startswith("Not valid: sample-ratio mismatch")
    for withheld in ("test", "decision", "arms", "sequential"):
        assert withheld not in result
    hidden = experiment.result["test"]  # stored for a lead's override, never served
    assert str(hidden["p_value"]) not in str(api.data) and "reject H0" not in str(api.data)
    assert str(hidden["estimate"]) not in str(api.data)


def test_the_owner_cannot_sign_an_invalid_result_through_the_api(
    arms, api_client_for, data_scientist
):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    before = writes(experiment)
    url = f"{BASE}{experiment.pk}/sign-result/"
    response = session(data_scientist).post(url, {"password": PASSWORD}, format="json")
    assert response.status_code == 409
    assert "not valid" in response.data["detail"] and "sample-ratio" in response.data["detail"]
    assert writes(experiment) == before
    with pytest.raises(Exception, match="not valid"):
        svc.experiment_result_sign(experiment=experiment, by=data_scientist, password=PASSWORD)
    assert writes(experiment) == before


def test_the_owner_cannot_sign_an_invalid_result_through_the_page(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    before = writes(experiment)
    url = reverse("experiments:experiment-sign-result", args=[experiment.pk])
    client = client_for(data_scientist)
    shown = client.get(url)
    assert shown.status_code == 409 and "not valid" in shown.content.decode()
    response = client.post(url, {"password": PASSWORD, "reason": "Looks fine to me."})
    assert response.status_code == 409
    assert "sample-ratio mismatch" in response.content.decode()
    assert writes(experiment) == before


def test_the_owner_cannot_file_an_invalid_result_as_evidence(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    before = writes(experiment)
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-evidence", args=[experiment.pk])
    )
    assert response.status_code == 409
    assert "not valid" in response.content.decode()
    with pytest.raises(Exception, match="not valid"):
        svc.experiment_submit_evidence(experiment=experiment, by=data_scientist)
    assert writes(experiment) == before


def test_only_another_governance_lead_overrides_with_a_signed_justification(
    arms, client_for, api_client_for, data_scientist, governance_lead
):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    before = writes(experiment)
    page_url = reverse("experiments:experiment-override", args=[experiment.pk])
    api_url = f"{BASE}{experiment.pk}/override-result/"
    justification = (
        "The challenger's logging dropped half its events on one day; outcomes unaffected."
    )
    body = {"password": PASSWORD, "justification": justification}
    # The owner tries it: through the page and the API.
    assert client_for(data_scientist).post(page_url, body).status_code == 403
    assert session(data_scientist).post(api_url, body, format="json").status_code == 403
    # A lead with a token, without a justification, with a wrong password.
    assert api_client_for(governance_lead).post(api_url, body, format="json").status_code == 403
    lead = session(governance_lead)
    short = lead.post(api_url, {**body, "justification": "ok"}, format="json")
    assert short.status_code == 400 and "justification" in short.data
    wrong = client_for(governance_lead).post(page_url, {**body, "password": "nope"})
    assert wrong.status_code == 400
    assert writes(experiment) == before
    # The lead overrides through the page: signed, audited, shown on the result.
    assert client_for(governance_lead).get(page_url).status_code == 200
    done = client_for(governance_lead).post(page_url, body)
    assert done.status_code == 302
    override = esel.result_override(experiment)
    assert override.meaning == Signature.Meaning.RESULT_OVERRIDDEN
    assert override.signer == governance_lead and override.reason == justification
    assert override.manifest["problems"] == experiment.result["problems"]
    assert AuditEvent.objects.filter(action="experiment.result_overridden").count() == 1
    again = lead.post(api_url, body, format="json")
    assert again.status_code == 409
    html = (
        client_for(data_scientist)
        .get(reverse("experiments:experiment-detail", args=[experiment.pk]))
        .content.decode()
    )
    assert 'data-testid="override"' in html and escape(justification) in html
    assert 'data-testid="test-result"' in html
    results = session(data_scientist).get(f"{BASE}{experiment.pk}/results/").data
    assert results["valid"] is True and results["override"]["signer"] == governance_lead.username
    # Now the owner signs, and the better challenger's result is evidence.
    signed = session(data_scientist).post(
        f"{BASE}{experiment.pk}/sign-result/", {"password": PASSWORD}, format="json"
    )
    assert signed.status_code == 201 and signed.data["evidence_submitted"] is True


def test_the_owner_who_is_a_lead_cannot_override_their_own_result(
    arms, client_for, governance_lead
):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, governance_lead)
    before = writes(experiment)
    url = reverse("experiments:experiment-override", args=[experiment.pk])
    body = {"password": PASSWORD, "justification": "I ran it and I say the data are fine."}
    response = client_for(governance_lead).post(url, body)
    assert response.status_code == 403
    response = session(governance_lead).post(
        f"{BASE}{experiment.pk}/override-result/", body, format="json"
    )
    assert response.status_code == 403 and "owner" in str(response.data)
    assert writes(experiment) == before


def test_a_valid_result_is_not_overridden(arms, governance_lead, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment = analysed(experiment, data_scientist, fill_ab(experiment))
    response = session(governance_lead).post(
        f"{BASE}{experiment.pk}/override-result/",
        {"password": PASSWORD, "justification": "Nothing to see here, just checking."},
        format="json",
    )
    assert response.status_code == 409
    assert not esel.result_override(experiment)


def test_a_worse_challenger_cannot_be_promoted_on_its_result(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    rows = fill_ab(experiment, p_champion=0.7, p_challenger=0.3)
    experiment = analysed(experiment, data_scientist, rows)
    assert experiment.result["valid"] is True
    assert experiment.result["verdict"] == "Challenger worse"
    finding = Finding.objects.get(model_version=challenger, source=Finding.Source.EXPERIMENT)
    assert finding.status == "open" and "Challenger worse" in finding.title
    # The owner signs it (an honest record) through the API: not filed as evidence.
    signed = session(data_scientist).post(
        f"{BASE}{experiment.pk}/sign-result/", {"password": PASSWORD}, format="json"
    )
    assert signed.status_code == 201
    assert signed.data["evidence_submitted"] is False
    assert "does not say the challenger is better" in signed.data["evidence_error"]
    # Then tries to file it through the page.
    before = writes(experiment)
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-evidence", args=[experiment.pk])
    )
    assert response.status_code == 409
    assert "does not say the challenger is better" in response.content.decode()
    assert writes(experiment) == before
    assert not obligation(use_case, "preproduction-verification", challenger).evidence_sha256
    # A promotion of the challenger is blocked by the finding its result opened.
    request = psvc.request_create(version=challenger, by=data_scientist, justification="Try.")
    state = request_state(request)
    blocking = [str(b.item) for b in state.unwaived]
    assert any(str(finding.pk) in b or finding.title in b for b in blocking), blocking
    assert not state.approvable


def test_an_inconclusive_result_opens_a_finding_instead_of_evidence(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment = analysed(experiment, data_scientist, fill_ab(experiment, 0.3, 0.3))
    assert experiment.result["verdict"] == "No significant difference"
    assert Finding.objects.filter(model_version=challenger, status="open").count() == 1
    signed = svc.experiment_result_sign(experiment=experiment, by=data_scientist, password=PASSWORD)
    assert signed.evidence is None and "not evidence" in signed.evidence_error


def test_a_non_inferior_challenger_is_evidence_and_a_page_registers_the_margin(
    arms, client_for, data_scientist
):
    from tests.experiments.test_experiments_views import form_data

    use_case, champion, challenger = arms
    client = client_for(data_scientist)
    response = client.post(
        reverse("experiments:experiment-create", args=[use_case.pk]),
        form_data(
            champion,
            challenger,
            alternative="one-sided",
            non_inferiority_margin=0.05,
            minimum_effect=0.05,
            guardrails="",
        ),
    )
    assert response.status_code == 302
    experiment = challenger.experiments_as_challenger.get()
    assert experiment.protocol["non_inferiority_margin"] == 0.05
    experiment.salt = "ni-salt"
    experiment.save(update_fields=["salt"])
    experiment = analysed(experiment, data_scientist, fill_ab(experiment, 0.3, 0.3, seed=5))
    assert experiment.result["decision"] == "reject H0: challenger non-inferior"
    assert experiment.result["verdict"] == "Challenger non-inferior"
    signed = svc.experiment_result_sign(experiment=experiment, by=data_scientist, password=PASSWORD)
    assert signed.evidence is not None, signed.evidence_error
    assert not Finding.objects.filter(model_version=challenger).exists()


def test_the_admin_does_not_show_the_withheld_test_either(
    arms, client_for, data_scientist, governance_lead
):
    use_case, champion, challenger = arms
    experiment = srm_result(use_case, champion, challenger, data_scientist)
    page = client_for(governance_lead).get(
        reverse("admin:experiments_experiment_change", args=[experiment.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert experiment.name in html
    assert str(experiment.result["test"]["p_value"]) not in html
