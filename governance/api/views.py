"""Governance API: the regulations catalogue and the Step 1 questionnaire and rules,
read-only (governance leads edit them in the admin site, where rule edits are
validated). Classifying a use case is an action on the use case
(``inventory.api.views.UseCaseViewSet``)."""

from rest_framework import viewsets
from rest_framework.filters import OrderingFilter, SearchFilter

from governance.api.serializers import (
    RegulationSerializer,
    RiskQuestionSerializer,
    RiskRuleSerializer,
)
from governance.selectors import regulation_list, risk_question_list, risk_rule_list


class RegulationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegulationSerializer
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["code", "name", "jurisdiction"]
    ordering_fields = ["name", "code", "area"]
    ordering = ["name"]

    def get_queryset(self):
        return regulation_list()


class RiskQuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """The questionnaire in order; answer it at /use-cases/{id}/classification/."""

    serializer_class = RiskQuestionSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["order", "code"]
    ordering = ["order", "id"]

    def get_queryset(self):
        return risk_question_list()


class RiskRuleViewSet(viewsets.ReadOnlyModelViewSet):
    """Every rule, active or not, with its conditions."""

    serializer_class = RiskRuleSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["order", "name", "updated_at"]
    ordering = ["order", "id"]

    def get_queryset(self):
        return risk_rule_list(active_only=False)
