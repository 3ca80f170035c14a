"""Experiment pages through the client: the draft form with errors per field, the
signing dialog that starts and locks, no peeking before the end, uploads all or
nothing, the result and its card on the challenger's sign-off page."""

import hashlib

import pytest
from django.urls import reverse

from core import experiment_stats as st
from experiments import services as svc
from experiments.models import Experiment, ExperimentOutcome
from reviews.services import promotion as psvc
from tests.experiments.test_experiments_services import ab_rows, analysed, draft, fill_ab, start
from tests.reviews.signoff_world import PASSWORD

pytestmark = pytest.mark.django_db


def form_data(champion, challenger, **overrides):
    data = {
        "name": "Ranking v2 click-through",
        "champion": champion.pk,
        "challenger": challenger.pk,
        "design": "ab",
        "primary_metric": "click-through",
        "metric_kind": "proportion",
        "population": "Signed-in customers",
        "splitting": "hash",
        "entity_key_name": "customer_id",
        "champion_share": 50,
        "challenger_share": 50,
        "alpha": 0.05,
        "power": 0.8,
        "minimum_effect": 0.2,
        "alternative": "two-sided",
        "higher_is_better": "true",
        "baseline_proportion": 0.3,
        "daily_traffic": 40,
        "interim_looks": "",
        "spending": "obrien-fleming",
        "guardrails": "complaints; proportion; 0.01; lower",
    }
    data.update(overrides)
    return data


def test_a_draft_is_registered_through_the_form(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    client = client_for(data_scientist)
    url = reverse("experiments:experiment-create", args=[use_case.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(champion, challenger))
    experiment = Experiment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("experiments:experiment-detail", args=[experiment.pk])
    assert experiment.protocol["guardrails"][0]["name"] == "complaints"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f"{experiment.sample_size['maximum']['champion']:,}" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"alpha": 1.5}, "alpha", "strictly between 0 and 1"),
        ({"power": 1}, "power", "strictly between 0 and 1"),
        ({"minimum_effect": 0}, "minimum_effect", "positive difference"),
        ({"challenger_share": 40}, "champion_share", "not 100%"),
        ({"interim_looks": "0.5, x"}, "interim_looks", "not a number"),
        ({"guardrails": "complaints; proportion"}, "guardrails", "Line 1"),
    ],
)
def test_bad_protocols_show_errors_per_field_and_save_nothing(
    arms, client_for, data_scientist, overrides, field, message
):
    use_case, champion, challenger = arms
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-create", args=[use_case.pk]),
        form_data(champion, challenger, **overrides),
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Experiment.objects.exists()


def test_the_same_version_in_both_arms_is_refused(arms, client_for, data_scientist):
    use_case, champion, _ = arms
    response = client_for(data_scientist).post(
        reverse("experiments:experiment-create", args=[use_case.pk]), form_data(champion, champion)
    )
    assert response.status_code == 400
    assert "must be different" in response.context["form"].errors["challenger"][0]
    assert not Experiment.objects.exists()


def test_readers_read_but_only_the_team_registers(arms, client_for, risk_officer, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    client = client_for(risk_officer)
    assert (
        client.get(reverse("experiments:experiment-detail", args=[experiment.pk])).status_code
        == 200
    )
    assert client.get(reverse("experiments:experiment-list")).status_code == 200
    url = reverse("experiments:experiment-create", args=[use_case.pk])
    assert client.post(url, form_data(champion, challenger)).status_code == 403
    assert Experiment.objects.count() == 1


def test_starting_signs_with_the_password_and_locks_the_form(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    client = client_for(data_scientist)
    url = reverse("experiments:experiment-start", args=[experiment.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="document-hash"' in page.content.decode()
    wrong = client.post(url, {"password": "nope"})
    assert wrong.status_code == 400
    assert "not correct" in wrong.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    assert client.post(url, {"password": PASSWORD, "reason": "Go"}).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "running"
    edit = reverse("experiments:experiment-edit", args=[experiment.pk])
    response = client.post(edit, form_data(champion, challenger, minimum_effect=0.5))
    assert response.status_code == 409 and b"signed and locked" in response.content
    experiment.refresh_from_db()
    assert experiment.protocol["minimum_effect"] == 0.2


def test_no_peeking_before_the_end(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    svc.outcomes_record(
        experiment=experiment, by=data_scientist, rows=ab_rows(experiment, 60, 0.1, 0.9)
    )
    page = client_for(data_scientist).get(
        reverse("experiments:experiment-detail", args=[experiment.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="no-peeking"' in html
    assert 'data-testid="test-result"' not in html and "result-data" not in html
    assert page.context["result"] is None
    assert "accrual-data" in html  # the accrual chart's figure


def test_an_upload_with_one_bad_line_stores_nothing(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    rows = ab_rows(experiment, 5, 0.3, 0.5)
    body = "entity_key,arm,outcome\n" + "".join(
        f"{r['entity_key']},{r['arm']},{r['outcome']}\n" for r in rows
    )
    client = client_for(data_scientist)
    url = reverse("experiments:experiment-upload", args=[experiment.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    experiment.refresh_from_db()
    arm = st.assign_arm(experiment.salt, "c999", experiment.protocol["split"])
    bad = SimpleUploadedFile("o.csv", (body + f"c999,{arm},maybe\n").encode(), "text/csv")
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "Line 7" in response.content.decode() and "not a number" in response.content.decode()
    assert not ExperimentOutcome.objects.exists()
    good = SimpleUploadedFile("o.csv", body.encode(), "text/csv")
    assert client.post(url, {"file": good}).status_code == 302
    assert ExperimentOutcome.objects.count() == 5


def test_after_the_end_the_result_is_shown_signed_and_on_the_request_page(
    arms, client_for, data_scientist
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment = analysed(experiment, data_scientist, fill_ab(experiment))
    client = client_for(data_scientist)
    page = client.get(reverse("experiments:experiment-detail", args=[experiment.pk]))
    html = page.content.decode()
    assert 'data-testid="test-result"' in html and "result-data" in html
    assert "Challenger better" in html
    sign = reverse("experiments:experiment-sign-result", args=[experiment.pk])
    assert client.post(sign, {"password": PASSWORD}).status_code == 302
    experiment.refresh_from_db()
    assert experiment.evidence_sha256
    req = psvc.request_create(version=challenger, by=data_scientist, justification="Won.")
    page = client.get(reverse("reviews:request-detail", args=[req.pk])).content.decode()
    assert 'id="experiments-card"' in page and "Challenger better" in page
    assert experiment.evidence_sha256[:12] in page  # the evidence hash the manifest binds
    version_page = client.get(reverse("reviews:version", args=[challenger.pk])).content.decode()
    assert f"#{experiment.pk} {experiment.name}" in version_page
    # The signed result is downloadable from the experiment and the request (issue 12).
    file_url = reverse(
        "governance:obligation-evidence-file",
        args=[use_case.pk, experiment.evidence_obligation_id],
    )
    assert file_url in page
    detail = client.get(reverse("experiments:experiment-detail", args=[experiment.pk]))
    assert file_url in detail.content.decode()
    download = client.get(file_url)
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == experiment.evidence_sha256


def test_abandon_from_the_page_needs_a_reason(arms, client_for, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    client = client_for(data_scientist)
    url = reverse("experiments:experiment-abandon", args=[experiment.pk])
    client.post(url, {"reason": ""})
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    client.post(url, {"reason": "Wrong population"})
    experiment.refresh_from_db()
    assert experiment.status == "abandoned"
