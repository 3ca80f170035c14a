"""Default content of Step 1 (DOMAIN.md): the regulations catalogue, the
classification questionnaire and the rules that turn answers into a criticality
level and a risk tier. Governance leads edit all of it in the admin site."""

from django.db import migrations

REGULATIONS = [
    ("sr-11-7", "SR 11-7 model risk management", "finance", "United States",
     "Federal Reserve / OCC supervisory guidance on model risk management: model "
     "inventory, development standards, independent validation, effective challenge."),
    ("pra-ss1-23", "PRA SS1/23 model risk management principles", "finance", "United Kingdom",
     "Model definition and inventory; risk governance framework; life-cycle management; "
     "effective challenge (independent validation and review)."),
    ("gxp", "GxP (FDA good practice)", "pharma", "United States",
     "Traceability, accountability and data integrity under the ALCOA principle "
     "(attributable, legible, contemporaneous, original, accurate)."),
    ("gdpr", "GDPR", "privacy", "European Union",
     "Data-subject rights: be informed, access, correct, be forgotten, restrict processing, "
     "portability, object to automated decision-making."),
    ("ccpa", "CCPA", "privacy", "California, United States",
     "Consumer privacy rights similar to GDPR, with narrower scope and penalties."),
    ("eu-ai-act", "EU AI Act (high-risk system)", "ai", "European Union",
     "High-risk AI systems (e.g. employment, credit, essential services): risk management, "
     "data governance, documentation, human oversight, accuracy and robustness."),
    ("eu-trustworthy-ai", "EU requirements for trustworthy AI", "ai", "European Union",
     "Human agency and oversight; technical robustness and safety; privacy and data "
     "governance; transparency; diversity, non-discrimination and fairness; societal and "
     "environmental well-being; accountability."),
]

# code, text, help, kind, source, dimension, options
QUESTIONS = [
    ("regulations", "Which regulations apply?",
     "Read from the use case: sector rules (model risk management, GxP) and regional ones "
     "(GDPR, CCPA, the EU AI Act's high-risk sectors).",
     "multi", "use_case.regulations", "regulation", []),
    ("uses_pii", "Does it use personal data (PII)?",
     "Read from the use case: true when any input identifies or could identify a person.",
     "boolean", "use_case.uses_pii", "regulation", []),
    ("audience", "Who consumes the results?",
     "The widest audience that sees or is affected by the model's outputs.",
     "single", "answer", "audience", [
         ("public", "The public"),
         ("customers", "Customers"),
         ("internal_many", "Many internal users"),
         ("internal_team", "One internal team"),
     ]),
    ("availability", "How must it be available?",
     "How the model is run in practice.",
     "single", "answer", "availability", [
         ("realtime", "24/7 real-time scoring"),
         ("scheduled_monitored", "Scheduled batch that needs specific monitoring"),
         ("scheduled", "Scheduled batch, may be down briefly"),
         ("adhoc", "Ad-hoc, self-service runs"),
     ]),
    ("error_impact", "What would an error affect?",
     "Tick every kind of harm a wrong output could cause. Leave all empty if only minor "
     "inconvenience.",
     "multi", "answer", "impact", [
         ("legal", "Legal or regulatory standing"),
         ("financial", "Significant financial loss"),
         ("personal", "People's lives (decisions about individuals)"),
         ("public_trust", "Public trust and reputation"),
     ]),
    ("release_cadence", "How often will new versions be released?",
     "Release cadence and urgency of fixes.",
     "single", "answer", "change", [
         ("rarely", "Rarely (yearly or less)"),
         ("quarterly", "Quarterly"),
         ("monthly", "Monthly"),
         ("weekly", "Weekly or faster, or urgent fixes expected"),
     ]),
    ("model_lifetime", "How long will the model be in use?",
     "", "single", "answer", "lifetime", [
         ("one_off", "A one-off analysis"),
         ("months", "Months"),
         ("years", "One to three years"),
         ("long", "More than three years"),
     ]),
    ("impact_lifetime", "How long do the effects of its decisions last?",
     "A small self-service project whose decisions last for years can still be high risk.",
     "single", "answer", "lifetime", [
         ("immediate", "Immediate and easily reversed"),
         ("months", "Months"),
         ("years", "Years"),
         ("permanent", "Permanent or irreversible"),
     ]),
    ("decay_rate", "How fast is model quality likely to decay?",
     "How quickly the data the model sees is expected to drift away from its training data.",
     "single", "answer", "change", [
         ("slow", "Slowly (stable phenomenon)"),
         ("moderate", "Moderately"),
         ("fast", "Fast (behaviour, markets or fraud patterns change often)"),
     ]),
    ("explainability", "How much explainability and transparency is needed?",
     "", "single", "answer", "transparency", [
         ("none", "Not needed: outputs are not acted on about individuals"),
         ("helpful", "Desirable for users"),
         ("required", "Required: decisions must be explained to those affected or a regulator"),
     ]),
]

