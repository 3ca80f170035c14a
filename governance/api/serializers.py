"""Serializers of the governance API: regulations, the Step 1 questionnaire and its
rules (read-only; governance leads edit them in the admin site), classifications."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import OnlyTheseFieldsMixin
from governance.models import Classification, RiskQuestion, RiskRule, RiskRuleCondition
from governance.selectors import risk_question_as_engine
from inventory.models import Regulation


class RegulationSerializer(serializers.ModelSerializer):
    area_label = serializers.CharField(source="get_area_display", read_only=True)

    class Meta:
        model = Regulation
        fields = ["id", "code", "name", "area", "area_label", "jurisdiction", "description"]


class OptionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class RiskQuestionSerializer(serializers.ModelSerializer):
    """A questionnaire question. Questions whose ``source`` is not ``answer`` are read
    from the use case (its regulations, its PII flag) rather than asked."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    dimension_label = serializers.CharField(source="get_dimension_display", read_only=True)
    asked = serializers.SerializerMethodField(help_text="Answered in the questionnaire.")
    options = serializers.SerializerMethodField(
        help_text="Valid answers; for the regulations question, the regulation codes."
    )

    class Meta:
        model = RiskQuestion
        fields = [
            "id",
            "code",
            "text",
            "help_text",
            "kind",
            "kind_label",
            "source",
            "asked",
            "dimension",
            "dimension_label",
            "required",
            "order",
            "options",
        ]

    def get_asked(self, question: RiskQuestion) -> bool:
        return question.source == RiskQuestion.Source.ANSWER

    @extend_schema_field(OptionSerializer(many=True))
    def get_options(self, question: RiskQuestion) -> list[dict]:
        engine_question = risk_question_as_engine(question)
        return [{"code": code, "label": label} for code, label in engine_question.options.items()]


class RiskRuleConditionSerializer(serializers.ModelSerializer):
    question = serializers.SlugRelatedField(slug_field="code", read_only=True)
    operator_label = serializers.CharField(source="get_operator_display", read_only=True)
    values = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = RiskRuleCondition
        fields = ["question", "operator", "operator_label", "values"]


class RiskRuleSerializer(serializers.ModelSerializer):
    """A classification rule: when every condition holds, the level and/or tier is
    raised to at least the rule's floor."""

    conditions = RiskRuleConditionSerializer(many=True, read_only=True)
    min_criticality_label = serializers.CharField(
        source="get_min_criticality_display", read_only=True, allow_null=True
    )
    min_tier_label = serializers.CharField(
        source="get_min_tier_display", read_only=True, allow_null=True
    )

    class Meta:
        model = RiskRule
        fields = [
            "id",
            "name",
            "explanation",
            "min_criticality",
            "min_criticality_label",
            "min_tier",
            "min_tier_label",
            "active",
            "order",
            "conditions",
            "updated_at",
        ]


class TriggerSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    """A rule that matched, and the answers that made it match."""

    rule_id = serializers.IntegerField()
    rule = serializers.CharField()
    explanation = serializers.CharField()
    min_criticality = serializers.IntegerField(allow_null=True)
    min_tier = serializers.IntegerField(allow_null=True)
    triggered_by = TriggerSerializer(many=True)
    decisive = serializers.BooleanField(help_text="This rule set the final level or tier.")


class ClassificationSerializer(serializers.ModelSerializer):
    """One (re)classification of a use case: the answers, the class they gave, and why."""

    criticality_label = serializers.CharField(source="get_criticality_display", read_only=True)
    risk_tier_label = serializers.CharField(source="get_risk_tier_display", read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)
    answers = serializers.DictField(read_only=True, help_text="Answers by question code.")
    classified_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    changed = serializers.BooleanField(read_only=True)

    class Meta:
        model = Classification
        fields = [
            "id",
            "use_case",
            "criticality",
            "criticality_label",
            "risk_tier",
            "risk_tier_label",
            "previous_criticality",
            "previous_risk_tier",
            "changed",
            "reasons",
            "answers",
            "note",
            "rules_fingerprint",
            "classified_by",
            "classified_at",
        ]
        read_only_fields = fields


class ClassificationSubmitSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    """Answers to the Step 1 questionnaire, by question code (see /risk-questions/).
    The regulations and PII answers are read from the use case."""

    answers = serializers.DictField(
        help_text='E.g. {"audience": "customers", "error_impact": ["financial"]}.'
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
