"""Four eyes on the framework in the API: ``framework-changes/`` lists proposals;
another governance lead approves or rejects one with their password (a browser
session, never an API token); the proposer withdraws it. Proposals are made where
the thing lives: ``policy-versions/{id}/publish/``, ``risk-rules/`` (POST, a new
rule), ``risk-rules/{id}/propose/``, and ``ethics-answer-sets/`` (the position)."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.filters import MAX_ID
from accounts.permissions import IsGovernanceLeadOrReadOnly
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from audit.services import audit_record
from governance.models import (
    EthicsDeviation,
    EthicsDeviationAcceptance,
    FrameworkChange,
    FrameworkChangeDecision,
)
from governance.selectors.ethics import ethics_deviation_list
from governance.selectors.framework_changes import framework_change_get, framework_change_list
from governance.services.ethics_deviations import ethics_deviation_accept
from governance.services.framework_changes import (
    framework_change_approve,
    framework_change_reject,
    framework_change_withdraw,
)


class FrameworkChangeDecisionSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FrameworkChangeDecision
        fields = ["outcome", "by", "printed_name", "at", "reason", "auth_method"]


class FrameworkChangeSerializer(serializers.ModelSerializer):
    """A proposed change, the exact content proposed, and its decision (if any)."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.CharField(read_only=True)
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decision = serializers.SerializerMethodField()

    class Meta:
        model = FrameworkChange
        fields = [
            "id",
            "kind",
            "kind_label",
            "status",
            "target_key",
            "policy_version",
            "risk_rule",
            "answer_set",
            "content",
            "content_sha256",
            "reason",
            "proposed_by",
            "proposed_at",
            "decision",
        ]

    def get_decision(self, change: FrameworkChange) -> dict | None:
        decision = getattr(change, "decision", None)
        return FrameworkChangeDecisionSerializer(decision).data if decision else None


class FrameworkSignInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        write_only=True, allow_blank=True, trim_whitespace=False, help_text=API_PASSWORD_HELP
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class WithdrawInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


def _refuse_token(request, change: FrameworkChange) -> None:
    """An API token never signs; the attempt is audited like any refused signing."""
    if not via_token(request):
        return
    message = "An API token cannot sign: sign in the browser and re-enter your password."
    audit_record(
        action="framework_change.decision_refused",
        actor=request.user,
        object_type="governance.frameworkchange",
        object_id=str(change.pk),
        object_repr=str(change),
        reason=message,
    )
    raise PermissionDenied(message)


def via_token(request) -> bool:
    """True unless the call comes from a signed-in browser session."""
    return not isinstance(request.successful_authenticator, SessionAuthentication)


class FrameworkChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Proposals, newest first; ``?status=pending|approved|rejected|withdrawn|superseded``."""

    serializer_class = FrameworkChangeSerializer
    permission_classes = [IsGovernanceLeadOrReadOnly]

    lookup_value_regex = r"[0-9]+"
    STATUSES = ("pending", "approved", "rejected", "withdrawn", "superseded")

    def get_queryset(self):
        status = self.request.query_params.get("status") or None
        if status is not None and status not in self.STATUSES:
            raise serializers.ValidationError({"status": f"Use one of {', '.join(self.STATUSES)}."})
        return framework_change_list(user=self.request.user, status=status)

    def get_object(self):
        # Actions find their row whatever the list's query string.
        pk = int(self.kwargs["pk"])
        if pk > MAX_ID:
            raise NotFound("No such proposal.")
        try:
            obj = framework_change_get(user=self.request.user, pk=pk)
        except FrameworkChange.DoesNotExist:
            raise NotFound("No such proposal.") from None
        self.check_object_permissions(self.request, obj)
        return obj

    def _decided(self, change: FrameworkChange) -> Response:
        fresh = framework_change_get(user=self.request.user, pk=change.pk)
        return Response(FrameworkChangeSerializer(fresh).data)

    @extend_schema(request=FrameworkSignInputSerializer, responses=FrameworkChangeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Sign the approval (another lead; password typed again; session only). The
        change takes effect now, exactly as proposed."""
        change = self.get_object()
        _refuse_token(request, change)
        data = FrameworkSignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        framework_change_approve(change=change, by=request.user, **data.validated_data)
        return self._decided(change)

    @extend_schema(request=FrameworkSignInputSerializer, responses=FrameworkChangeSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Sign the rejection, with a reason (another lead; password; session only)."""
        change = self.get_object()
        _refuse_token(request, change)
        data = FrameworkSignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        framework_change_reject(change=change, by=request.user, **data.validated_data)
        return self._decided(change)

    @extend_schema(request=WithdrawInputSerializer, responses=FrameworkChangeSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The proposer withdraws a pending proposal."""
        change = self.get_object()
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        framework_change_withdraw(change=change, by=request.user, **data.validated_data)
        return self._decided(change)


# --- the ethical position applied: deviations and their acceptance -------------------------


class EthicsDeviationAcceptanceSerializer(serializers.ModelSerializer):
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = EthicsDeviationAcceptance
        fields = ["id", "deviation", "accepted_by", "printed_name", "meaning", "reason"]
        fields += ["accepted_at", "expires_on"]
        read_only_fields = fields


class EthicsAcceptInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    expires_on = serializers.DateField()
    password = serializers.CharField(
        write_only=True, allow_blank=True, trim_whitespace=False, help_text=API_PASSWORD_HELP
    )


class EthicsDeviationSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    accepted_until = serializers.DateField(
        read_only=True, allow_null=True, help_text="Accepted until this day; null if not."
    )

    class Meta:
        model = EthicsDeviation
        fields = [
            "id",
            "use_case",
            "code",
            "kind",
            "message",
            "position_value",
            "use_case_value",
            "owner",
            "is_open",
            "opened_at",
            "opened_by_answers",
            "position",
            "closed_at",
            "closed_by_answers",
            "close_reason",
            "accepted_until",
        ]


class EthicsDeviationViewSet(viewsets.ReadOnlyModelViewSet):
    """Where use cases' ethics answers fall short of the organisation's position;
    ``?use_case=<id>``, ``?open=true``. Opened and closed by the answers themselves;
    ``accept`` records the Accountable's signed judgement, for a time."""

    serializer_class = EthicsDeviationSerializer

    def get_queryset(self):
        params = self.request.query_params
        qs = ethics_deviation_list(
            user=self.request.user, open_only=params.get("open") in ("1", "true", "yes")
        )
        use_case = params.get("use_case")
        if use_case:
            if not use_case.isdigit() or int(use_case) > MAX_ID:
                raise serializers.ValidationError({"use_case": "Give a use case id."})
            qs = qs.filter(use_case_id=int(use_case))
        return qs

    @extend_schema(
        request=EthicsAcceptInputSerializer,
        responses={201: EthicsDeviationAcceptanceSerializer},
        description="The use case's Accountable of model acceptance (second line, outside "
        "the developing team) accepts an open deviation until a day, with a reason: a "
        "signed act, the password typed again from a browser session; an API token is "
        "refused (403). A declared prohibited harm cannot be accepted (400).",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        deviation = self.get_object()
        data = EthicsAcceptInputSerializer(data=request.data)
        if via_token(request):
            ethics_deviation_accept(
                deviation=deviation,
                by=request.user,
                reason="",
                expires_on=None,
                password="",
                via_token=True,
            )
        data.is_valid(raise_exception=True)
        acceptance = ethics_deviation_accept(
            deviation=deviation, by=request.user, **data.validated_data
        )
        return Response(EthicsDeviationAcceptanceSerializer(acceptance).data, status=201)
