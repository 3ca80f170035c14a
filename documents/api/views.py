"""The API of evidence packs (``/api/v1/evidence-packs/``): list, read, ask for one
(202: a worker builds it; poll the row) and download it (``{id}/file/``). The same
people as the pages (governance leads, risk officers, auditors); anyone else sees an
empty list, a 404 for a row, and a 403 when asking for one."""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.filters import IdFilter, ListFiltersOnlyMixin
from accounts.permissions import has_any_role
from accounts.serializers import OnlyTheseFieldsMixin
from accounts.sso.signing import API_PASSWORD_HELP
from audit.downloads import download_api, download_schema
from documents import services as svc
from documents.models import DocumentSignature, EvidencePack, GeneratedDocument
from documents.selectors import packs as sel
from documents.selectors.documents import document_download
from documents.services import generation, signing
from inventory.models import ModelVersion, UseCase


class EvidencePackSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    label = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvidencePack
        fields = [
            "id",
            "scope",
            "label",
            "use_case",
            "model_version",
            "date_from",
            "date_to",
            "status",
            "percent",
            "stage",
            "steps_done",
            "steps_total",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "error",
            "sha256",
            "size",
            "manifest_digest",
            "verifier_sha256",
            "counts",
        ]
        read_only_fields = fields


class EvidencePackRequestSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    scope = serializers.ChoiceField(choices=EvidencePack.Scope.choices)
    use_case = serializers.PrimaryKeyRelatedField(
        queryset=UseCase.objects.all(), required=False, allow_null=True
    )
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.select_related("model"), required=False, allow_null=True
    )
    date_from = serializers.DateField(required=False, allow_null=True)
    date_to = serializers.DateField(required=False, allow_null=True)


class AnyRoleAsksTheService(BasePermission):
    """Anyone with a role reaches the endpoint; the service decides who makes a pack
    (auditors do, although the API is otherwise read-only for them)."""

    message = "You need a governance role to use this API."

    def has_permission(self, request, view) -> bool:
        return has_any_role(request.user)


class EvidencePackViewSet(ListFiltersOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """Evidence packs: every record, evidence file, signature and the audit-trail segment
    of a use case, a version or the portfolio over a date range, with an offline
    verifier (``python3 verify.py``)."""

    serializer_class = EvidencePackSerializer
    permission_classes = [AnyRoleAsksTheService]

    def get_queryset(self):
        return sel.evidence_pack_list(self.request.user)

    @extend_schema(request=EvidencePackRequestSerializer, responses={202: EvidencePackSerializer})
    def create(self, request):
        data = EvidencePackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pack = svc.evidence_pack_request(user=request.user, **data.validated_data)
        return Response(EvidencePackSerializer(pack).data, status=status.HTTP_202_ACCEPTED)

    @download_schema(
        summary="Download an evidence pack (ZIP)",
        not_found="No such pack, not readable, or not built yet.",
    )
    @action(detail=True, methods=["get"], url_path="file")
    def file(self, request, pk=None):
        pack = self.get_object()
        download = sel.pack_download(pack)
        if download is None:
            raise Http404("The pack is not built yet.")
        response = download_api(**download)
        if response.status_code == 200:
            svc.evidence_pack_downloaded(pack=pack, user=request.user)
        return response


class DocumentSignatureSerializer(serializers.ModelSerializer):
    signer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DocumentSignature
        fields = [
            "id",
            "signer",
            "printed_name",
            "signed_at",
            "meaning",
            "manifest",
            "manifest_hash",
            "auth_method",
        ]
        read_only_fields = fields


class GeneratedDocumentSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Null for the report the monthly schedule makes.",
    )
    signature = serializers.SerializerMethodField()

    @extend_schema_field(DocumentSignatureSerializer(allow_null=True))
    def get_signature(self, obj) -> dict | None:
        signature = getattr(obj, "signature", None)
        return DocumentSignatureSerializer(signature).data if signature else None

    class Meta:
        model = GeneratedDocument
        fields = [
            "id",
            "kind",
            "model_version",
            "use_case",
            "as_of",
            "status",
            "stage",
            "percent",
            "error",
            "content_sha256",
            "template",
            "missing_count",
            "pdf_sha256",
            "pdf_size",
            "pdf_unavailable",
            "docx_sha256",
            "docx_size",
            "signature",
            "signed_pdf_sha256",
            "signed_pdf_size",
            "signed_docx_sha256",
            "signed_docx_size",
            "requested_by",
            "requested_at",
            "finished_at",
        ]
        read_only_fields = fields


class DocumentRequestSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    """A document of a model version, of a use case as a whole, or the portfolio report
    (``kind`` portfolio_report, neither named)."""

    kind = serializers.ChoiceField(choices=GeneratedDocument.Kind.choices)
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.select_related("model__use_case"),
        required=False,
        allow_null=True,
    )
    use_case = serializers.PrimaryKeyRelatedField(
        queryset=UseCase.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs):
        named = [k for k in ("model_version", "use_case") if attrs.get(k) is not None]
        if attrs["kind"] == GeneratedDocument.Kind.PORTFOLIO_REPORT:
            if named:
                raise serializers.ValidationError(
                    "The portfolio report names no version and no use case."
                )
        elif len(named) != 1:
            raise serializers.ValidationError("Name one model_version or one use_case.")
        return attrs


class DocumentSignSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, style={"input_type": "password"}, help_text=API_PASSWORD_HELP
    )


class DocumentFilter(django_filters.FilterSet):
    model_version = IdFilter()
    use_case = IdFilter()

    class Meta:
        model = GeneratedDocument
        fields = ["kind", "status", "model_version", "use_case"]


class GeneratedDocumentViewSet(ListFiltersOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """Governance documents of model versions and of use cases as a whole (Annex IV
    technical documentation, validation report, model card) and the portfolio report:
    everyone with a role reads them; data scientists, validators, risk officers and
    governance leads ask for them, the portfolio report risk officers and leads (202;
    the same records give the same document back, 200). Files: ``{id}/pdf/`` and
    ``{id}/docx/``; a signed report's ``{id}/signed-pdf/`` and ``{id}/signed-docx/``;
    its validator signs it at ``{id}/sign/``."""

    serializer_class = GeneratedDocumentSerializer
    permission_classes = [AnyRoleAsksTheService]
    filterset_class = DocumentFilter

    def get_queryset(self):
        return GeneratedDocument.objects.select_related(
            "requested_by", "model_version__model", "use_case", "signature__signer"
        ).defer("content")

    @extend_schema(
        request=DocumentRequestSerializer,
        responses={200: GeneratedDocumentSerializer, 202: GeneratedDocumentSerializer},
    )
    def create(self, request):
        data = DocumentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind, named = data.validated_data["kind"], data.validated_data
        if kind == GeneratedDocument.Kind.PORTFOLIO_REPORT:
            document, queued = generation.portfolio_report_request(user=request.user)
        elif named.get("use_case") is not None:
            document, queued = generation.use_case_document_request(
                user=request.user, use_case=named["use_case"], kind=kind
            )
        else:
            document, queued = generation.document_request(
                user=request.user, version=named["model_version"], kind=kind
            )
        return Response(
            GeneratedDocumentSerializer(document).data,
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK,
        )

    def _file(self, request, fmt: str):
        document = self.get_object()
        download = document_download(document, fmt)
        if download is None:
            raise Http404(f"No {fmt.upper()} file (not rendered yet, or not available).")
        response = download_api(**download)
        if response.status_code == 200:
            generation.document_downloaded(document=document, user=request.user, fmt=fmt)
        return response

    @download_schema(summary="Download a document as PDF", not_found="No such document or PDF.")
    @action(detail=True, methods=["get"], url_path="pdf")
    def pdf(self, request, pk=None):
        return self._file(request, "pdf")

    @download_schema(summary="Download a document as Word", not_found="No such document.")
    @action(detail=True, methods=["get"], url_path="docx")
    def docx(self, request, pk=None):
        return self._file(request, "docx")

    @download_schema(
        summary="Download a signed report as PDF", not_found="No such document or signed PDF."
    )
    @action(detail=True, methods=["get"], url_path="signed-pdf")
    def signed_pdf(self, request, pk=None):
        return self._file(request, "signed-pdf")

    @download_schema(
        summary="Download a signed report as Word", not_found="No such document or signed file."
    )
    @action(detail=True, methods=["get"], url_path="signed-docx")
    def signed_docx(self, request, pk=None):
        return self._file(request, "signed-docx")

    @extend_schema(
        request=DocumentSignSerializer,
        responses={201: GeneratedDocumentSerializer},
        description='Sign a validation report with the meaning "validated" (its validator '
        "only), the password typed again, from a browser session; an API token is refused "
        "(403). The report is then printed again with the signature.",
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        document = self.get_object()
        via_token = not isinstance(request.successful_authenticator, SessionAuthentication)
        if via_token:
            signing.document_sign(document=document, by=request.user, password="", via_token=True)
        why = signing.document_sign_refusal(document=document, by=request.user)
        if why:
            signing.document_signing_refused(document=document, by=request.user, why=why)
            return Response({"detail": why}, status=status.HTTP_403_FORBIDDEN)
        data = DocumentSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signing.document_sign(document=document, by=request.user, **data.validated_data)
        fresh = self.get_queryset().get(pk=document.pk)
        return Response(GeneratedDocumentSerializer(fresh).data, status=status.HTTP_201_CREATED)
