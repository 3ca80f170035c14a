"""The ID token checks the library leaves out (issue 17): the backend refuses a token
from another issuer, for another application, expired, or signed with another
algorithm, each with its own reason (tokens signed here with a real RSA key; the
flow through the provider is in test_sso.py)."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.sso.backends import SsoBackend, SsoRefused

ISSUER = "https://login.example.org"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def backend(settings):
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "model-governance"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    return SsoBackend()


def token(algorithm="RS256", key=KEY, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "model-governance", "sub": "risk", "iat": now, "exp": now + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm=algorithm)


def test_a_good_token_passes(backend):
    assert backend._verify_jws(token(), KEY.public_key())["sub"] == "risk"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://elsewhere.example.org"}, "another provider"),
        ({"aud": "another-app"}, "another application"),
        ({"exp": int(time.time()) - 3600}, "has expired"),
    ],
)
def test_a_token_from_elsewhere_for_another_app_or_expired_is_refused(backend, claims, reason):
    with pytest.raises(SsoRefused, match=reason):
        backend._verify_jws(token(**claims), KEY.public_key())


def test_another_algorithm_or_key_is_refused(backend):
    with pytest.raises(SsoRefused, match="another algorithm"):
        backend._verify_jws(
            token(algorithm="HS256", key="a-shared-secret-of-32-bytes-length!"), KEY
        )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SsoRefused, match="could not be verified"):
        backend._verify_jws(token(key=other), KEY.public_key())
