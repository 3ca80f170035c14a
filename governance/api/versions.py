"""Step 5 API, version scope (issue 12): change declarations. The requester declares a
version's change from an earlier one not material; the second line signs its
confirmation (``confirm``: a browser session and the password typed again, never a
token), after which the evidence the policy lets carry over serves the new version.
Declarations and confirmations are append-only. Every rule is checked in the services
(403 / 400, nothing written)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from governance.models import ChangeDeclaration
from governance.services import change_confirm, change_declare
from inventory.models import ModelVersion
from inventory.selectors import use_case_list


class ChangeDeclarationSerializer(serializers.ModelSerializer):
    declared_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SerializerMethodField()
    confirmed_at = serializers.SerializerMethodField()
    confirmation_note = serializers.SerializerMethodField()
    confirmation_printed_name = serializers.SerializerMethodField()

    class Meta:
        model = ChangeDeclaration
        fields = [
            "id",
            "model_version",
            "previous",
            "same_training_data",
            "same_features",
            "note",
            "declared_by",
            "declared_at",
            "confirmed_by",
            "confirmed_at",
            "confirmation_note",
            "confirmation_printed_name",
        ]
        read_only_fields = fields

    @staticmethod
    def _confirmation(obj):
        return getattr(obj, "confirmation", None)

    def get_confirmed_by(self, obj) -> str | None:
        c = self._confirmation(obj)
        return c.confirmed_by.get_username() if c else None

    def get_confirmed_at(self, obj) -> str | None:
        c = self._confirmation(obj)
        return serializers.DateTimeField().to_representation(c.confirmed_at) if c else None

    def get_confirmation_note(self, obj) -> str | None:
        c = self._confirmation(obj)
        return c.note if c else None

    def get_confirmation_printed_name(self, obj) -> str | None:
        c = self._confirmation(obj)
        return c.printed_name if c else None


class DeclareInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    previous = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    same_training_data = serializers.BooleanField()
    same_features = serializers.BooleanField()
    note = serializers.CharField(max_length=2000)


class ChangeConfirmInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        write_only=True,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=API_PASSWORD_HELP,
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ChangeDeclarationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ChangeDeclarationSerializer

    def get_queryset(self):
        return ChangeDeclaration.objects.select_related(
            "declared_by", "confirmation__confirmed_by"
        ).filter(
            model_version__model__use_case__in=use_case_list(user=self.request.user).values("pk")
        )

    @extend_schema(request=DeclareInputSerializer, responses=ChangeDeclarationSerializer)
    def create(self, request, *args, **kwargs):
        data = DeclareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        declaration = change_declare(by=request.user, version=values.pop("model_version"), **values)
        return Response(
            ChangeDeclarationSerializer(declaration).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=ChangeConfirmInputSerializer, responses=ChangeDeclarationSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Sign the confirmation (risk officers, governance leads, validators; not the
        declarer or an author; password typed again; a browser session, never a token)."""
        declaration = self.get_object()
        data = ChangeConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            change_confirm(
                declaration=declaration,
                by=request.user,
                password=data.validated_data["password"],
                note=data.validated_data.get("note", ""),
                via_token=not isinstance(request.successful_authenticator, SessionAuthentication),
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError(detail) from exc
        declaration = self.get_queryset().get(pk=declaration.pk)
        return Response(ChangeDeclarationSerializer(declaration).data)
