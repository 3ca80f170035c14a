"""The documents card of a version's page (the reviews app's template loads it: the
page's view does not know the documents app, which sits above it)."""

from django import template

from documents.models import GeneratedDocument
from documents.selectors.documents import version_documents
from documents.services.generation import can_generate_documents

register = template.Library()


@register.inclusion_tag("documents/_version_documents_card.html", takes_context=True)
def version_documents_card(context, version):
    return {
        "version": version,
        "documents": list(version_documents(version)[:6]),
        "kinds": GeneratedDocument.Kind.choices,
        "can_generate": can_generate_documents(context["request"].user),
        "csrf_token": context.get("csrf_token"),
    }
