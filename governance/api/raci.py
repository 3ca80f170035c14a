"""Step 3 API: the RACI catalogues and template (read), and each use case's matrix
with its people and violations (read for every role; cells and people written by the
use case's team and governance leads, through the services; the rows and columns that
decide who signs, and the people named for approval roles, by the second line only)."""

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.filters import parse_id
from accounts.serializers import OnlyTheseFieldsMixin
from governance import permissions
from governance.models import RaciAssignment, RaciRole, RaciTask, RaciTemplateCell
from governance.selectors import raci_view
from governance.services import raci_assign, raci_matrix_set, raci_unassign
from inventory.models import Team
from inventory.selectors import use_case_list


class RaciRoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RaciRole
        fields = ["code", "name", "level", "order"]


class RaciTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = RaciTask
        fields = ["code", "name", "description", "order"]


class RaciTemplateCellSerializer(serializers.ModelSerializer):
    task = serializers.SlugRelatedField(slug_field="code", read_only=True)
    role = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RaciTemplateCell
        fields = ["task", "role", "letters"]


class RaciCellSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    task = serializers.CharField(max_length=50)
    role = serializers.CharField(max_length=50)
    letters = serializers.CharField(max_length=7, allow_blank=True)


class RaciAssignmentSerializer(OnlyTheseFieldsMixin, serializers.ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="code", queryset=RaciRole.objects.all())
    user = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    assigned_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RaciAssignment
        fields = ["id", "role", "user", "team", "assigned_by", "assigned_at"]
        read_only_fields = ["id", "assigned_by", "assigned_at"]


class RaciMatrixSerializer(serializers.Serializer):
    use_case = serializers.IntegerField()
    complete = serializers.BooleanField()
    follows_template = serializers.BooleanField()
    cells = RaciCellSerializer(many=True)
    violations = serializers.ListField(child=serializers.DictField())
    assignments = RaciAssignmentSerializer(many=True)


class RaciCellsInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    cells = RaciCellSerializer(many=True, allow_empty=False)


def _matrix_data(use_case) -> dict:
    view = raci_view(use_case=use_case)
    return {
        "use_case": use_case.pk,
        "complete": view.complete,
        "follows_template": view.follows_template,
        "cells": [
            {"task": row["task"].code, "role": cell["role"].code, "letters": cell["letters"]}
            for row in view.rows
            for cell in row["cells"]
            if cell["letters"]
        ],
        "violations": [{"task": v.task, "message": v.message} for v in view.violations],
        "assignments": RaciAssignmentSerializer(
            use_case.raci_assignments.select_related("role", "user", "team", "assigned_by"),
            many=True,
        ).data,
    }


class RaciRoleViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RaciRoleSerializer
    lookup_field = "code"
    queryset = RaciRole.objects.order_by("order", "id")


class RaciTaskViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RaciTaskSerializer
    lookup_field = "code"
    queryset = RaciTask.objects.order_by("order", "id")


class RaciTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation's template matrix, one non-empty cell a row."""

    serializer_class = RaciTemplateCellSerializer
    queryset = RaciTemplateCell.objects.select_related("task", "role").order_by(
        "task__order", "role__order"
    )


class RaciMatrixViewSet(viewsets.GenericViewSet):
    """A use case's RACI matrix (``{id}`` is the use case's id)."""

    serializer_class = RaciMatrixSerializer

    def get_queryset(self):
        return use_case_list(user=self.request.user)

    def _use_case(self, pk, *, change: bool = False):
        pk = parse_id(pk)
        use_case = pk and self.get_queryset().filter(pk=pk).select_related("team").first()
        if use_case is None:
            raise NotFound("No such use case.")
        if change and not permissions.can_edit_raci(self.request.user, use_case):
            raise PermissionDenied(
                "Only the use case's team, risk officers and governance leads change its RACI."
            )
        return use_case

    def retrieve(self, request, pk=None):
        return Response(_matrix_data(self._use_case(pk)))

    @extend_schema(request=RaciCellsInputSerializer, responses=RaciMatrixSerializer)
    @action(detail=True, methods=["post"])
    def cells(self, request, pk=None):
        """Set cells; two Accountables for a task are refused (400, nothing written), and
        a cell that decides who signs by anyone but a risk officer or a governance lead
        (403, nothing written)."""
        use_case = self._use_case(pk, change=True)
        data = RaciCellsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cells = {(c["task"], c["role"]): c["letters"] for c in data.validated_data["cells"]}
        raci_matrix_set(use_case=use_case, cells=cells, by=request.user)
        return Response(_matrix_data(use_case))

    @extend_schema(request=RaciAssignmentSerializer, responses=RaciMatrixSerializer)
    @action(detail=True, methods=["post"])
    def assignments(self, request, pk=None):
        """Name a person (username) or a team (slug) for a role."""
        use_case = self._use_case(pk, change=True)
        data = RaciAssignmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raci_assign(
            use_case=use_case,
            role=data.validated_data["role"],
            user=data.validated_data.get("user"),
            team=data.validated_data.get("team"),
            by=request.user,
        )
        return Response(_matrix_data(use_case), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"assignments/(?P<assignment_id>\d+)")
    def remove_assignment(self, request, pk=None, assignment_id=None):
        use_case = self._use_case(pk, change=True)
        assignment = use_case.raci_assignments.filter(pk=assignment_id).first()
        if assignment is None:
            raise NotFound("No such assignment.")
        raci_unassign(assignment=assignment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
