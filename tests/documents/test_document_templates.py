"""Document templates are data (issue 15): governance leads choose and order a kind's
sections and edit their guidance in the admin; publishing is a four-eyes change like
the policy; new documents follow the published version and record it. Walked as the
lead who would like to publish alone, edit a published template, or slip a change in
after the proposal."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from documents import rendering
from documents.models import (
    DocumentTemplate,
    DocumentTemplateSection,
    DocumentTemplateVersion,
    GeneratedDocument,
)
from documents.services import generation
from documents.services.templates import template_draft_create, template_publish_propose
from governance.models import FrameworkChange
from governance.services.framework_changes import framework_change_approve
from tests.factories import PASSWORD, ModelVersionFactory
from tests.governance.four_eyes import other_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def word_only(monkeypatch):
    monkeypatch.setattr(rendering, "chromium", lambda: None)


@pytest.fixture
def lead_client(client_for, governance_lead):
    governance_lead.is_staff = True
    governance_lead.save()
    return client_for(governance_lead)


def _url(model, view, *args):
    return reverse(f"admin:documents_{model._meta.model_name}_{view}", args=args)


def _edit_model_card_draft(draft: DocumentTemplateVersion) -> None:
    """Metrics first, caveats left out, new guidance for the intended use."""
    sections = {s.key: s for s in draft.sections.all()}
    sections["metrics"].order = 1
    sections["metrics"].save()
    sections["caveats"].included = False
    sections["caveats"].save()
    sections["intended_use"].guidance = "State the decisions this model may inform, and none else."
    sections["intended_use"].title = "Intended use and limits"
    sections["intended_use"].save()
    draft.note = "Metrics first for the model risk committee."
    draft.save()


def test_a_published_template_shapes_new_documents_and_they_record_its_version(
    governance_lead, risk_officer, media
):
    version = ModelVersionFactory()
    before, _ = generation.document_content(version=version, kind="model_card")
    assert before["template"]["name"] == "built-in"

    template = DocumentTemplate.objects.get(kind="model_card")
    draft = template_draft_create(template=template, by=governance_lead)
    assert draft.number == 1 and draft.sections.count() == len(before["sections"])
    _edit_model_card_draft(draft)
    change = template_publish_propose(version=draft, by=governance_lead)

    # Proposed is not published: documents still follow the built-in sections.
    assert (
        generation.document_content(version=version, kind="model_card")[0]["template"]
        == (before["template"])
    )
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)

    document, _ = generation.document_request(user=risk_officer, version=version, kind="model_card")
    content = document.content
    keys = [s["key"] for s in content["sections"]]
    assert keys[0] == "metrics" and "caveats" not in keys
    intended = next(s for s in content["sections"] if s["key"] == "intended_use")
    assert intended["title"] == "Intended use and limits"
    assert intended["guidance"].startswith("State the decisions")
    assert document.template["name"] == template.name and document.template["version"] == 1
    assert document.content_sha256 != generation.content_hash(before)

    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.DONE
    from tests.documents.test_generated_documents import docx_text

    word = docx_text(document)
    assert "Intended use and limits" in word and "Caveats and recommendations" not in word
    assert f"{template.name} version 1" in word


def test_a_lead_cannot_publish_alone_nor_another_role_propose(governance_lead, risk_officer, media):
    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="annex_iv"), by=governance_lead
    )
    with pytest.raises(PermissionDenied):
        template_draft_create(
            template=DocumentTemplate.objects.get(kind="model_card"), by=risk_officer
        )
    with pytest.raises(PermissionDenied):
        template_publish_propose(version=draft, by=risk_officer, note="Mine")
    change = template_publish_propose(version=draft, by=governance_lead, note="Shorter")
    with pytest.raises(PermissionDenied, match="four eyes"):
        framework_change_approve(change=change, by=governance_lead, password=PASSWORD)
    draft.refresh_from_db()
    assert not draft.is_published


def test_a_draft_changed_after_its_proposal_is_not_published(governance_lead, media):
    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="validation_report"), by=governance_lead
    )
    change = template_publish_propose(version=draft, by=governance_lead, note="As agreed")
    section = draft.sections.get(key="conclusion")
    section.guidance = "Slipped in after the proposal."
    section.save()
    with pytest.raises(ValidationError, match="changed since it was proposed"):
        framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    draft.refresh_from_db()
    assert not draft.is_published
    assert FrameworkChange.objects.get(pk=change.pk).is_pending


def test_a_published_version_never_changes(governance_lead, media):
    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="model_card"), by=governance_lead
    )
    change = template_publish_propose(version=draft, by=governance_lead, note="v1")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    draft.refresh_from_db()
    section = draft.sections.first()
    section.title = "Changed after publication"
    with pytest.raises(ValidationError, match="published"):
        section.save()
    with pytest.raises(ValidationError, match="published"):
        section.delete()
    draft.note = "rewritten"
    with pytest.raises(ValidationError, match="published"):
        draft.save()
    # The next version starts as a copy of the published one.
    second = template_draft_create(template=draft.template, by=governance_lead)
    assert second.number == 2
    assert [s.title for s in second.sections.order_by("order")] == [
        s.title for s in draft.sections.order_by("order")
    ]


def test_a_draft_with_nothing_included_or_an_unknown_section_is_refused(governance_lead, media):
    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="model_card"), by=governance_lead
    )
    draft.sections.update(included=False)
    with pytest.raises(ValidationError, match="at least one included section"):
        template_publish_propose(version=draft, by=governance_lead, note="Empty")
    odd = DocumentTemplateSection(version=draft, key="horoscope", title="Horoscope")
    with pytest.raises(ValidationError):
        odd.full_clean()
    with pytest.raises(ValidationError, match="note"):
        template_publish_propose(version=draft, by=governance_lead, note="")


def test_in_the_admin_a_lead_drafts_edits_and_proposes_and_published_is_read_only(
    lead_client, governance_lead, media
):
    template = DocumentTemplate.objects.get(kind="annex_iv")
    for model in (DocumentTemplate, DocumentTemplateVersion, GeneratedDocument):
        assert lead_client.get(_url(model, "changelist")).status_code == 200, model
    response = lead_client.post(
        _url(DocumentTemplate, "changelist"),
        {"action": "start_draft", "_selected_action": [template.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft = DocumentTemplateVersion.objects.get(template=template, status="draft")
    assert lead_client.get(_url(DocumentTemplateVersion, "change", draft.pk)).status_code == 200

    # An unknown section key typed in the admin is a form error, nothing saved.
    sections = list(draft.sections.order_by("order"))
    form = {
        "note": "Post-market plan first.",
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(len(sections)),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
    }
    for i, s in enumerate(sections):
        form.update(
            {
                f"sections-{i}-id": str(s.pk),
                f"sections-{i}-version": str(draft.pk),
                f"sections-{i}-order": str(s.order),
                f"sections-{i}-key": s.key,
                f"sections-{i}-title": s.title,
                f"sections-{i}-guidance": s.guidance,
                f"sections-{i}-included": "on",
            }
        )
    bad = dict(form, **{"sections-0-key": "horoscope"})
    assert (
        lead_client.post(_url(DocumentTemplateVersion, "change", draft.pk), bad).status_code == 400
    )
    assert not draft.sections.filter(key="horoscope").exists()
    last = len(sections) - 1
    good = dict(form, **{f"sections-{last}-order": "1"})
    response = lead_client.post(_url(DocumentTemplateVersion, "change", draft.pk), good)
    assert response.status_code == 302
    assert draft.sections.order_by("order").first().key == sections[-1].key

    lead_client.post(
        _url(DocumentTemplateVersion, "changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    change = FrameworkChange.objects.get(kind="document_template_publish")
    assert change.content["sections"][0]["key"] == sections[-1].key
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)

    refused = lead_client.post(
        _url(DocumentTemplateVersion, "change", draft.pk), dict(good, note="Rewritten")
    )
    assert refused.status_code == 403
    draft.refresh_from_db()
    assert draft.is_published and draft.note == "Post-market plan first."


def test_non_leads_are_kept_out_of_the_templates(client_for, risk_officer):
    response = client_for(risk_officer).get(_url(DocumentTemplate, "changelist"))
    assert response.status_code == 302


def test_the_template_name_printed_on_documents_is_not_edited_in_the_admin(lead_client, media):
    template = DocumentTemplate.objects.get(kind="model_card")
    before = template.name
    lead_client.post(_url(DocumentTemplate, "change", template.pk), {"name": "Renamed alone"})
    template.refresh_from_db()
    assert template.name == before


def test_a_published_template_is_frozen_in_the_database_too(governance_lead, media):
    """Raw SQL with the application's credentials cannot rewrite a published template
    (the database's own triggers, not only the models); the draft stays editable."""
    from django.db import DatabaseError, connection, transaction

    def raw(sql: str, pk: int) -> str | None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])
        except DatabaseError as exc:
            return str(exc)
        return None

    draft = template_draft_create(
        template=DocumentTemplate.objects.get(kind="annex_iv"), by=governance_lead
    )
    assert (
        raw(
            "UPDATE documents_documenttemplatesection SET title = 't' WHERE version_id = %s",
            draft.pk,
        )
        is None
    )
    change = template_publish_propose(version=draft, by=governance_lead, note="v1")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    for statement in (
        "UPDATE documents_documenttemplatesection SET title = 'x' WHERE version_id = %s",
        "UPDATE documents_documenttemplateversion SET status = 'draft' WHERE id = %s",
        "DELETE FROM documents_documenttemplatesection WHERE version_id = %s",
    ):
        refused = raw(statement, draft.pk)
        assert refused and "frozen" in refused, statement
    assert not DocumentTemplateSection.objects.filter(version=draft, title="x").exists()
