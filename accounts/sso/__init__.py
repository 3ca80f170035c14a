"""Single sign-on with OpenID Connect (issue 17), on mozilla-django-oidc.

- ``provider``: the provider's endpoints (explicit settings, else its discovery
  document, fetched once and kept) and its clear failure, ``SsoUnavailable``.
- ``backends``: the code flow's backend (ID token checked for issuer, audience, expiry
  and nonce; users created just in time and matched by issuer + subject, never by
  e-mail; roles recomputed from the groups claim at every sign-in) and the local
  password backend, which ``LOCAL_LOGIN_ENABLED=false`` switches off.
- ``middleware``: an account the provider no longer knows is locked here at the next
  request (userinfo answers 401) and the tokens are renewed silently when they age.
- ``stepup``: re-authentication for signatures: ``prompt=login`` + ``max_age=0``, the
  state and nonce bound to one pending signature, a fresh ``auth_time`` for the same
  subject; the higher apps register what completes each kind of signature.
- ``hooks``: the audit scope role changes are recorded under (accounts sits below the
  audit app: ``governance.audit_hooks`` registers it).
"""
