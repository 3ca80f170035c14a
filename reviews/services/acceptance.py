"""The risk acceptance of a finding instead of its remediation (issues 12 and 16): a
signed act, by the same Part 11 path as a validation's signature, by the authority the
policy names for the finding's severity, for at most the days it allows. The finding's
status becomes "risk accepted" until the expiry; the day after, the nightly sweep opens
it again (``reviews.services.findings.findings_reopen_expired``), and an expired
acceptance never counts meanwhile.

The acceptor types their password again (an API token never signs; wrong passwords
are counted by the signing lockout, ``reviews.services.signers``); the acceptance is
recorded with a ``Signature`` of meaning "risk accepted" binding the finding, the
version's artifact, the reason and the expiry. Who may accept is decided by
``reviews.selectors.findings.finding_accept_refusal`` before any password is checked;
a refused attempt leaves a ``signature.refused`` audit event. Nothing is written on
any refusal.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.sso.signing import Credential
from accounts.sso.stepup import password_signing_refusal
from audit.services import audit_record
from core import finding_rules as fr
from core import promotion_rules as rules
from governance.selectors.policy import policy_finding_rules
from governance.services.signing import reauthentication_record
from reviews.models import Finding, FindingAcceptance, FindingEvent, Signature
from reviews.selectors.findings import acceptance_manifest, finding_accept_refusal
from reviews.services.findings import finding_event
from reviews.services.signers import check_signing_password

# The longest any risk acceptance may run (the policy sets less per severity):
# accepted risks come back for a decision.
ACCEPTANCE_MAX_DAYS = fr.MAX_ACCEPTANCE_DAYS
# Messages, not secrets (S105 reads "PASSWORD" and "TOKEN" in the names).
NO_PASSWORD = "Type your password again: accepting a finding's risk is a signed act."  # noqa: S105
TOKEN_REFUSAL = "An API token cannot sign: sign in the browser and re-enter your password."  # noqa: S105


def _printed_name(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def finding_accept_refused(*, finding: Finding, by: User, why: str) -> None:
    """Record a refused acceptance attempt (its own transaction: it survives the
    refusal)."""
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            obj=finding,
            actor=by,
            reason=why,
            changes={"meaning": [None, Signature.Meaning.RISK_ACCEPTED]},
        )


def finding_accept_check(*, finding: Finding, reason: str, expires_on: date | None) -> str:
    """The finding can take an acceptance and the input is whole: the cleaned reason,
    or ValidationError naming what is wrong (a 400, nothing written)."""
    why = fr.transition_refusal(finding.status, fr.ACCEPTED)
    if why:
        raise ValidationError(why)
    max_days = policy_finding_rules()[finding.severity].acceptance_max_days
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the risk is accepted."
    today = timezone.localdate()
    if expires_on is None or expires_on <= today:
        errors["expires_on"] = "Give the date the acceptance expires, after today."
    elif expires_on > today + timedelta(days=max_days):
        errors["expires_on"] = (
            f"The policy lets the risk of a {finding.severity} finding be accepted for at "
            f"most {max_days} days (until {today + timedelta(days=max_days)})."
        )
    if errors:
        raise ValidationError(errors)
    return reason


def finding_accept(
    *,
    finding: Finding,
    by: User,
    reason: str,
    expires_on: date | None,
    password: Credential = "",
    via_token: bool = False,
) -> FindingAcceptance:
    """Accept the risk of an open (or planned) finding until ``expires_on`` (at most
    the policy's days for its severity ahead), signed with the password typed now;
    after that day the finding counts again.

    PermissionDenied (audited) for an API token, for anyone
    ``finding_accept_refusal`` refuses, and while signing is locked; ValidationError
    for a bad input or a wrong password (counted by the lockout). Nothing is written
    on any refusal."""
    finding = Finding.objects.select_related(
        "validation", "model_version__model__use_case__team"
    ).get(pk=finding.pk)
    why = TOKEN_REFUSAL if via_token else finding_accept_refusal(by, finding)
    if why:
        finding_accept_refused(finding=finding, by=by, why=why)
        raise PermissionDenied(why)
    reason = finding_accept_check(finding=finding, reason=reason, expires_on=expires_on)
    if (password is None or password == "") and password_signing_refusal(by) is None:
        raise ValidationError({"password": NO_PASSWORD})
    reauth = check_signing_password(
        by,
        password,
        f"accept the risk of finding #{finding.pk}",
        fields={"reason": reason, "expires_on": expires_on},
    )
    try:
        with transaction.atomic():
            acceptance = _accept(
                finding=finding,
                by=by,
                reason=reason,
                expires_on=expires_on,
                auth_method=reauth.method,
            )
            reauthentication_record(reauth, obj=finding, by=by)
        return acceptance
    except PermissionDenied as exc:
        finding_accept_refused(finding=finding, by=by, why=str(exc))
        raise


def finding_accept_unchecked(
    *, finding: Finding, by: User, reason: str, expires_on: date, auth_method: str
) -> FindingAcceptance:
    """Accept without re-entering a password, recording ``auth_method`` honestly on the
    signature. For the demo loader only; no page or endpoint calls it."""
    why = finding_accept_refusal(by, finding)
    if why:
        raise PermissionDenied(why)
    reason = finding_accept_check(finding=finding, reason=reason, expires_on=expires_on)
    return _accept(
        finding=finding, by=by, reason=reason, expires_on=expires_on, auth_method=auth_method
    )


@transaction.atomic
def _accept(
    *,
    finding: Finding,
    by: User,
    reason: str,
    expires_on: date,
    auth_method: str = "password re-entry",
) -> FindingAcceptance:
    finding = (
        # of=self: PostgreSQL locks no row of a nullable join (the validation may be none).
        Finding.objects.select_for_update(of=("self",))
        .select_related("validation", "model_version__model__use_case__team")
        .get(pk=finding.pk)
    )
    why = finding_accept_refusal(by, finding)
    if why:
        raise PermissionDenied(why)
    finding_accept_check(finding=finding, reason=reason, expires_on=expires_on)
    now = timezone.now()
    printed = _printed_name(by)
    acceptance = FindingAcceptance.objects.create(
        finding=finding,
        accepted_by=by,
        printed_name=printed,
        accepted_at=now,
        expires_on=expires_on,
        reason=reason,
    )
    manifest = acceptance_manifest(finding, by_id=by.pk, reason=reason, expires_on=expires_on)
    Signature.objects.create(
        finding_acceptance=acceptance,
        signer=by,
        printed_name=printed,
        signed_at=now,
        meaning=Signature.Meaning.RISK_ACCEPTED,
        reason=reason,
        manifest=manifest,
        manifest_hash=rules.manifest_hash(manifest),
        auth_method=auth_method,
    )
    audit_record(
        action="finding.risk_accepted",
        obj=finding,
        actor=by,
        reason=reason,
        changes={"expires_on": [None, expires_on.isoformat()]},
    )
    before = finding.status
    finding.status = fr.ACCEPTED
    finding.save(update_fields=["status"])
    finding_event(
        finding,
        FindingEvent.Action.ACCEPTED,
        by=by,
        before=before,
        note=reason,
        detail={"expires_on": expires_on.isoformat(), "acceptance": acceptance.pk},
        audited=False,
    )
    return acceptance
