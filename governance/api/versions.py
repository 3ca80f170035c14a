"""Step 5 API, version scope (issue 12): change declarations. The requester declares a
version's change from an earlier one not material; a second-line reviewer confirms it
(``confirm``), after which the evidence the policy lets carry over serves the new
version. Every rule is checked in the services (403 / 400, nothing written)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.serializers import OnlyTheseFieldsMixin
from governance.models import ChangeDeclaration
from governance.services import change_confirm, change_declare
from inventory.models import ModelVersion
from inventory.selectors import use_case_list


class ChangeDeclarationSerializer(serializers.ModelSerializer):
    declared_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

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
        ]
        read_only_fields = fields


class DeclareInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    previous = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    same_training_data = serializers.BooleanField()
    same_features = serializers.BooleanField()
    note = serializers.CharField(max_length=2000)


class ChangeConfirmInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ChangeDeclarationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ChangeDeclarationSerializer

    def get_queryset(self):
        return ChangeDeclaration.objects.select_related("declared_by", "confirmed_by").filter(
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
        """Confirm (risk officers and governance leads, not the declarer or an author)."""
        declaration = self.get_object()
        data = ChangeConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change_confirm(
            declaration=declaration, by=request.user, note=data.validated_data.get("note", "")
        )
        declaration.refresh_from_db()
        return Response(ChangeDeclarationSerializer(declaration).data)
