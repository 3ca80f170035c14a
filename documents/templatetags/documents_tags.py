"""The documents cards of a version's and a use case's pages (the reviews and
dashboard apps' templates load them: those pages' views do not know the documents app,
which sits above them)."""

from django import template
from django.urls import reverse

from documents.models import GeneratedDocument
from documents.selectors.documents import use_case_documents, version_documents
from documents.services.generation import can_generate_documents

register = template.Library()

SUBJECT_KINDS = GeneratedDocument.subject_kind_choices()


def _card(context, *, documents, request_url: str, all_url: str) -> dict:
    return {
        "documents": list(documents[:6]),
        "kinds": SUBJECT_KINDS,
        "request_url": request_url,
        "all_url": all_url,
        "can_generate": can_generate_documents(context["request"].user),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("documents/_documents_card.html", takes_context=True)
def version_documents_card(context, version):
    return _card(
        context,
        documents=version_documents(version),
        request_url=reverse("documents:document-request", args=[version.pk]),
        all_url=reverse("documents:version-documents", args=[version.pk]),
    )


@register.inclusion_tag("documents/_documents_card.html", takes_context=True)
def use_case_documents_card(context, use_case):
    return _card(
        context,
        documents=use_case_documents(use_case),
        request_url=reverse("documents:use-case-document-request", args=[use_case.pk]),
        all_url=reverse("documents:use-case-documents", args=[use_case.pk]),
    )
