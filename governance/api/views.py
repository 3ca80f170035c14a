"""Governance API: the regulations catalogue and the Step 1 questionnaire, read-only;
the rules, read by everyone with a role and changed only by four-eyes proposals
(POST ``risk-rules/`` proposes a new rule, POST ``risk-rules/{id}/propose/`` a change;
another lead approves at ``framework-changes/{id}/approve/``). Classifying a use case
is an action on the use case (``inventory.api.views.UseCaseViewSet``)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from accounts.api import SearchFilter
from accounts.permissions import IsGovernanceLeadOrReadOnly
from accounts.serializers import OnlyTheseFieldsMixin
from governance.api.framework_changes import FrameworkChangeSerializer
from governance.api.serializers import (
    RegulationSerializer,
    RiskQuestionSerializer,
    RiskRuleSerializer,
)
from governance.selectors import regulation_list, risk_question_list, risk_rule_list
from governance.services.framework_changes import risk_rule_propose
from governance.services.framework_content import risk_rule_content


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


class RuleProposalSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    """A proposed rule change: a reason, and the fields that change (the others keep
    the rule's current values): name, explanation, min_criticality, min_tier, order,
    active, conditions ([{question, operator, values}])."""

    reason = serializers.CharField(max_length=1000)
    changes = serializers.DictField(help_text="The rule's new field values.")


class RiskRuleViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Every rule, active or not, with its conditions."""

    serializer_class = RiskRuleSerializer
    permission_classes = [IsGovernanceLeadOrReadOnly]
    filter_backends = [OrderingFilter]
    ordering_fields = ["order", "name", "updated_at"]
    ordering = ["order", "id"]

    def get_queryset(self):
        return risk_rule_list(active_only=False)

    @extend_schema(request=RuleProposalSerializer, responses={202: FrameworkChangeSerializer})
    def create(self, request, *args, **kwargs):
        """Propose a new rule (``changes`` is the whole rule); it exists once another
        governance lead approves."""
        data = RuleProposalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = risk_rule_propose(
            content=data.validated_data["changes"],
            by=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(FrameworkChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RuleProposalSerializer, responses={202: FrameworkChangeSerializer})
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        """Propose a change of this rule (edit, activate: ``{"active": true}``,
        deactivate); it takes effect once another governance lead approves."""
        rule = self.get_object()
        data = RuleProposalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = risk_rule_propose(
            content={**risk_rule_content(rule), **data.validated_data["changes"]},
            by=request.user,
            reason=data.validated_data["reason"],
            rule=rule,
        )
        return Response(FrameworkChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)
