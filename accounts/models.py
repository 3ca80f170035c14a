"""Accounts' own records: API tokens (stored as a digest, never in clear) and role
grants that need a second governance lead (four-eyes)."""

from django.conf import settings
from django.db import models

from accounts.roles import Role


class ApiToken(models.Model):
    """One API token of one user. Only the SHA-256 of the secret is stored: the secret
    is shown once, when the token is created. A token stops working when it expires,
    is revoked, or its user's password changes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(
        max_length=8, help_text="The first characters of the secret, to recognise it."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class RoleGrant(models.Model):
    """A governance lead's request to give a person an approval role (approver, risk
    officer, governance lead). It takes effect only when a different governance lead
    confirms it; nobody requests a role for themselves."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second governance lead"
        CONFIRMED = "confirmed", "Confirmed"
        REFUSED = "refused", "Refused"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_grants"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status="pending"),
                name="accounts_rolegrant_one_pending_per_role",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")),
                name="accounts_rolegrant_not_for_oneself",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="confirmed")
                | ~models.Q(decided_by=models.F("requested_by")),
                name="accounts_rolegrant_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} for {self.user} ({self.get_status_display()})"


class SsoIdentity(models.Model):
    """The account at the OpenID provider that one user signs in as: the issuer and the
    subject (``sub``) of its ID tokens. A user created by single sign-on has one; a local
    account has none. Signatures under single sign-on need a fresh sign-in as this
    subject (``accounts.sso.stepup``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="sso_identity_unique_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
