"""Single sign-on with OpenID Connect (issue 17), read from the environment
(``governance.settings`` has loaded ``.env`` into it before importing this module).
Off unless ``OIDC_ISSUER`` and ``OIDC_RP_CLIENT_ID`` are set; every variable is in
``.env.example``. The provider's endpoints come from its discovery document unless
given one by one. See README, "Single sign-on"."""

import environ

env = environ.Env()

OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
# Where the discovery document is, when not at the issuer's /.well-known/ path.
OIDC_DISCOVERY_URL = env("OIDC_DISCOVERY_URL", default="")
# Endpoints given one by one win over the discovery document's.
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile groups")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
# The claim that lists the person's groups, and which of its values give which of the
# product's roles ("claim value=role code", comma-separated). Roles are recomputed from
# it at every sign-in, added and removed; a value not listed gives nothing.
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ROLE_MAP = env.dict("OIDC_ROLE_MAP", default={})
# The name on the sign-in button and in messages.
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT_SECONDS", default=10.0)
# A signed-in SSO account is checked with the provider (its userinfo endpoint) at most
# this often; an account the provider no longer knows is locked here.
OIDC_ACCOUNT_CHECK_SECONDS = env.int("OIDC_ACCOUNT_CHECK_SECONDS", default=60)
# After this long the session's tokens are renewed silently (prompt=none).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=900)
# A signature under SSO needs a sign-in at the provider at most this many seconds old.
OIDC_STEPUP_MAX_AGE_SECONDS = env.int("OIDC_STEPUP_MAX_AGE_SECONDS", default=120)
SSO_ENABLED = bool(OIDC_ISSUER and OIDC_RP_CLIENT_ID)
# Local accounts (username + password) stay for the embedded default; switch them off
# when everyone signs in through the provider (signing with a password goes with them).
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)

# mozilla-django-oidc's settings, fixed by the product.
OIDC_USE_PKCE = True
OIDC_STORE_ACCESS_TOKEN = True
OIDC_CREATE_USER = True
OIDC_CALLBACK_CLASS = "accounts.sso.views.SsoCallbackView"
OIDC_AUTHENTICATE_CLASS = "accounts.sso.views.SsoAuthenticateView"

# django-axes' lockout check first (accounts.lockout), then local passwords (unless
# switched off), then the provider's code flow.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "accounts.sso.backends.LocalPasswordBackend",
    "accounts.sso.backends.SsoBackend",
]
