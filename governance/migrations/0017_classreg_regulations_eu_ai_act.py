"""Regulations under their own names (issue 12, item 12) and the EU AI Act screen of
Step 1 (issue 12, item 4).

- The four PRA principles the book names are the 2018 principles for stress-test
  models, SS3/18: they move to their own regulation (``pra-ss3-18``). ``pra-ss1-23``
  now carries the PRA's current statement for banks, SS1/23 (in force since May 2024),
  with its five principles. Use cases that named "PRA SS1/23" keep that link: the
  current statement is what a bank declaring it needs.
- New: FDA 21 CFR Part 11, GDPR Art. 22, and the EU AI Act's high-risk requirements
  article by article (Art. 9-15), each requirement mapped to the considerations whose
  obligations satisfy it.
- Step 1 asks the EU AI Act screen: Article 5 prohibited practices (a "yes" blocks the
  classification) and Annex III high-risk areas (a "yes" adds the EU AI Act).

Every step is an update_or_create keyed by code, so it can run again. Reversing it
changes no rows: the mislabelled content is corrected, not restored.
"""

from django.db import migrations

REGULATIONS = [
    ("pra-ss1-23", "PRA SS1/23 model risk management principles for banks", "finance",
     "United Kingdom",
     "The PRA's supervisory statement SS1/23 (in force since May 2024), five principles: "
     "model identification and model risk classification; governance; model development, "
     "implementation and use; independent model validation; model risk mitigants."),
    ("pra-ss3-18", "PRA SS3/18 model risk management principles for stress testing",
     "finance", "United Kingdom",
     "The PRA's 2018 principles for stress-test models (SS3/18), four principles: model "
     "definition and inventory; risk governance framework; life-cycle management; "
     "effective challenge (independent validation and review)."),
    ("fda-21-cfr-part-11", "FDA 21 CFR Part 11 (electronic records and signatures)",
     "pharma", "United States",
     "Electronic records and signatures trusted as paper: validated systems, secure "
     "computer-generated audit trails, signatures linked to their records with their "
     "meaning, records retained and reproducible."),
    ("gdpr-art-22", "GDPR Art. 22 (automated individual decision-making)", "privacy",
     "European Union",
     "A data subject may not be subject to a decision based solely on automated "
     "processing that significantly affects them, unless safeguards apply: human "
     "intervention, the right to express their view and to contest the decision, and "
     "meaningful information about the logic involved."),
    ("eu-ai-act", "EU AI Act high-risk requirements (Art. 9-15)", "ai", "European Union",
     "Requirements for high-risk AI systems (Annex III areas such as employment, credit "
     "scoring, essential services): risk management (Art. 9), data governance (10), "
     "technical documentation (11), record-keeping (12), transparency (13), human "
     "oversight (14), accuracy, robustness and cybersecurity (15)."),
]

