"""Inventory API: use cases, teams, models, model versions and datasets (a use case's
classification is governance's: ``governance/api/classification.py``).

Reads go through selectors with ``user=request.user``; writes go through
``inventory.services``, which validate, run in one
transaction and check the writer's team again. There is no delete: a use case is
retired through its status; versions and classifications are records.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from accounts.api import SearchFilter
from accounts.permissions import HasGovernanceRole
from inventory import permissions, services
from inventory.api.serializers import (
    DatasetSerializer,
    MLModelSerializer,
    MLModelUpdateSerializer,
    ModelVersionMetricsSerializer,
    ModelVersionSerializer,
    TeamSerializer,
    UseCaseSerializer,
)
from inventory.filters import (
    DatasetFilterSet,
    MLModelFilterSet,
    ModelVersionFilterSet,
    UseCaseFilterSet,
)
from inventory.selectors import (
    dataset_list,
    ml_model_list,
    model_version_list,
    team_list,
    use_case_list_detailed,
)

# --- Permissions ----------------------------------------------------------------


class InventoryPermission(HasGovernanceRole):
    """Every role reads. Creating needs ``view.can_create(user)``; changing a row needs
    ``view.can_change(user, row)`` (both from inventory.permissions): data scientists
    write for their own teams, governance leads for all."""

    message = "You can only change the inventory of your own team."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or getattr(view, "action", None) != "create":
            return True
        return view.can_create(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or view.can_change(request.user, obj)


class InventoryViewSet(viewsets.GenericViewSet):
    permission_classes = [InventoryPermission]
    can_create = staticmethod(permissions.can_create_use_case)

    def refetch(self, obj):
        """The row as the list shows it (annotations, prefetches) after a write."""
        return self.get_queryset().get(pk=obj.pk)


# --- Use cases ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List use cases (filter, search, order, paginate)"),
    create=extend_schema(summary="Register a use case"),
    update=extend_schema(summary="Change a use case (retire it with status=retired)"),
    partial_update=extend_schema(summary="Change some fields of a use case"),
)
class UseCaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    InventoryViewSet,
):
    serializer_class = UseCaseSerializer
    filterset_class = UseCaseFilterSet
    search_fields = ["name", "purpose", "team__name"]
    ordering_fields = ["name", "status", "risk_tier", "criticality", "created_at", "updated_at"]
    ordering = ["name"]
    can_change = staticmethod(permissions.can_change_use_case)

    def get_queryset(self):
        return use_case_list_detailed(user=self.request.user)

    def perform_create(self, serializer):
        use_case = services.use_case_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.refetch(use_case)

    def perform_update(self, serializer):
        use_case = services.use_case_update(
            use_case=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.refetch(use_case)


# --- Teams ----------------------------------------------------------------------


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug"]
    ordering = ["name"]

    def get_queryset(self):
        return team_list()


# --- Models and versions --------------------------------------------------------


@extend_schema_view(
    partial_update=extend_schema(
        summary="Change a model's description", request=MLModelUpdateSerializer
    ),
)
class MLModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, InventoryViewSet
):
    serializer_class = MLModelSerializer
    filterset_class = MLModelFilterSet
    search_fields = ["name", "description", "use_case__name"]
    ordering_fields = ["name", "created_at", "use_case__name"]
    can_change = staticmethod(permissions.can_change_model)

    def get_queryset(self):
        return ml_model_list(user=self.request.user)

    def perform_create(self, serializer):
        ml_model = services.ml_model_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.refetch(ml_model)

    def partial_update(self, request, pk=None):
        ml_model = self.get_object()
        changes = MLModelUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        ml_model = services.ml_model_update(
            ml_model=ml_model, by=request.user, **changes.validated_data
        )
        return Response(self.get_serializer(self.refetch(ml_model)).data)


@extend_schema_view(
    create=extend_schema(
        summary="Register a model version (idempotent on model + version_label)",
        description=(
            "201 with the new version; 200 with the existing version when the same "
            "model, version_label and artifact_sha256 are registered again; 400 with an "
            "`artifact_sha256` error when the label exists with another SHA-256."
        ),
        responses={
            201: ModelVersionSerializer,
            200: OpenApiResponse(ModelVersionSerializer, description="Already registered."),
        },
    ),
    partial_update=extend_schema(
        summary="Add or overwrite evaluation metrics (merged; nothing else changes)",
        request=ModelVersionMetricsSerializer,
    ),
)
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InventoryViewSet):
    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilterSet
    search_fields = ["version_label", "model__name", "framework"]
    ordering_fields = ["registered_at", "version_label", "environment"]
    can_change = staticmethod(permissions.can_change_version)

    def get_queryset(self):
        return model_version_list(user=self.request.user)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version, created = services.model_version_register(
            by=request.user, **serializer.validated_data
        )
        data = self.get_serializer(self.refetch(version)).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def partial_update(self, request, pk=None):
        version = self.get_object()
        changes = ModelVersionMetricsSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        version = services.model_version_update_metrics(
            version=version, by=request.user, **changes.validated_data
        )
        return Response(self.get_serializer(self.refetch(version)).data)


# --- Datasets -------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(summary="Change a dataset; `columns`, when given, replaces the list"),
    partial_update=extend_schema(summary="Change some fields of a dataset"),
)
class DatasetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    InventoryViewSet,
):
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilterSet
    search_fields = ["name", "description", "source"]
    ordering_fields = ["name", "created_at", "updated_at"]
    can_create = staticmethod(permissions.can_create_dataset)
    can_change = staticmethod(permissions.can_change_dataset)

    def get_queryset(self):
        return dataset_list(user=self.request.user)

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        columns = [dict(column) for column in fields.pop("columns", [])]
        dataset = services.dataset_create(by=self.request.user, columns=columns, **fields)
        serializer.instance = self.refetch(dataset)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        columns = fields.pop("columns", None)
        dataset = services.dataset_update(
            dataset=serializer.instance,
            by=self.request.user,
            columns=None if columns is None else [dict(column) for column in columns],
            **fields,
        )
        serializer.instance = self.refetch(dataset)
