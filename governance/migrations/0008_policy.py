"""Step 4 (DOMAIN.md, book's Table 8-3): the nine governance considerations and their
measures (strict / medium / light / none, with machine-readable parameters), the
default organisation policy published as v1, and the regulations' requirements mapped
to minimum measure levels. Governance leads edit all of it (policies through drafts)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

NO_MEASURE = "No specific measure."

# code, name, description, {level: (text, parameters)}
CONSIDERATIONS = [
    ("reproducibility", "Reproducibility and traceability",
     "Can a model and its results be re-created and traced back to code, data and environment?",
     {
         "strict": ("Full environment and data snapshot for exact re-instantiation of the model.",
                    {"record_deployed_metrics": True, "environment_recreatable": True,
                     "retrain_on_data_sample": True, "full_snapshot": True}),
         "medium": ("Re-create the environment and retrain on a data sample.",
                    {"record_deployed_metrics": True, "environment_recreatable": True,
                     "retrain_on_data_sample": True, "full_snapshot": False}),
         "light": ("Record the metrics of deployed models only.",
                   {"record_deployed_metrics": True, "environment_recreatable": False,
                    "retrain_on_data_sample": False, "full_snapshot": False}),
         "none": (NO_MEASURE,
                  {"record_deployed_metrics": False, "environment_recreatable": False,
                   "retrain_on_data_sample": False, "full_snapshot": False}),
     }),
    ("audit-documentation", "Audit and documentation",
     "What is logged and documented about a model's life, and how often it is reviewed.",
     {
         "strict": ("Full log of all changes, including experiments and the reasons for them; "
                    "periodic review every 6 months.",
                    {"change_log": "all", "automated_documentation": True,
                     "periodic_review_days": 182}),
         "medium": ("Automated documentation of the deployed model; yearly periodic review.",
                    {"change_log": "deployed", "automated_documentation": True,
                     "periodic_review_days": 365}),
         "light": ("No documentation beyond the inventory record (Table 8-3's light level is "
                   "none); periodic review every two years.",
                   {"change_log": "none", "automated_documentation": False,
                    "periodic_review_days": 730}),
         "none": (NO_MEASURE + " No periodic review.",
                  {"change_log": "none", "automated_documentation": False,
                   "periodic_review_days": None}),
     }),
    ("human-signoff", "Human-in-the-loop sign-off",
     "Which moves between environments need a person to sign off, and how many.",
     {
         "strict": ("Multiple sign-offs (two) for every environment move (QA, preprod, prod).",
                    {"signoffs_per_move": 2, "environments": ["qa", "preprod", "prod"]}),
         "medium": ("One sign-off before production.",
                    {"signoffs_per_move": 1, "environments": ["prod"]}),
         "light": ("No sign-off required (Table 8-3's light level is none).",
                   {"signoffs_per_move": 0, "environments": []}),
         "none": (NO_MEASURE, {"signoffs_per_move": 0, "environments": []}),
     }),
    ("preproduction-verification", "Preproduction verification",
     "How a model is checked before it reaches production.",
     {
         "strict": ("Independent re-implementation compared with the model, or a full automated "
                    "test pipeline in a production-like environment.",
                    {"sanity_checks": True, "end_to_end_tests": True,
                     "independent_or_production_like": True}),
         "medium": ("Automated end-to-end tests.",
                    {"sanity_checks": True, "end_to_end_tests": True,
                     "independent_or_production_like": False}),
         "light": ("Automated checks of database, software version and naming.",
                   {"sanity_checks": True, "end_to_end_tests": False,
                    "independent_or_production_like": False}),
         "none": (NO_MEASURE, {"sanity_checks": False, "end_to_end_tests": False,
                               "independent_or_production_like": False}),
     }),
    ("transparency", "Transparency and explainability",
     "How far the model's decisions must be understandable.",
     {
         "strict": ("Hand-coded decision rules.",
                    {"interpretability": "hand_coded_rules", "explanations_required": True}),
         "medium": ("Explainability tools (e.g. Shapley values) explain the model's decisions.",
                    {"interpretability": "explainability_tools", "explanations_required": True}),
         "light": ("Opaque models accepted.",
                   {"interpretability": "opaque_accepted", "explanations_required": False}),
         "none": (NO_MEASURE + " Opaque models accepted.",
                  {"interpretability": "opaque_accepted", "explanations_required": False}),
     }),
    ("bias-harm-testing", "Bias and harm testing",
     "How a model is tested for unfair treatment of subpopulations and for harm.",
     {
         "strict": ("Red-team adversarial testing, plus automated bias checks on named "
                    "subpopulations with tight thresholds.",
                    {"automated_bias_checks": True, "disparate_impact_min": 0.8,
                     "equalized_odds_max_diff": 0.05, "red_team_testing": True}),
         "medium": ("Automated bias checks on named subpopulations (disparate impact at least "
                    "0.8, equalized-odds difference at most 0.1).",
                    {"automated_bias_checks": True, "disparate_impact_min": 0.8,
                     "equalized_odds_max_diff": 0.1, "red_team_testing": False}),
         "light": ("No bias testing required (Table 8-3's light level is none).",
                   {"automated_bias_checks": False, "disparate_impact_min": None,
                    "equalized_odds_max_diff": None, "red_team_testing": False}),
         "none": (NO_MEASURE,
                  {"automated_bias_checks": False, "disparate_impact_min": None,
                   "equalized_odds_max_diff": None, "red_team_testing": False}),
     }),
    ("deployment-mode", "Production deployment mode",
     "How the model is deployed and made resilient in production.",
     {
         "strict": ("Containerised, elastic, multi-node deployment, load-tested before "
                    "deployment.",
                    {"containerised": True, "multi_node": True, "load_tested": True}),
         "medium": ("Containerised deployment, load-tested before deployment (Table 8-3 "
                    "gives no medium measure; this sits between strict and light).",
                    {"containerised": True, "multi_node": False, "load_tested": True}),
         "light": ("Single production server.",
                   {"containerised": False, "multi_node": False, "load_tested": False}),
         "none": (NO_MEASURE,
                  {"containerised": False, "multi_node": False, "load_tested": False}),
     }),
    ("production-monitoring", "Production monitoring",
     "How the model is watched in production and how it is retrained.",
     {
         "strict": ("Real-time alerting, automated retraining and re-evaluation; daily "
                    "input-drift monitoring.",
                    {"input_drift_cadence": "daily", "psi_max": 0.1, "real_time_alerting": True,
                     "automated_retraining": True, "infrastructure_alerts": True}),
         "medium": ("Weekly input-drift monitoring (alert above PSI 0.2) and manual retraining.",
                    {"input_drift_cadence": "weekly", "psi_max": 0.2,
                     "real_time_alerting": False, "automated_retraining": False,
                     "infrastructure_alerts": True}),
         "light": ("Basic infrastructure alerts.",
                   {"input_drift_cadence": None, "psi_max": None, "real_time_alerting": False,
                    "automated_retraining": False, "infrastructure_alerts": True}),
         "none": (NO_MEASURE,
                  {"input_drift_cadence": None, "psi_max": None, "real_time_alerting": False,
                   "automated_retraining": False, "infrastructure_alerts": False}),
     }),
    ("data-quality-compliance", "Data quality and compliance",
     "How the data a model uses is protected, traced and checked.",
     {
         "strict": ("PII anonymisation, reviewed column-level lineage, automated data-quality "
                    "checks.",
                    {"pii_anonymisation": True, "column_lineage_reviewed": True,
                     "automated_quality_checks": True}),
         "medium": ("PII anonymisation and automated data-quality checks (Table 8-3 gives "
                    "only the strict measure).",
                    {"pii_anonymisation": True, "column_lineage_reviewed": False,
                     "automated_quality_checks": True}),
         "light": ("Automated data-quality checks (Table 8-3 gives only the strict measure).",
                   {"pii_anonymisation": False, "column_lineage_reviewed": False,
                    "automated_quality_checks": True}),
         "none": (NO_MEASURE,
                  {"pii_anonymisation": False, "column_lineage_reviewed": False,
                   "automated_quality_checks": False}),
     }),
]

# The default policy: consideration -> levels for tiers (Low, Medium, High, Critical).
DEFAULT_MATRIX = {
    "reproducibility": ("light", "medium", "strict", "strict"),
    "audit-documentation": ("light", "medium", "strict", "strict"),
    "human-signoff": ("none", "medium", "strict", "strict"),
    "preproduction-verification": ("light", "medium", "medium", "strict"),
    "transparency": ("light", "light", "medium", "medium"),
    "bias-harm-testing": ("none", "medium", "medium", "strict"),
    "deployment-mode": ("light", "light", "medium", "strict"),
    "production-monitoring": ("light", "medium", "medium", "strict"),
    "data-quality-compliance": ("light", "medium", "strict", "strict"),
}

# regulation code -> [(requirement code, text, {consideration: minimum level})]
REQUIREMENTS = {
    "sr-11-7": [
        ("sr-11-7-effective-challenge", "Independent validation and effective challenge of models",
         {"preproduction-verification": "medium", "human-signoff": "medium"}),
        ("sr-11-7-inventory-documentation", "Model inventory and documentation of development",
         {"audit-documentation": "medium", "reproducibility": "medium"}),
        ("sr-11-7-ongoing-monitoring", "Ongoing monitoring and outcomes analysis",
         {"production-monitoring": "medium"}),
    ],
    "pra-ss1-23": [
        ("pra-ss1-23-effective-challenge",
         "Effective challenge: independent validation and review (principle 4)",
         {"preproduction-verification": "medium", "human-signoff": "medium"}),
        ("pra-ss1-23-lifecycle", "Model life-cycle management, model definition and inventory",
         {"audit-documentation": "medium", "reproducibility": "medium",
          "production-monitoring": "medium"}),
    ],
    "gxp": [
        ("gxp-alcoa", "Data integrity per ALCOA: attributable, legible, contemporaneous, "
         "original, accurate", {"audit-documentation": "strict", "reproducibility": "strict"}),
        ("gxp-accountability", "Accountability: who contributed what, and when",
         {"audit-documentation": "strict", "human-signoff": "medium"}),
    ],
    "gdpr": [
        ("gdpr-automated-decisions",
         "Right to be informed and to object to automated decision-making",
         {"transparency": "medium", "human-signoff": "medium"}),
        ("gdpr-data-protection",
         "Data-subject rights over personal data (access, correct, be forgotten, restrict "
         "processing, portability)", {"data-quality-compliance": "medium"}),
    ],
    "ccpa": [
        ("ccpa-consumer-rights",
         "Consumer rights to know, delete and opt out of the sale of personal information",
         {"data-quality-compliance": "medium", "audit-documentation": "light"}),
    ],
    "eu-ai-act": [
        ("eu-ai-act-risk-management", "Risk management, including bias examination",
         {"bias-harm-testing": "medium"}),
        ("eu-ai-act-data-governance", "Data and data governance",
         {"data-quality-compliance": "medium"}),
        ("eu-ai-act-documentation", "Technical documentation and record-keeping",
         {"audit-documentation": "strict", "reproducibility": "medium"}),
        ("eu-ai-act-transparency", "Transparency and provision of information to deployers",
         {"transparency": "medium"}),
        ("eu-ai-act-human-oversight", "Human oversight", {"human-signoff": "medium"}),
        ("eu-ai-act-accuracy-robustness", "Accuracy, robustness and cybersecurity",
         {"preproduction-verification": "medium", "production-monitoring": "medium"}),
    ],
    "eu-trustworthy-ai": [
        ("eu-tai-human-agency", "Human agency and oversight", {"human-signoff": "medium"}),
        ("eu-tai-robustness", "Technical robustness and safety",
         {"preproduction-verification": "medium", "production-monitoring": "medium"}),
        ("eu-tai-privacy", "Privacy and data governance", {"data-quality-compliance": "medium"}),
        ("eu-tai-transparency", "Transparency (traceability, explainability, communication)",
         {"transparency": "medium", "reproducibility": "medium"}),
        ("eu-tai-fairness", "Diversity, non-discrimination and fairness",
         {"bias-harm-testing": "medium"}),
        ("eu-tai-wellbeing", "Societal and environmental well-being",
         {"bias-harm-testing": "medium"}),
        ("eu-tai-accountability", "Accountability (auditability, redress)",
         {"audit-documentation": "medium"}),
    ],
}


def load(apps, schema_editor):
    Consideration = apps.get_model("governance", "Consideration")
    Measure = apps.get_model("governance", "Measure")
    Policy = apps.get_model("governance", "Policy")
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    Regulation = apps.get_model("governance", "Regulation")
    Requirement = apps.get_model("governance", "Requirement")
    RequirementMinimum = apps.get_model("governance", "RequirementMinimum")
    considerations = {}
    for order, (code, name, description, measures) in enumerate(CONSIDERATIONS):
        consideration, _ = Consideration.objects.update_or_create(
            code=code,
            defaults={"name": name, "description": description, "order": (order + 1) * 10},
        )
        considerations[code] = consideration
        for level, (text, parameters) in measures.items():
            Measure.objects.update_or_create(
                consideration=consideration, level=level,
                defaults={"text": text, "parameters": parameters},
            )
    policy, _ = Policy.objects.get_or_create(
        code="organisation",
        defaults={"name": "Organisation governance policy",
                  "description": "Risk tier x governance consideration -> required measure."},
    )
    if not PolicyVersion.objects.filter(policy=policy).exists():
        now = timezone.now()
        version = PolicyVersion.objects.create(
            policy=policy, status="published", number=1, created_at=now, published_at=now,
            change_note="Default policy shipped with the product",
        )
        measures = {(m.consideration.code, m.level): m
                    for m in Measure.objects.select_related("consideration")}
        PolicyCell.objects.bulk_create(
            PolicyCell(version=version, tier=tier, consideration=considerations[code],
                       level=level, text=measures[(code, level)].text,
                       parameters=measures[(code, level)].parameters)
            for code, levels in DEFAULT_MATRIX.items()
            for tier, level in enumerate(levels, start=1)
        )
    regulations = {r.code: r for r in Regulation.objects.all()}
    for regulation_code, requirements in REQUIREMENTS.items():
        regulation = regulations.get(regulation_code)
        if regulation is None:
            continue
        for order, (code, text, minimums) in enumerate(requirements):
            requirement, _ = Requirement.objects.update_or_create(
                code=code,
                defaults={"regulation": regulation, "text": text, "order": (order + 1) * 10},
            )
            for consideration_code, level in minimums.items():
                RequirementMinimum.objects.update_or_create(
                    requirement=requirement, consideration=considerations[consideration_code],
                    defaults={"min_level": level},
                )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_raci"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Consideration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(unique=True)),
                ('name', models.CharField(max_length=200)),
                ('description', models.TextField(blank=True)),
                ('order', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Policy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(unique=True)),
                ('name', models.CharField(max_length=200)),
                ('description', models.TextField(blank=True)),
            ],
            options={
                'verbose_name_plural': 'policies',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('published', 'Published')], default='draft', max_length=10)),
                ('number', models.PositiveIntegerField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('published_at', models.DateTimeField(blank=True, null=True)),
                ('change_note', models.CharField(blank=True, max_length=1000)),
                ('based_on', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.policyversion')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('policy', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='governance.policy')),
                ('published_by', models.ForeignKey(blank=True, help_text='Empty only for the default policy shipped with the product.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['policy', '-number', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PolicyCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tier', models.PositiveSmallIntegerField(choices=[(1, 'Low'), (2, 'Medium'), (3, 'High'), (4, 'Critical')])),
                ('level', models.CharField(choices=[('none', 'None'), ('light', 'Light'), ('medium', 'Medium'), ('strict', 'Strict')], max_length=10)),
                ('text', models.TextField(blank=True, help_text="The measure's text when published.")),
                ('parameters', models.JSONField(blank=True, default=dict, help_text="The measure's parameters when published.")),
                ('consideration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='policy_cells', to='governance.consideration')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cells', to='governance.policyversion')),
            ],
            options={
                'ordering': ['version', 'tier', 'consideration__order'],
            },
        ),
        migrations.CreateModel(
            name='Requirement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=60, unique=True)),
                ('text', models.CharField(max_length=500)),
                ('order', models.PositiveIntegerField(default=0)),
                ('regulation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='requirements', to='governance.regulation')),
            ],
            options={
                'ordering': ['regulation__name', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='RequirementMinimum',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('min_level', models.CharField(choices=[('none', 'None'), ('light', 'Light'), ('medium', 'Medium'), ('strict', 'Strict')], max_length=10)),
                ('consideration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requirement_minimums', to='governance.consideration')),
                ('requirement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='minimums', to='governance.requirement')),
            ],
            options={
                'ordering': ['requirement', 'consideration__order'],
            },
        ),
        migrations.CreateModel(
            name='Measure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.CharField(choices=[('none', 'None'), ('light', 'Light'), ('medium', 'Medium'), ('strict', 'Strict')], max_length=10)),
                ('text', models.TextField()),
                ('parameters', models.JSONField(blank=True, default=dict)),
                ('consideration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='measures', to='governance.consideration')),
            ],
            options={
                'ordering': ['consideration__order', 'consideration_id', 'level'],
                'constraints': [models.UniqueConstraint(fields=('consideration', 'level'), name='measure_unique_level')],
            },
        ),
        migrations.AddConstraint(
            model_name='policyversion',
            constraint=models.UniqueConstraint(fields=('policy', 'number'), name='policyversion_unique_number'),
        ),
        migrations.AddConstraint(
            model_name='policyversion',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'draft')), fields=('policy',), name='policyversion_one_draft', violation_error_message='This policy already has a draft.'),
        ),
        migrations.AddConstraint(
            model_name='policyversion',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('number__isnull', True), ('published_at__isnull', True), ('status', 'draft')), models.Q(('number__isnull', False), ('published_at__isnull', False), ('status', 'published')), _connector='OR'), name='policyversion_published_numbered', violation_error_message='A published version has a number and a date; a draft has neither.'),
        ),
        migrations.AddConstraint(
            model_name='policycell',
            constraint=models.UniqueConstraint(fields=('version', 'tier', 'consideration'), name='policycell_unique'),
        ),
        migrations.AddConstraint(
            model_name='requirementminimum',
            constraint=models.UniqueConstraint(fields=('requirement', 'consideration'), name='requirementminimum_unique'),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