# regulation -> [(requirement code, text, {consideration: minimum level})]
REQUIREMENTS = {
    "pra-ss3-18": [
        ("pra-ss3-18-definition-inventory", "Principle 1: model definition and inventory",
         {"audit-documentation": "medium"}),
        ("pra-ss3-18-governance", "Principle 2: risk governance framework",
         {"human-signoff": "medium", "audit-documentation": "medium"}),
        ("pra-ss3-18-lifecycle", "Principle 3: model life-cycle management (development, "
         "implementation and use)",
         {"reproducibility": "medium", "production-monitoring": "medium"}),
        ("pra-ss3-18-effective-challenge",
         "Principle 4: effective challenge (independent validation and review)",
         {"preproduction-verification": "medium", "human-signoff": "medium"}),
    ],
    "pra-ss1-23": [
        ("pra-ss1-23-identification-classification",
         "Principle 1: model identification and model risk classification",
         {"audit-documentation": "medium"}),
        ("pra-ss1-23-governance", "Principle 2: governance (board oversight, SMF "
         "accountability, model risk policies)",
         {"human-signoff": "medium", "audit-documentation": "medium"}),
        ("pra-ss1-23-development-use",
         "Principle 3: model development, implementation and use",
         {"reproducibility": "medium", "preproduction-verification": "medium",
          "data-quality-compliance": "medium"}),
        ("pra-ss1-23-independent-validation", "Principle 4: independent model validation",
         {"preproduction-verification": "medium", "human-signoff": "medium"}),
        ("pra-ss1-23-risk-mitigants", "Principle 5: model risk mitigants (post-model "
         "adjustments, restrictions on use, heightened monitoring)",
         {"production-monitoring": "medium", "transparency": "medium"}),
    ],
    "fda-21-cfr-part-11": [
        ("part-11-validation", "11.10(a): validation of systems for accuracy and reliability",
         {"preproduction-verification": "medium"}),
        ("part-11-audit-trail", "11.10(e): secure, computer-generated, time-stamped audit "
         "trails", {"audit-documentation": "strict"}),
        ("part-11-records", "11.10(b-c): accurate, complete copies and protection of records "
         "throughout retention", {"reproducibility": "strict"}),
        ("part-11-signatures", "11.50-11.70: signatures show signer, date and meaning, and are "
         "linked to their records", {"human-signoff": "medium"}),
    ],
    "gdpr-art-22": [
        ("gdpr-art-22-human-intervention",
         "Art. 22(3): human intervention, and the right to express a view and contest",
         {"human-signoff": "medium"}),
        ("gdpr-art-22-logic", "Art. 13-15 with 22: meaningful information about the logic "
         "involved", {"transparency": "medium"}),
        ("gdpr-art-22-fairness", "Recital 71: prevent discriminatory effects of profiling",
         {"bias-harm-testing": "medium"}),
    ],
    "eu-ai-act": [
        ("eu-ai-act-risk-management", "Art. 9: risk management system, including bias "
         "examination", {"bias-harm-testing": "medium"}),
        ("eu-ai-act-data-governance", "Art. 10: data and data governance",
         {"data-quality-compliance": "medium"}),
        ("eu-ai-act-documentation", "Art. 11: technical documentation",
         {"audit-documentation": "strict"}),
        ("eu-ai-act-record-keeping", "Art. 12: record-keeping (automatic logs)",
         {"reproducibility": "medium", "audit-documentation": "medium"}),
        ("eu-ai-act-transparency", "Art. 13: transparency and provision of information to "
         "deployers", {"transparency": "medium"}),
        ("eu-ai-act-human-oversight", "Art. 14: human oversight", {"human-signoff": "medium"}),
        ("eu-ai-act-accuracy-robustness", "Art. 15: accuracy, robustness and cybersecurity",
         {"preproduction-verification": "medium", "production-monitoring": "medium"}),
    ],
}

# The mislabelled rows of 0008: the SS3/18 principles filed under SS1/23.
RENAMED = {
    "pra-ss1-23-effective-challenge": "pra-ss3-18-effective-challenge",
    "pra-ss1-23-lifecycle": "pra-ss3-18-lifecycle",
}

# code, text, help, options
SCREEN = [
    ("eu_ai_act_prohibited",
     "EU AI Act Article 5: does it do any of these prohibited practices?",
     "Tick every practice that applies; leave all empty if none. A prohibited practice "
     "cannot be classified or deployed.",
     [("subliminal_manipulation", "Subliminal, manipulative or deceptive techniques that "
       "distort behaviour and cause significant harm (Art. 5(1)(a))"),
      ("exploiting_vulnerabilities", "Exploiting vulnerabilities due to age, disability or "
       "a social or economic situation (Art. 5(1)(b))"),
      ("social_scoring", "Social scoring leading to detrimental or unfavourable treatment "
       "(Art. 5(1)(c))"),
      ("crime_prediction_profiling", "Predicting criminal offences from profiling or "
       "personality traits alone (Art. 5(1)(d))"),
      ("facial_scraping", "Untargeted scraping of facial images to build recognition "
       "databases (Art. 5(1)(e))"),
      ("emotion_recognition", "Emotion recognition in the workplace or in education "
       "(Art. 5(1)(f))"),
      ("biometric_categorisation", "Biometric categorisation inferring race, political "
       "opinions, religion, sex life or orientation (Art. 5(1)(g))"),
      ("realtime_biometric_identification", "Real-time remote biometric identification in "
       "public spaces for law enforcement (Art. 5(1)(h))")]),
    ("eu_ai_act_annex_iii",
     "EU AI Act Annex III: is it used in any of these high-risk areas?",
     "Tick every area that applies; leave all empty if none. Any area makes it a high-risk "
     "system: the EU AI Act's requirements (Art. 9-15) are added to the use case.",
     [("biometrics", "Biometric identification, categorisation or emotion recognition"),
      ("critical_infrastructure", "Safety components of critical infrastructure"),
      ("education", "Education and vocational training (admission, assessment)"),
      ("employment", "Employment and workers' management (recruitment, promotion, "
       "termination, task allocation)"),
      ("essential_services", "Access to essential services: creditworthiness and credit "
       "scoring, life and health insurance pricing, public benefits, emergency dispatch"),
      ("law_enforcement", "Law enforcement"),
      ("migration", "Migration, asylum and border control"),
      ("justice_democracy", "Administration of justice and democratic processes")]),
]

