"""One template per kind of document, without versions: until a governance lead
publishes one, documents follow the built-in sections (``core.documents.sections``)."""

from django.db import migrations

TEMPLATES = {
    "annex_iv": "Technical documentation (EU AI Act, Annex IV)",
    "validation_report": "Model validation report",
    "model_card": "Model card",
    "portfolio_report": "Portfolio model-risk report",
}


def seed(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    for kind, name in TEMPLATES.items():
        DocumentTemplate.objects.get_or_create(kind=kind, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("documents", "0003_signatures_and_templates")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
