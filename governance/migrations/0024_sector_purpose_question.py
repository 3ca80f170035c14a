"""Issue 12, item 4: the regulations implied by a use case's sector and purpose.

Step 1 asks (DOMAIN.md) which regulations apply "sector: finance/MRM, pharma/GxP; region:
GDPR, CCPA, EU AI Act high-risk sector". The regulations themselves are the developer's
declaration; this question asks what the model is for, and the classification adds the
regulations its answer implies when the declaration omits them
(``core.classification_facts.SECTOR_REGULATIONS``): a bank's credit, risk or capital
model -> SR 11-7 and PRA SS1/23 (a stress-test model also SS3/18); pharmaceutical or
clinical records -> GxP and FDA 21 CFR Part 11; decisions about individuals made by the
model alone -> GDPR Art. 22. Required, like the EU AI Act screen (an empty list is the
answer "none of these").

An update_or_create keyed by code, so it can run again. Reversing it removes the
question and its options (answers stored in classifications keep the key).
"""

from django.db import migrations

CODE = "sector_purpose"
TEXT = "Sector and purpose: is it any of these?"
HELP = (
    "Tick every one that applies; leave all empty if none. Each implies regulations that "
    "are added to the use case when it does not declare them (the classification says "
    "which and why)."
)
OPTIONS = [
    ("bank_credit", "Banking: credit decisions, credit risk or capital models"),
    ("bank_stress_test", "Banking: stress-testing models"),
    (
        "pharma_clinical",
        "Pharmaceutical or clinical: trials, manufacturing, batch release (GxP records)",
    ),
    (
        "automated_individual_decisions",
        "Decisions about individuals made by the model alone, no person reviewing each "
        "(legal or similarly significant effects)",
    ),
]


def forward(apps, schema_editor):
    Question = apps.get_model("governance", "RiskQuestion")
    Option = apps.get_model("governance", "RiskQuestionOption")
    after = Question.objects.filter(code="eu_ai_act_annex_iii").values_list("order", flat=True)
    order = (after.first() or 22) + 1
    question, _ = Question.objects.update_or_create(
        code=CODE,
        defaults={
            "text": TEXT,
            "help_text": HELP,
            "kind": "multi",
            "source": "answer",
            "dimension": "regulation",
            "required": True,
            "order": order,
        },
    )
    for index, (code, label) in enumerate(OPTIONS):
        Option.objects.update_or_create(
            question=question, code=code, defaults={"label": label, "order": (index + 1) * 10}
        )


def backward(apps, schema_editor):
    Question = apps.get_model("governance", "RiskQuestion")
    Option = apps.get_model("governance", "RiskQuestionOption")
    Option.objects.filter(question__code=CODE).delete()
    Question.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0023_policy_v3_independent_validation")]

    operations = [migrations.RunPython(forward, backward)]
