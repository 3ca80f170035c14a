"""Issue 12: independent validation.

1. The validator role (a Django group, like the roles of 0003).
2. A RACI role "Validation" (a column): who may validate the use case's versions when
   the second line names anyone for it (only people holding the validator role). It is
   Consulted on model acceptance in the template; nothing makes it Accountable or
   Responsible, so no matrix becomes incomplete for want of a validator.
3. The policy's ``human-signoff`` measures and cells gain the machine-readable parameter
   ``independent_validation``, true at the strict level (which the default policy sets
   for the High and Critical tiers) and false below it. The cells of every policy
   version gain it in place, published ones included: the parameter did not exist
   before, and its value only names what each cell's level already decided (the strict
   sign-off of SR 11-7's effective challenge); no level or text changes. A governance
   lead sets it per cell from now on through the draft/publish flow (four eyes).
   Active sign-off obligations gain it too (an ObligationEvent records it), so the
   next recompute changes nothing.

Reversible: the backward step removes the parameter, the RACI role (with its template
cells) and the group (when nobody holds it).
"""

from django.db import migrations
from django.utils import timezone

NOTE = "Issue 12: independent validation (human-signoff.independent_validation)"
PARAM = "independent_validation"


def _value(level):
    return level == "strict"


def forward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    RaciRole = apps.get_model("governance", "RaciRole")
    RaciTask = apps.get_model("governance", "RaciTask")
    RaciTemplateCell = apps.get_model("governance", "RaciTemplateCell")
    Measure = apps.get_model("governance", "Measure")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    Obligation = apps.get_model("governance", "Obligation")
    ObligationEvent = apps.get_model("governance", "ObligationEvent")
    now = timezone.now()
    Group.objects.get_or_create(name="validator")
    role, _ = RaciRole.objects.update_or_create(
        code="validation", defaults={"name": "Validation", "level": "strategic", "order": 80}
    )
    acceptance = RaciTask.objects.filter(code="model-acceptance").first()
    if acceptance is not None:
        RaciTemplateCell.objects.get_or_create(
            task=acceptance, role=role, defaults={"letters": "C"}
        )
    for measure in Measure.objects.filter(consideration__code="human-signoff"):
        measure.parameters = {**measure.parameters, PARAM: _value(measure.level)}
        measure.save(update_fields=["parameters"])
    # Every version's sign-off cells, published ones included: the parameter did not
    # exist, and its value follows from the level each cell already decided (see above).
    for cell in PolicyCell.objects.filter(consideration__code="human-signoff"):
        if PARAM not in cell.parameters:
            cell.parameters = {**cell.parameters, PARAM: _value(cell.level)}
            cell.save(update_fields=["parameters"])
    for ob in Obligation.objects.filter(active=True, consideration__code="human-signoff"):
        added = {PARAM: _value(ob.level)}
        ob.parameters = {**ob.parameters, **added}
        ob.save(update_fields=["parameters"])
        ObligationEvent.objects.create(
            obligation=ob, kind="changed", at=now, detail={"added_parameters": added}, reason=NOTE
        )


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    RaciRole = apps.get_model("governance", "RaciRole")
    RaciTemplateCell = apps.get_model("governance", "RaciTemplateCell")
    Measure = apps.get_model("governance", "Measure")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    ObligationEvent = apps.get_model("governance", "ObligationEvent")
    for model in (Measure, PolicyCell):
        for row in model.objects.filter(consideration__code="human-signoff"):
            if PARAM in row.parameters:
                row.parameters = {k: v for k, v in row.parameters.items() if k != PARAM}
                row.save(update_fields=["parameters"])
    events = ObligationEvent.objects.filter(reason=NOTE)
    for event in events.select_related("obligation"):
        ob = event.obligation
        ob.parameters = {k: v for k, v in ob.parameters.items() if k != PARAM}
        ob.save(update_fields=["parameters"])
    events.delete()
    RaciTemplateCell.objects.filter(role__code="validation").delete()
    RaciRole.objects.filter(code="validation", assignments__isnull=True).delete()
    Group.objects.filter(name="validator", user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0021_change_confirmation"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forward, backward)]
