"""Step 2, the ethical position (DOMAIN.md "Step 2: ethical position questions").

Schema: versioned questionnaires (EthicsTemplate -> EthicsTemplateVersion ->
EthicsQuestion -> EthicsQuestionOption), append-only answer sets and approvals, and
the classification link (RiskQuestion source ``use_case.critical_aspects``).

Default content, version 1 of both questionnaires (published), and the default
critical-aspects risk question with its rule ("Touches an aspect the organisation
holds critical" -> tier at least High). Governance leads edit all of it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

ASPECTS = [
    ("equality", "Equality"),
    ("privacy", "Privacy"),
    ("human_rights", "Human rights and dignity"),
    ("employment", "Employment"),
    ("democracy", "Democracy"),
    ("bias", "Bias and discrimination"),
]
PSYCHOLOGY = [
    ("human_human", "Human-human relationships"),
    ("human_ai", "Human-AI relationships"),
    ("deception", "Deception"),
    ("manipulation", "Manipulation"),
    ("exploitation", "Exploitation"),
]

# code, text, help, kind, required, options, (scale min, max, min label, max label)
ORGANISATION_QUESTIONS = [
    (
        "aspects",
        "Which aspects of societal well-being matter to the organisation?",
        "Tick every aspect our AI use must respect.",
        "multi",
        True,
        ASPECTS,
        None,
    ),
    (
        "critical_aspects",
        "Which of these aspects are critical for us?",
        "A use case whose ethics answers touch a critical aspect has its risk tier raised "
        "(classification rule 'Touches an aspect the organisation holds critical').",
        "multi",
        True,
        ASPECTS,
        None,
    ),
    (
        "psychology",
        "Which impacts on human psychology must be considered?",
        "Effects on relationships between people or between people and AI, and harms such "
        "as deception, manipulation or exploitation.",
        "multi",
        True,
        PSYCHOLOGY,
        None,
    ),
    (
        "financial_stance",
        "Is a stance on financial impact required?",
        "For example on market manipulation or effects on prices beyond our own business.",
        "single",
        True,
        [
            ("not_required", "No: our models do not act on markets or prices"),
            ("case_by_case", "Case by case: use cases with financial impact are reviewed"),
            ("required", "Yes: market manipulation and similar financial harms are ruled out"),
        ],
        None,
    ),
    (
        "transparency",
        "How transparent should decision making be?",
        "From 'opaque models accepted' to 'every decision can be explained to the person "
        "it affects'.",
        "scale",
        True,
        [],
        (1, 5, "Opaque models accepted", "Every decision explainable to the person affected"),
    ),
    (
        "accountability",
        "What accountability for AI-driven mistakes does the business accept?",
        "",
        "single",
        True,
        [
            ("full", "Full: the business answers for AI-driven decisions as for human ones"),
            ("shared", "Shared with the suppliers of third-party models and data"),
            ("human_signoff", "Only where a person signed off the decision"),
        ],
        None,
    ),
    (
        "accountability_notes",
        "Accountability: details and limits",
        "Who answers for mistakes, how those affected are compensated, what is excluded.",
        "text",
        False,
        [],
        None,
    ),
]

USE_CASE_QUESTIONS = [
    (
        "aspects",
        "Which aspects of societal well-being does this use case touch?",
        "Tick every aspect its outputs could affect. Aspects the organisation holds "
        "critical raise the use case's risk tier.",
        "multi",
        True,
        ASPECTS,
        None,
    ),
    (
        "psychology",
        "Could it affect human psychology?",
        "Relationships between people or with AI, deception, manipulation, exploitation.",
        "multi",
        True,
        PSYCHOLOGY,
        None,
    ),
    (
        "financial_impact",
        "Could it have financial impact beyond the business?",
        "For example moving market prices or affecting people's access to credit.",
        "single",
        True,
        [
            ("none", "No"),
            ("indirect", "Indirectly"),
            ("direct", "Directly (e.g. trading, pricing, credit decisions)"),
        ],
        None,
    ),
    (
        "transparency",
        "How transparent are its decisions to the people they affect?",
        "",
        "scale",
        True,
        [],
        (1, 5, "Opaque", "Fully explained to each person affected"),
    ),
    (
        "accountability",
        "Who answers for its mistakes, and how are they put right?",
        "",
        "text",
        False,
        [],
        None,
    ),
]

TEMPLATES = [
    (
        "organisation-ethics",
        "Ethical position of the organisation",
        "organisation",
        "The organisation-wide ethical position (Step 2), answered and approved by "
        "governance leads.",
        ORGANISATION_QUESTIONS,
    ),
    (
        "use-case-ethics",
        "Ethical questions for a use case",
        "use_case",
        "What each use case touches, answered by those who can change it.",
        USE_CASE_QUESTIONS,
    ),
]

RULE_NAME = "Touches an aspect the organisation holds critical"


def load_defaults(apps, schema_editor):
    Template = apps.get_model("governance", "EthicsTemplate")
    Version = apps.get_model("governance", "EthicsTemplateVersion")
    Question = apps.get_model("governance", "EthicsQuestion")
    Option = apps.get_model("governance", "EthicsQuestionOption")
    RiskQuestion = apps.get_model("governance", "RiskQuestion")
    Rule = apps.get_model("governance", "RiskRule")
    Condition = apps.get_model("governance", "RiskRuleCondition")
    now = timezone.now()
    for code, name, scope, description, questions in TEMPLATES:
        template, _ = Template.objects.get_or_create(
            scope=scope, defaults={"code": code, "name": name, "description": description}
        )
        if Version.objects.filter(template=template).exists():
            continue
        version = Version.objects.create(
            template=template,
            number=1,
            status="published",
            created_at=now,
            published_at=now,
            note="Default content (DOMAIN.md, Step 2).",
        )
        for order, (q_code, text, help_text, kind, required, options, scale) in enumerate(
            questions
        ):
            lo, hi, lo_label, hi_label = scale or (None, None, "", "")
            question = Question.objects.create(
                version=version,
                code=q_code,
                text=text,
                help_text=help_text,
                kind=kind,
                required=required,
                order=(order + 1) * 10,
                scale_min=lo,
                scale_max=hi,
                scale_min_label=lo_label,
                scale_max_label=hi_label,
            )
            Option.objects.bulk_create(
                Option(question=question, code=o_code, label=label, order=(i + 1) * 10)
                for i, (o_code, label) in enumerate(options)
            )
    risk_question, created = RiskQuestion.objects.get_or_create(
        code="critical_aspects",
        defaults={
            "text": "Which aspects the organisation holds critical does it touch?",
            "help_text": "Read from the use case: the aspects its latest ethics answers touch "
            "that the approved ethical position marks critical.",
            "kind": "multi",
            "source": "use_case.critical_aspects",
            "dimension": "ethics",
            "required": False,
            "order": 110,
        },
    )
    if created and not Rule.objects.filter(name=RULE_NAME).exists():
        last = Rule.objects.order_by("-order").values_list("order", flat=True).first() or 0
        rule = Rule.objects.create(
            name=RULE_NAME,
            explanation="The use case touches an aspect of societal well-being that the "
            "organisation's approved ethical position marks critical.",
            min_tier=3,
            order=last + 10,
            active=True,
        )
        Condition.objects.create(
            rule=rule,
            question=risk_question,
            operator="includes_any",
            values=[code for code, _ in ASPECTS],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0005_classification_reasons_blank"),
        ("inventory", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EthicsTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(unique=True)),
                ("name", models.CharField(max_length=200)),
                (
                    "scope",
                    models.CharField(
                        choices=[
                            ("organisation", "Organisation-wide position"),
                            ("use_case", "Per use case"),
                        ],
                        max_length=20,
                        unique=True,
                    ),
                ),
                ("description", models.TextField(blank=True)),
            ],
            options={
                "verbose_name": "ethics questionnaire",
                "ordering": ["scope"],
            },
        ),
        migrations.AlterField(
            model_name="riskquestion",
            name="dimension",
            field=models.CharField(
                choices=[
                    ("regulation", "Regulation and data"),
                    ("audience", "Audience"),
                    ("availability", "Availability"),
                    ("impact", "Impact of outcomes"),
                    ("lifetime", "Lifetime of model and outcomes"),
                    ("change", "Change and decay"),
                    ("transparency", "Explainability"),
                    ("ethics", "Ethical position"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="riskquestion",
            name="source",
            field=models.CharField(
                choices=[
                    ("answer", "Answered in the questionnaire"),
                    ("use_case.regulations", "The use case's regulations"),
                    ("use_case.uses_pii", "Whether the use case uses PII"),
                    ("use_case.critical_aspects", "Critical ethical aspects it touches"),
                ],
                default="answer",
                help_text="Answered questions are asked; the others are read from the use case.",
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="EthicsAnswerSet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("answers", models.JSONField(help_text="Answers by question code, as submitted.")),
                ("note", models.CharField(blank=True, max_length=500)),
                ("answered_at", models.DateTimeField()),
                (
                    "answered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "use_case",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for the organisation-wide position.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ethics_answer_sets",
                        to="inventory.usecase",
                    ),
                ),
            ],
            options={
                "verbose_name": "ethics answer set",
                "ordering": ["-answered_at", "-id"],
                "get_latest_by": ["answered_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="EthicsApproval",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("approved_at", models.DateTimeField()),
                ("note", models.CharField(blank=True, max_length=500)),
                (
                    "answer_set",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approval",
                        to="governance.ethicsanswerset",
                    ),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "ethics position approval",
                "ordering": ["-approved_at", "-id"],
                "get_latest_by": ["approved_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="EthicsTemplateVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("published", "Published")],
                        default="draft",
                        max_length=10,
                    ),
                ),
                (
                    "note",
                    models.CharField(blank=True, help_text="What changed and why.", max_length=500),
                ),
                ("created_at", models.DateTimeField()),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "published_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "template",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="governance.ethicstemplate",
                    ),
                ),
            ],
            options={
                "verbose_name": "ethics questionnaire version",
                "ordering": ["template", "-number"],
            },
        ),
        migrations.CreateModel(
            name="EthicsQuestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField()),
                ("text", models.CharField(max_length=300)),
                ("help_text", models.TextField(blank=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("single", "Single choice"),
                            ("multi", "Multiple choice"),
                            ("scale", "Scale"),
                            ("text", "Free text"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "required",
                    models.BooleanField(
                        default=True,
                        help_text="Multiple-choice questions accept an empty answer ('none').",
                    ),
                ),
                ("order", models.PositiveIntegerField(default=0)),
                ("scale_min", models.SmallIntegerField(blank=True, null=True)),
                ("scale_max", models.SmallIntegerField(blank=True, null=True)),
                ("scale_min_label", models.CharField(blank=True, max_length=120)),
                ("scale_max_label", models.CharField(blank=True, max_length=120)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="questions",
                        to="governance.ethicstemplateversion",
                    ),
                ),
            ],
            options={
                "verbose_name": "ethics question",
                "ordering": ["version", "order", "id"],
            },
        ),
        migrations.AddField(
            model_name="ethicsanswerset",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="answer_sets",
                to="governance.ethicstemplateversion",
            ),
        ),
        migrations.CreateModel(
            name="EthicsQuestionOption",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField()),
                ("label", models.CharField(max_length=200)),
                ("order", models.PositiveIntegerField(default=0)),
                (
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="options",
                        to="governance.ethicsquestion",
                    ),
                ),
            ],
            options={
                "verbose_name": "ethics question option",
                "ordering": ["question", "order", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("question", "code"), name="ethicsoption_unique_code"
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="ethicstemplateversion",
            constraint=models.UniqueConstraint(
                fields=("template", "number"), name="ethicsversion_unique_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="ethicstemplateversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "draft")),
                fields=("template",),
                name="ethicsversion_one_draft",
                violation_error_message="This questionnaire already has a draft version.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ethicstemplateversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"), ("published_at__isnull", False), _connector="OR"
                ),
                name="ethicsversion_published_has_date",
            ),
        ),
        migrations.AddConstraint(
            model_name="ethicsquestion",
            constraint=models.UniqueConstraint(
                fields=("version", "code"), name="ethicsquestion_unique_code"
            ),
        ),
        migrations.AddIndex(
            model_name="ethicsanswerset",
            index=models.Index(
                fields=["use_case", "-answered_at"], name="governance__use_cas_8be8fb_idx"
            ),
        ),
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
    ]
