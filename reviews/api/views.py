"""Sign-off workflow API: promotion requests (read, create, withdraw, waive), their
live state (signatures with validity, blocking items), findings, the deployment gate
and its log.

Signing through the API needs a browser session and the password typed again: a
token-authenticated call can never sign (403), whatever the token's owner may do.
"""

from collections.abc import Mapping

from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, PermissionDenied, UnsupportedMediaType
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.filters import MAX_ID, ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from core import promotion_rules as rules
from inventory.models import ModelVersion
from reviews.filters import GateCallFilterSet, PromotionRequestFilterSet
from reviews.models import GateCall, PromotionRequest, Signature
from reviews.selectors import promotion as sel
from reviews.selectors.gate_client import CONTENT_TYPE, gate_client_file
from reviews.services import gate as gate_svc
from reviews.services import promotion as svc
from reviews.services.signers import request_sign_refusal


class SignatureSerializer(serializers.ModelSerializer):
    signer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id",
            "signer",
            "printed_name",
            "signed_at",
            "meaning",
            "slot",
            "reason",
            "manifest_hash",
            "auth_method",
        ]
        read_only_fields = fields


class PromotionRequestSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = PromotionRequest
        fields = [
            "id",
            "model_version",
            "kind",
            "from_environment",
            "to_environment",
            "justification",
            "requested_by",
            "requested_at",
            "required_signoffs",
            "slots",
            "status",
            "decided_at",
            "state",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_state(self, obj) -> dict:
        if not self.context.get("with_state"):
            return {}
        state = sel.request_state(obj)
        return {
            "manifest_hash": state.manifest_hash,
            "approvable": state.approvable,
            "signoffs_given": len(state.tally.filled),
            "open_slots": state.tally.open_slots,
            "blocking": [
                {
                    **b.item.to_dict(),
                    "waived": b.waiver is not None,
                    "waiver_reason": b.waiver.reason if b.waiver else "",
                }
                for b in state.blocking
            ],
            "signatures": [
                {
                    **SignatureSerializer(s.signature).data,
                    "valid": s.valid,
                    "why_invalid": s.reasons,
                }
                for s in state.signatures
            ],
            "warnings": state.warnings,
            "voidings": [
                {
                    "signature": v.signature_id,
                    "at": v.at,
                    "by": v.by.get_username() if v.by else None,
                    "what": v.what,
                    "slot": v.detail.get("slot", ""),
                }
                for v in state.voidings
            ],
            **self._you(state),
        }

    def _you(self, state) -> dict:
        """What the caller may sign now, and why not: asked before typing a password."""
        request = self.context.get("request")
        if request is None:
            return {}
        user = request.user
        meanings = state.meanings_for(user)
        return {
            "you_may_sign": meanings,
            "why_you_cannot_sign": ""
            if meanings
            else state.why_cannot_sign(user, Signature.Meaning.APPROVED) or "",
        }


class RequestCreateSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    kind = serializers.ChoiceField(choices=PromotionRequest.Kind.choices, default=rules.PROMOTE)
    to_environment = serializers.CharField(
        required=False, allow_blank=True, help_text="Optional; checked against the next step."
    )
    justification = serializers.CharField(max_length=4000)


class ReasonSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class WaiveSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    code = serializers.CharField(max_length=120)
    reason = serializers.CharField(max_length=4000)


class SignInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    meaning = serializers.ChoiceField(
        choices=[c for c in Signature.Meaning.choices if c[0] in svc.REQUEST_MEANINGS]
    )
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )


class PromotionRequestViewSet(ListFiltersOnlyMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PromotionRequestSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PromotionRequestFilterSet

    def get_queryset(self):
        return sel.request_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_state": self.action != "list"}

    def _out(self, request_obj, code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=request_obj.pk)
        return Response(self.get_serializer(obj).data, status=code)

    @extend_schema(request=RequestCreateSerializer, responses={201: PromotionRequestSerializer})
    def create(self, request):
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        obj = svc.request_create(
            version=v["model_version"],
            by=request.user,
            kind=v["kind"],
            justification=v["justification"],
            to_environment=v.get("to_environment") or None,
        )
        return self._out(obj, status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = svc.request_withdraw(
            request=self.get_object(), by=request.user, reason=data.validated_data["reason"]
        )
        return self._out(obj)

    @extend_schema(request=WaiveSerializer, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        data = WaiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = self.get_object()
        svc.blocking_waive(request=obj, by=request.user, **data.validated_data)
        return self._out(obj)

    @extend_schema(
        request=SignInputSerializer,
        responses={201: SignatureSerializer},
        description="Sign with the password typed again, from a browser session. "
        "A token-authenticated call is refused (403): an API token can never sign.",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def sign(self, request, pk=None):
        # Any signed-in user reaches the service, which refuses with the reason (and an
        # audit event) whoever may not sign: auditors, the first line, non-signers.
        obj = self.get_object()
        via_token = isinstance(request.successful_authenticator, TokenAuthentication) or (
            not isinstance(request.successful_authenticator, SessionAuthentication)
        )
        if via_token:
            svc.request_sign(request=obj, by=request.user, password="", meaning="", via_token=True)
        meaning = request.data.get("meaning", "") if hasattr(request.data, "get") else ""
        why = request_sign_refusal(request=obj, by=request.user, meaning=str(meaning))
        if why:
            raise PermissionDenied(why)
        data = SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signature = svc.request_sign(request=obj, by=request.user, **data.validated_data)
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


class GateInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    model = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The model's id, asked with its artifact_sha256.",
    )
    artifact_sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False)
    environment = serializers.CharField(max_length=20)

    def validate(self, attrs):
        if not attrs.get("model_version") and not attrs.get("artifact_sha256"):
            raise serializers.ValidationError("Give model_version or artifact_sha256.")
        if attrs.get("model") and not attrs.get("artifact_sha256"):
            raise serializers.ValidationError("Give the artifact_sha256 with the model.")
        return attrs


class GateWarningSerializer(serializers.Serializer):
    """A note of the answer that blocks nothing. ``finding-opened-after-approval``: a
    finding opened after the approval was signed is not part of what was signed, so it
    does not void the approval; the finding's fields say which it is."""

    code = serializers.CharField(help_text="e.g. finding-opened-after-approval")
    message = serializers.CharField()
    finding = serializers.IntegerField(required=False)
    title = serializers.CharField(required=False)
    source = serializers.CharField(required=False)
    severity = serializers.CharField(required=False, allow_null=True)
    opened_at = serializers.DateTimeField(required=False)
    opened_by = serializers.CharField(required=False, help_text="A username, or system.")
    request = serializers.IntegerField(required=False, help_text="The approved request.")


class GateAnswerSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    decision = serializers.ChoiceField(choices=["allowed", "blocked"])
    reasons = serializers.ListField(child=serializers.DictField())
    warnings = GateWarningSerializer(
        many=True, help_text="What the pipeline should know; none of it blocks."
    )
    model_version = serializers.IntegerField(allow_null=True)
    environment = serializers.CharField()
    request = serializers.IntegerField(allow_null=True)
    call = serializers.IntegerField()
    checked_at = serializers.DateTimeField()


class GateRefusalSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    decision = serializers.ChoiceField(choices=["blocked"])
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)
    call = serializers.IntegerField(help_text="The logged call.")


class GateView(APIView):
    """Deployment gate for CI/CD pipelines: may this version run in that environment?

    Answers 200 with ``allowed`` true or false and machine-readable ``reasons``; it
    fails closed (unknown version, missing inventory fields, a signature that no
    longer matches, a revoked approval, an overdue periodic review: blocked). A bad
    payload is a 400 and counts as blocked. ``warnings`` say what blocks nothing but
    must be seen (a finding opened after the approval: it does not void the approvers'
    signatures). Every call is logged, warnings included.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=GateInputSerializer,
        responses={
            200: GateAnswerSerializer,
            400: GateRefusalSerializer,
            403: GateRefusalSerializer,
            415: GateRefusalSerializer,
        },
    )
    def post(self, request):
        if not has_any_role(request.user):
            return self._refused(
                request, {}, "no-role", "You need a governance role.", status.HTTP_403_FORBIDDEN
            )
        try:
            body = request.data
        except (ParseError, UnsupportedMediaType) as exc:
            return self._refused(request, {}, "bad-request", str(exc.detail), exc.status_code)
        if not isinstance(body, Mapping):
            return self._refused(request, {}, "bad-request", "The body must be a JSON object.", 400)
        data = GateInputSerializer(data=body)
        payload = {
            k: str(body.get(k))[:200]
            for k in ("model_version", "model", "artifact_sha256", "environment")
            if body.get(k) is not None
        }
        if not data.is_valid():
            return self._refused(
                request, payload, "bad-request", str(data.errors), 400, errors=data.errors
            )
        v = data.validated_data
        decision, call = gate_svc.gate_check(
            by=request.user,
            version_id=v.get("model_version"),
            model_id=v.get("model"),
            artifact_sha256=v.get("artifact_sha256"),
            environment=v["environment"],
            payload=payload,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        return Response(
            {
                "allowed": decision.allowed,
                "decision": "allowed" if decision.allowed else "blocked",
                "reasons": decision.reasons,
                "warnings": decision.warnings,
                "model_version": decision.version.pk if decision.version else None,
                "environment": v["environment"],
                "request": decision.request_id,
                "call": call.pk,
                "checked_at": call.at,
            }
        )

    @staticmethod
    def _refused(request, payload, code, message, status_code, errors=None) -> Response:
        """Answer blocked without deciding, and log the call (issue 13: a malformed body
        was a 500 or a 400 that left no GateCall)."""
        environment = payload.get("environment", "")
        call = gate_svc.gate_refuse(
            by=request.user,
            payload=payload,
            environment=environment,
            code=code,
            message=message,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        body = {"allowed": False, "decision": "blocked", "call": call.pk}
        body.update({"errors": errors} if errors is not None else {"detail": message})
        return Response(body, status=status_code)


class GateClientView(APIView):
    """The gate's client for pipelines (issue 17): one Python file, standard library
    only, fetched with the pipeline's own token, so a closed network needs nothing but
    the dashboard. The same bytes as the gate log page's download."""

    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(self, request, force=False):
        # The answer is the file whatever the Accept header names (no 406).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download the gate client (governance_gate.py)",
        responses={(200, "text/x-python"): OpenApiTypes.STR},
    )
    def get(self, request):
        if not has_any_role(request.user):
            raise PermissionDenied("You need a governance role.")
        client = gate_client_file()
        response = HttpResponse(client.content, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{client.filename}"'
        return response


class GateCallSerializer(serializers.ModelSerializer):
    caller = serializers.SlugRelatedField(slug_field="username", read_only=True)
    warnings = GateWarningSerializer(many=True, read_only=True)

    class Meta:
        model = GateCall
        fields = [
            "id",
            "at",
            "caller",
            "remote_addr",
            "payload",
            "model_version",
            "environment",
            "allowed",
            "reasons",
            "warnings",
            "request",
        ]
        read_only_fields = fields


class GateCallViewSet(ListFiltersOnlyMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = GateCallSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = GateCallFilterSet

    def get_queryset(self):
        return sel.gate_calls() if has_any_role(self.request.user) else GateCall.objects.none()