OLD_MRM_EXPLANATION = ("Models under SR 11-7 or PRA SS1/23 need inventory, independent "
                       "validation and effective challenge.")
MRM_EXPLANATION = ("Models under SR 11-7, PRA SS1/23 or PRA SS3/18 (stress-test models) need "
                   "inventory, independent validation and effective challenge.")
# rule name -> regulation codes its "includes any" condition must also name
RULE_REGULATIONS = {
    "Model risk management regulation": ["pra-ss3-18"],
    "GxP regulated": ["fda-21-cfr-part-11"],
    "Data-privacy regulation": ["gdpr-art-22"],
}
ANNEX_III_RULE = ("EU AI Act Annex III high-risk area", "Used in an Annex III high-risk area: "
                  "a high-risk AI system under the EU AI Act needs the strictest governance.")


def _regulations(apps):
    Regulation = apps.get_model("inventory", "Regulation")
    out = {}
    for code, name, area, jurisdiction, description in REGULATIONS:
        out[code], _ = Regulation.objects.update_or_create(
            code=code, defaults={"name": name, "area": area, "jurisdiction": jurisdiction,
                                 "description": description})
    return out


def _requirements(apps, regulations):
    Requirement = apps.get_model("governance", "Requirement")
    RequirementMinimum = apps.get_model("governance", "RequirementMinimum")
    Consideration = apps.get_model("governance", "Consideration")
    for old, new in RENAMED.items():
        stale = Requirement.objects.filter(code=old).first()
        if stale is None:
            continue
        if Requirement.objects.filter(code=new).exists():
            stale.delete()  # a re-run of 0008 re-created the mislabelled default
        else:
            stale.code = new
            stale.save(update_fields=["code"])
    considerations = {c.code: c for c in Consideration.objects.all()}
    for regulation_code, requirements in REQUIREMENTS.items():
        for order, (code, text, minimums) in enumerate(requirements):
            requirement, _ = Requirement.objects.update_or_create(
                code=code, defaults={"regulation": regulations[regulation_code], "text": text,
                                     "order": (order + 1) * 10})
            requirement.minimums.exclude(consideration__code__in=list(minimums)).delete()
            for consideration_code, level in minimums.items():
                if consideration_code not in considerations:
                    continue  # a database without the default policy content
                RequirementMinimum.objects.update_or_create(
                    requirement=requirement, consideration=considerations[consideration_code],
                    defaults={"min_level": level})


def _screen(apps):
    Question = apps.get_model("governance", "RiskQuestion")
    Option = apps.get_model("governance", "RiskQuestionOption")
    after = Question.objects.filter(code="uses_pii").values_list("order", flat=True).first()
    questions = {}
    for index, (code, text, help_text, options) in enumerate(SCREEN):
        questions[code], _ = Question.objects.update_or_create(
            code=code, defaults={"text": text, "help_text": help_text, "kind": "multi",
                                 "source": "answer", "dimension": "regulation",
                                 "required": True, "order": (after or 20) + index + 1})
        for opt_order, (opt_code, label) in enumerate(options):
            Option.objects.update_or_create(
                question=questions[code], code=opt_code,
                defaults={"label": label, "order": (opt_order + 1) * 10})
    return questions


def _rules(apps, questions):
    Rule = apps.get_model("governance", "RiskRule")
    Condition = apps.get_model("governance", "RiskRuleCondition")
    Rule.objects.filter(explanation=OLD_MRM_EXPLANATION).update(explanation=MRM_EXPLANATION)
    for name, codes in RULE_REGULATIONS.items():
        for condition in Condition.objects.filter(
            rule__name=name, question__code="regulations", operator="includes_any"
        ):
            missing = [c for c in codes if c not in condition.values]
            if missing:
                condition.values = [*condition.values, *missing]
                condition.save(update_fields=["values"])
    name, explanation = ANNEX_III_RULE
    if not Rule.objects.filter(name=name).exists():
        last = Rule.objects.order_by("-order").values_list("order", flat=True).first() or 0
        rule = Rule.objects.create(name=name, explanation=explanation, min_tier=4,
                                   order=last + 10, active=True)
        Condition.objects.create(
            rule=rule, question=questions["eu_ai_act_annex_iii"], operator="includes_any",
            values=[code for code, _ in SCREEN[1][3]])


def load(apps, schema_editor):
    regulations = _regulations(apps)
    _requirements(apps, regulations)
    _rules(apps, _screen(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0016_classreg_classification_confirmation"),
        ("inventory", "0005_classreg_artifact_link"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