# name, explanation, min_criticality, min_tier, [(question, operator, values)]
RULES = [
    ("Real-time 24/7 scoring", "Operational scoring that cannot suffer outages needs a fully "
     "controlled CI/CD deployment.", 4, None, [("availability", "equals", ["realtime"])]),
    ("Monitored scheduled batch", "Scheduled runs that need specific monitoring need a light "
     "deployment process with QA.", 3, None,
     [("availability", "equals", ["scheduled_monitored"])]),
    ("Scheduled batch", "Scheduled runs need self-service development and scheduling.", 2, None,
     [("availability", "equals", ["scheduled"])]),
    ("Fast quality decay", "A model that decays fast needs specific monitoring and regular "
     "retraining.", 3, 2, [("decay_rate", "equals", ["fast"])]),
    ("Frequent releases", "Weekly releases or urgent fixes need a repeatable deployment "
     "process.", 3, None, [("release_cadence", "equals", ["weekly"])]),
    ("Model risk management regulation", "Models under SR 11-7 or PRA SS1/23 need inventory, "
     "independent validation and effective challenge.", None, 3,
     [("regulations", "includes_any", ["sr-11-7", "pra-ss1-23"])]),
    ("GxP regulated", "GxP requires full traceability, accountability and data integrity "
     "(ALCOA).", None, 3, [("regulations", "includes_any", ["gxp"])]),
    ("EU AI Act high-risk system", "A high-risk system under the EU AI Act needs the strictest "
     "governance: risk management, human oversight, documentation.", None, 4,
     [("regulations", "includes_any", ["eu-ai-act"])]),
    ("Data-privacy regulation", "GDPR or CCPA data-subject rights apply.", None, 2,
     [("regulations", "includes_any", ["gdpr", "ccpa"])]),
    ("Personal data", "Personal data needs privacy and data-governance controls.", None, 2,
     [("uses_pii", "is_true", [])]),
    ("Public audience", "Outputs seen by or acting on the public.", None, 3,
     [("audience", "equals", ["public"])]),
    ("Customer-facing", "Outputs seen by or acting on customers.", None, 2,
     [("audience", "equals", ["customers"])]),
    ("Legal impact of errors", "An error could break the law or a regulatory duty.", None, 3,
     [("error_impact", "includes_any", ["legal"])]),
    ("Decisions about people", "An error could harm individuals' lives.", None, 3,
     [("error_impact", "includes_any", ["personal"])]),
    ("Financial or reputational impact", "An error could cost money or public trust.", None, 2,
     [("error_impact", "includes_any", ["financial", "public_trust"])]),
    ("Public-facing decisions about people", "Decisions about members of the public or "
     "customers that affect their lives need the strictest governance.", None, 4,
     [("audience", "any_of", ["public", "customers"]),
      ("error_impact", "includes_any", ["personal"])]),
    ("Personal data used in decisions about people", "Personal data feeding decisions about "
     "individuals raises privacy and fairness risk.", None, 3,
     [("uses_pii", "is_true", []), ("error_impact", "includes_any", ["personal"])]),
    ("Long-lasting effects", "Decisions whose effects last years are high risk even for a "
     "small internal audience.", None, 3,
     [("impact_lifetime", "any_of", ["years", "permanent"])]),
    ("Irreversible decisions about people", "Irreversible effects on individuals need the "
     "strictest governance.", None, 4,
     [("impact_lifetime", "equals", ["permanent"]),
      ("error_impact", "includes_any", ["personal"])]),
    ("Long-lived model", "A model in use for years needs periodic review and re-validation.",
     None, 2, [("model_lifetime", "equals", ["long"])]),
    ("Explanations required", "Decisions must be explainable to those affected or to a "
     "regulator.", None, 2, [("explainability", "equals", ["required"])]),
]


def load(apps, schema_editor):
    Regulation = apps.get_model("governance", "Regulation")
    Question = apps.get_model("governance", "RiskQuestion")
    Option = apps.get_model("governance", "RiskQuestionOption")
    Rule = apps.get_model("governance", "RiskRule")
    Condition = apps.get_model("governance", "RiskRuleCondition")
    for code, name, area, jurisdiction, description in REGULATIONS:
        Regulation.objects.update_or_create(
            code=code,
            defaults={"name": name, "area": area, "jurisdiction": jurisdiction,
                      "description": description},
        )
    questions = {}
    for order, (code, text, help_text, kind, source, dimension, options) in enumerate(QUESTIONS):
        question, _ = Question.objects.update_or_create(
            code=code,
            defaults={"text": text, "help_text": help_text, "kind": kind, "source": source,
                      "dimension": dimension, "order": (order + 1) * 10, "required": True},
        )
        questions[code] = question
        for opt_order, (opt_code, label) in enumerate(options):
            Option.objects.update_or_create(
                question=question, code=opt_code,
                defaults={"label": label, "order": (opt_order + 1) * 10},
            )
    if Rule.objects.exists():
        return
    for order, (name, explanation, min_crit, min_tier, conditions) in enumerate(RULES):
        rule = Rule.objects.create(
            name=name, explanation=explanation, min_criticality=min_crit, min_tier=min_tier,
            order=(order + 1) * 10, active=True,
        )
        for question, operator, values in conditions:
            Condition.objects.create(
                rule=rule, question=questions[question], operator=operator, values=values
            )


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_roles")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
