"""A use case's Step 1 classification in the API, under the use case's own path:
``/api/v1/use-cases/{id}/classification/`` (GET the latest, POST answers to classify)
and ``/api/v1/use-cases/{id}/classifications/`` (every one, newest first)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from accounts.permissions import HasGovernanceRole
from governance.api.serializers import ClassificationSerializer, ClassificationSubmitSerializer
from governance.selectors import classification_latest, classification_list
from governance.services import classification_submit
from inventory import permissions
from inventory.selectors import use_case_list


class CanClassify(HasGovernanceRole):
    """Risk officers (re)classify any use case; data scientists their own team's."""

    message = "You can only classify your own team's use cases."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or permissions.can_classify(request.user, obj)


class UseCaseClassificationViewSet(viewsets.GenericViewSet):
    """Only the two actions: the use case itself is the inventory's (``use-cases/``)."""

    permission_classes = [HasGovernanceRole]
    # What OPTIONS describes for the POST (DRF's metadata asks the view for a
    # serializer: without one, OPTIONS was a 500; issue 13, Schemathesis).
    serializer_class = ClassificationSubmitSerializer

    def get_queryset(self):
        return use_case_list(user=self.request.user)

    @extend_schema(
        methods=["GET"],
        summary="The latest classification of a use case",
        responses={
            200: ClassificationSerializer,
            404: OpenApiResponse(description="Never classified."),
        },
    )
    @extend_schema(
        methods=["POST"],
        summary="Answer the Step 1 questionnaire and classify the use case",
        request=ClassificationSubmitSerializer,
        responses={201: ClassificationSerializer},
    )
    @action(
        detail=True, methods=["get", "post"], permission_classes=[CanClassify], filter_backends=[]
    )
    def classification(self, request, pk=None):
        use_case = self.get_object()
        if request.method == "GET":
            latest = classification_latest(use_case=use_case)
            if latest is None:
                raise NotFound("This use case has not been classified yet.")
            return Response(ClassificationSerializer(latest).data)
        submitted = ClassificationSubmitSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        try:
            classification = classification_submit(
                use_case=use_case, by=request.user, **submitted.validated_data
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError({"answers": detail}) from exc
        return Response(ClassificationSerializer(classification).data, status=201)

    @extend_schema(
        summary="Every classification of a use case, newest first",
        responses=ClassificationSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def classifications(self, request, pk=None):
        use_case = self.get_object()
        page = self.paginate_queryset(classification_list(use_case=use_case))
        return self.get_paginated_response(ClassificationSerializer(page, many=True).data)
