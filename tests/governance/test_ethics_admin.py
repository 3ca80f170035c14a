"""Step 2 in the admin site: questionnaire versions are drafted and published through
the services; published versions, answer sets and approvals are read-only."""

import pytest
from django.urls import reverse

from governance.models import (
    EthicsAnswerSet,
    EthicsApproval,
    EthicsQuestion,
    EthicsTemplate,
    EthicsTemplateVersion,
    FrameworkChange,
)
from governance.selectors import ethics_version_current
from governance.services import ethics_position_answer
from governance.services.framework_changes import framework_change_approve
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead
from tests.governance.test_ethics_services import position_answers

pytestmark = pytest.mark.django_db

MODELS = [
    EthicsTemplate,
    EthicsTemplateVersion,
    EthicsQuestion,
    EthicsAnswerSet,
    EthicsApproval,
]


@pytest.fixture
def lead_client(client, governance_lead):
    client.force_login(governance_lead)
    return client


def _url(model, view, *args):
    return reverse(f"admin:governance_{model._meta.model_name}_{view}", args=args)


def test_every_ethics_admin_page_opens(lead_client, governance_lead):
    ethics_position_answer(answers=position_answers(), by=governance_lead)
    for model in MODELS:
        assert lead_client.get(_url(model, "changelist")).status_code == 200, model
    answer_set = EthicsAnswerSet.objects.get()
    assert lead_client.get(_url(EthicsAnswerSet, "change", answer_set.pk)).status_code == 200


def test_published_versions_and_answers_are_read_only(lead_client, governance_lead):
    version = ethics_version_current(scope="organisation")
    question = version.questions.get(code="aspects")
    response = lead_client.post(
        _url(EthicsQuestion, "change", question.pk), {"text": "Changed", "code": "aspects"}
    )
    assert response.status_code == 403
    question.refresh_from_db()
    assert question.text != "Changed"
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    assert lead_client.post(_url(EthicsAnswerSet, "delete", answer_set.pk)).status_code == 403


def test_draft_and_publish_actions(lead_client):
    template = EthicsTemplate.objects.get(scope="use_case")
    response = lead_client.post(
        _url(EthicsTemplate, "changelist"),
        {"action": "start_draft", "_selected_action": [template.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft = EthicsTemplateVersion.objects.get(template=template, status="draft")
    assert draft.questions.count() == ethics_version_current(scope="use_case").questions.count()
    assert lead_client.get(_url(EthicsTemplateVersion, "change", draft.pk)).status_code == 200
    # Publishing is a four-eyes proposal (issue 12): the draft's note is its reason,
    # and it is published when another lead signs.
    EthicsTemplateVersion.objects.filter(pk=draft.pk).update(note="Reworded questions.")
    lead_client.post(
        _url(EthicsTemplateVersion, "changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert ethics_version_current(scope="use_case") != draft
    change = FrameworkChange.objects.get(kind="ethics_publish")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    assert ethics_version_current(scope="use_case") == draft


def test_non_leads_are_kept_out(client_for, data_scientist):
    response = client_for(data_scientist).get(_url(EthicsTemplate, "changelist"))
    assert response.status_code == 302
