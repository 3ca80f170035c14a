"""Independent validation API (issue 12): validations of model versions (read, record,
change a draft, sign) and risk acceptances of validation findings.

Only validators independent of the developing team record and sign (the services
decide, with the reason, in a 403); signing needs a browser session and the password
typed again, never an API token. A signed validation is never changed (400). Accepting
a validation finding's risk is signed the same way (password typed again, never a token).
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.filters import ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from inventory.models import ModelVersion
from reviews.filters import ValidationFilterSet
from reviews.models import Finding, FindingAcceptance, Validation
from reviews.selectors import validation as sel
from reviews.services import acceptance as acceptance_svc
from reviews.services import validation as svc


def _signature_data(signature) -> dict | None:
    if signature is None:
        return None
    return {
        "id": signature.pk,
        "signer": signature.signer.get_username(),
        "printed_name": signature.printed_name,
        "signed_at": signature.signed_at,
        "meaning": signature.meaning,
        "manifest_hash": signature.manifest_hash,
        "auth_method": signature.auth_method,
    }


class FindingRaisedSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=300)
    detail = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ValidationSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    validator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    findings_raised = FindingRaisedSerializer(many=True, required=False)
    findings = serializers.SerializerMethodField()
    signature = serializers.SerializerMethodField()

    class Meta:
        model = Validation
        fields = [
            "id",
            "model_version",
            "validator",
            "scope",
            "conceptual_soundness",
            "data",
            "outcomes_analysis",
            "limitations",
            "conclusion",
            "findings_raised",
            "findings",
            "created_at",
            "updated_at",
            "signed_at",
            "signature",
        ]
        read_only_fields = ["created_at", "updated_at", "signed_at"]

    def get_findings(self, obj) -> list[int]:
        return [f.pk for f in obj.findings.all()]

    def get_signature(self, obj) -> dict | None:
        return _signature_data(getattr(obj, "signature", None) if obj.signed_at else None)


class ValidationSignSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )


class ValidationViewSet(ListFiltersOnlyMixin, viewsets.ModelViewSet):
    """Validations of model versions. Record (POST) and change a draft (PATCH/PUT):
    validators independent of the developing team only; sign: ``sign`` with the
    password, from a browser session."""

    serializer_class = ValidationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ValidationFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return Validation.objects.none()
        return sel.validation_list().prefetch_related("findings")

    def create(self, request):
        data = ValidationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("model_version")
        validation = svc.validation_record(version=version, by=request.user, **fields)
        return Response(self._data(validation), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        validation = self.get_object()
        data = ValidationSerializer(validation, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("model_version", None)
        validation = svc.validation_update(validation=validation, by=request.user, **fields)
        return Response(self._data(validation))

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def _data(self, validation):
        return self.get_serializer(self.get_queryset().get(pk=validation.pk)).data

    @extend_schema(
        request=ValidationSignSerializer,
        responses={201: ValidationSerializer},
        description='Sign the validation with the meaning "validated", the password typed '
        "again, from a browser session; an API token is refused (403).",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def sign(self, request, pk=None):
        validation = self.get_object()
        via_token = not isinstance(request.successful_authenticator, SessionAuthentication)
        if via_token:
            svc.validation_sign(validation=validation, by=request.user, password="", via_token=True)
        why = svc.validation_sign_refusal(validation=validation, by=request.user)
        if why:
            svc.validation_signing_refused(validation=validation, by=request.user, why=why)
            return Response({"detail": why}, status=status.HTTP_403_FORBIDDEN)
        data = ValidationSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        svc.validation_sign(validation=validation, by=request.user, **data.validated_data)
        return Response(self._data(validation), status=status.HTTP_201_CREATED)


class FindingAcceptanceSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    finding = serializers.PrimaryKeyRelatedField(queryset=Finding.objects.all())
    expires_on = serializers.DateField()
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=4096,
        style={"input_type": "password"},
        help_text=API_PASSWORD_HELP,
    )
    signature = serializers.SerializerMethodField()

    class Meta:
        model = FindingAcceptance
        fields = [
            "id",
            "finding",
            "accepted_by",
            "printed_name",
            "accepted_at",
            "expires_on",
            "reason",
            "password",
            "signature",
        ]
        read_only_fields = ["accepted_by", "printed_name", "accepted_at"]

    def get_signature(self, obj) -> dict | None:
        """The signature (meaning "risk accepted"); null for an acceptance recorded
        before acceptances were signed."""
        return _signature_data(getattr(obj, "signature", None))


class FindingAcceptanceViewSet(ListFiltersOnlyMixin, viewsets.ModelViewSet):
    """Risk acceptances of validation findings, until a date: the second line's signed
    act (risk officers and governance leads outside the developing team), the password
    typed again from a browser session; an API token is refused (403)."""

    serializer_class = FindingAcceptanceSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return FindingAcceptance.objects.none()
        return FindingAcceptance.objects.select_related(
            "accepted_by", "finding", "signature__signer"
        )

    def create(self, request):
        data = FindingAcceptanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        via_token = not isinstance(request.successful_authenticator, SessionAuthentication)
        acceptance = acceptance_svc.finding_accept(
            by=request.user, via_token=via_token, **data.validated_data
        )
        return Response(
            FindingAcceptanceSerializer(self.get_queryset().get(pk=acceptance.pk)).data,
            status=status.HTTP_201_CREATED,
        )
