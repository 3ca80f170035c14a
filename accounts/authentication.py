"""API token authentication against hashed tokens (``accounts.models.ApiToken``).

``Authorization: Token <secret>`` as before (DRF's header parsing and its
``WWW-Authenticate: Token`` answer are kept by subclassing its class); the secret is
looked up by its SHA-256, and a revoked or expired token, or an inactive user, is a
401 with a reason.
"""

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken
from accounts.services import api_token_touch, token_digest


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This token was revoked (" + (token.revoked_reason or "revoked") + "): "
                "obtain a new one."
            )
        if token.expires <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired: obtain a new one.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        api_token_touch(token=token)
        return token.user, token
