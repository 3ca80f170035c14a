"""The second line's side of Step 1 in the API (issue 12): a risk officer's signed
confirmation of a High or Critical classification, and a use case's regulatory
requirements with whether each is met and by what evidence."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import HasGovernanceRole
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from governance.models import ClassificationConfirmation
from governance.selectors.classification import (
    classification_blocking,
    classification_confirmation_for,
    classification_downgrade_pending,
    classification_needs_confirmation,
)
from governance.selectors.regulations import requirements_for_use_case
from governance.services import classification_confirm
from inventory.selectors import use_case_list


class ConfirmInputSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        trim_whitespace=False, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ConfirmationSerializer(serializers.ModelSerializer):
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClassificationConfirmation
        fields = [
            "id",
            "use_case",
            "classification",
            "risk_tier",
            "confirmed_by",
            "printed_name",
            "confirmed_at",
            "meaning",
            "note",
        ]


def _obligation(o) -> dict | None:
    if o is None:
        return None
    return {
        "id": o.pk,
        "level": o.level,
        "status": o.status,
        "owner": o.owner.get_username() if o.owner_id else None,
        "due_date": o.due_date,
        "evidence_sha256": o.evidence_sha256 or None,
        "evidence_link": o.evidence_link or None,
        "evidence_name": o.evidence_name or None,
    }


def requirements_as_data(rows: list[dict]) -> list[dict]:
    return [
        {
            "regulation": row["regulation"].code,
            "regulation_name": row["regulation"].name,
            "requirement": row["requirement"].code,
            "text": row["requirement"].text,
            "state": row["state"],
            "state_label": row["state_label"],
            "met": row["met"],
            "evidence": [
                {
                    "consideration": p["consideration"],
                    "min_level": p["min_level"],
                    "state": p["state"],
                    "obligation": _obligation(p["obligation"]),
                }
                for p in row["parts"]
            ],
        }
        for row in rows
    ]


class UseCaseSecondLineViewSet(viewsets.GenericViewSet):
    """``use-cases/{id}/requirements/`` and ``use-cases/{id}/classification-confirmation/``."""

    permission_classes = [HasGovernanceRole]
    serializer_class = ConfirmationSerializer

    def get_queryset(self):
        return use_case_list(user=self.request.user)

    @extend_schema(
        summary="The use case's regulatory requirements: met or not, by what evidence",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def requirements(self, request, pk=None):
        use_case = self.get_object()
        return Response(
            {
                "use_case": use_case.pk,
                "results": requirements_as_data(requirements_for_use_case(use_case=use_case)),
            }
        )

    @extend_schema(
        methods=["POST"],
        summary="Confirm the High or Critical classification (risk officers; password; "
        "never with a token)",
        request=ConfirmInputSerializer,
        responses={201: ConfirmationSerializer},
    )
    @extend_schema(
        methods=["GET"],
        summary="Whether the classification needs and has a confirmation",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="classification-confirmation",
        filter_backends=[],
    )
    def classification_confirmation(self, request, pk=None):
        use_case = self.get_object()
        if request.method == "GET":
            confirmation = classification_confirmation_for(use_case=use_case)
            waiting = classification_downgrade_pending(use_case=use_case)
            return Response(
                {
                    "needed": classification_needs_confirmation(use_case=use_case)
                    or waiting is not None,
                    # A lower tier the latest answers give, waiting for a confirmation.
                    "lower_tier_waiting": waiting.risk_tier if waiting else None,
                    "confirmation": ConfirmationSerializer(confirmation).data
                    if confirmation
                    else None,
                    "blocking": [
                        {"code": c, "message": m}
                        for c, m in classification_blocking(use_case, "prod")
                    ],
                }
            )
        data = ConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        via_session = isinstance(request.successful_authenticator, SessionAuthentication)
        try:
            confirmation = classification_confirm(
                use_case=use_case,
                by=request.user,
                password=data.validated_data["password"],
                note=data.validated_data.get("note", ""),
                via_token=not via_session,
            )
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError(detail) from exc
        return Response(ConfirmationSerializer(confirmation).data, status=201)
