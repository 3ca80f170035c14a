"""The token endpoint (``POST /api/v1/auth/token/``): username and password in, a new
API token out, ``{"token": <secret>, "expires": <when>}``. The secret is shown this
once; only its SHA-256 is kept.

Credentials are checked by ``django.contrib.auth.authenticate`` with the underlying
Django request, so django-axes counts failures and refuses a locked account or
address here as on the login page (its middleware turns the answer into a 403 that
says so: ``accounts.lockout``).
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import OnlyTheseFieldsMixin
from accounts.services import api_token_create


class TokenObtainSerializer(OnlyTheseFieldsMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once: store it now.")
    expires = serializers.DateTimeField()


class TokenObtainView(APIView):
    """A new API token for a user who gives their username and password."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        request=TokenObtainSerializer,
        responses={
            200: TokenSerializer,
            400: inline_serializer(
                "TokenRefused",
                {
                    "non_field_errors": serializers.ListField(required=False),
                    "username": serializers.ListField(required=False),
                    "password": serializers.ListField(required=False),
                },
            ),
        },
    )
    def post(self, request):
        given = TokenObtainSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=given.validated_data["username"],
            password=given.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"non_field_errors": ["Unable to log in with provided credentials."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # The person proved who they are in this request: the audit trail names them
        # as the one who obtained the token (DRF passes this on to the Django request).
        request.user = user
        token, secret = api_token_create(user=user, name="token endpoint")
        return Response(TokenSerializer({"token": secret, "expires": token.expires}).data)
