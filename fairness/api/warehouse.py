"""Warehouse connections API (issue 17): everyone with a role lists them (to choose one
for a query source); only governance leads register and change them (the service
decides: 403 otherwise). A connection shows the name of the variable holding its
secret and whether this server has it set, never the secret."""

import os

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from fairness import services as svc
from fairness.models import WarehouseConnection


class WarehouseConnectionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    secret_set = serializers.SerializerMethodField(
        help_text="Whether this server has the secret's variable set (never its value)."
    )

    class Meta:
        model = WarehouseConnection
        fields = [
            "id",
            "name",
            "engine",
            "dialect",
            "secret_env",
            "secret_set",
            "description",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_secret_set(self, obj) -> bool:
        return bool(os.environ.get(obj.secret_env))


class WarehouseConnectionCreateSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    name = serializers.SlugField(max_length=60)
    engine = serializers.ChoiceField(choices=WarehouseConnection.Engine.choices)
    secret_env = serializers.CharField(max_length=100)
    dialect = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class WarehouseConnectionChangeSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    secret_env = serializers.CharField(max_length=100, required=False)
    dialect = serializers.CharField(max_length=20, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WarehouseConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Registered warehouse connections (read by all roles; written by governance leads)."""

    serializer_class = WarehouseConnectionSerializer
    parser_classes = [JSONParser]
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if not has_any_role(self.request.user):
            return WarehouseConnection.objects.none()
        return WarehouseConnection.objects.select_related("created_by").order_by("name")

    @extend_schema(
        request=WarehouseConnectionCreateSerializer, responses={201: WarehouseConnectionSerializer}
    )
    def create(self, request):
        """Register a connection (governance leads): its secret stays in the environment."""
        data = WarehouseConnectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = svc.warehouse_connection_register(by=request.user, **data.validated_data)
        return Response(
            WarehouseConnectionSerializer(connection).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=WarehouseConnectionChangeSerializer, responses={200: WarehouseConnectionSerializer}
    )
    def partial_update(self, request, pk=None):
        """Change the secret's variable, dialect or description, or switch it off/on."""
        data = WarehouseConnectionChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = svc.warehouse_connection_update(
            connection=self.get_object(), by=request.user, changes=data.validated_data
        )
        return Response(WarehouseConnectionSerializer(connection).data)
