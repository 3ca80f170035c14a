"""The product's training modules (content as data: ``engagement/content/``), required
from the day this runs; governance leads edit them in the admin site afterwards."""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

CONTENT = Path(__file__).resolve().parent.parent / "content" / "training_modules.json"


def load(apps, schema_editor):
    TrainingModule = apps.get_model("engagement", "TrainingModule")
    today = timezone.localdate()
    for module in json.loads(CONTENT.read_text(encoding="utf-8")):
        TrainingModule.objects.get_or_create(
            code=module["code"],
            defaults={
                "title": module["title"],
                "summary": module.get("summary", ""),
                "roles": module["roles"],
                "validity_days": module["validity_days"],
                "sections": module["sections"],
                "questions": module["questions"],
                "order": module.get("order", 0),
                "required_from": today,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
