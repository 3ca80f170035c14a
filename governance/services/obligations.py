"""Writes of Step 5: obligations per use case.

``obligations_recompute`` derives what a use case owes from the latest published
policy and its regulations, compares it with the active obligations and writes only
the difference (idempotent). Changed or dropped obligations are superseded (kept,
inactive), never deleted. Evidence, acceptance and waivers move an obligation's
status forward; every change is an ``ObligationEvent``.
"""

import datetime
import hashlib
from collections.abc import Callable
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import has_role, is_governance_lead
from accounts.roles import Role
from audit.stored_files import stored_file_discard
from core import obligation_rules
from governance.models import Consideration, Obligation, ObligationEvent
from governance.selectors.policy import policy_published_latest, policy_requirements_for
from governance.selectors.raci import raci_accountable_for
from inventory.models import ModelVersion, UseCase
from notifications.jobs import enqueue

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
NOTHING_CHANGED = {"created": 0, "changed": 0, "superseded": 0, "owner_changed": 0}
DECIDED = (Obligation.Status.ACCEPTED, Obligation.Status.WAIVED)
EVIDENCE_EXTENSIONS = frozenset(
    {"pdf", "csv", "txt", "md", "html", "json", "xlsx", "docx", "png", "zip"}
)


def _event(*, obligation: Obligation, kind: str, by: User | None, detail=None, reason=""):
    event = ObligationEvent(
        obligation=obligation,
        kind=kind,
        by=by,
        at=timezone.now(),
        detail=detail or {},
        reason=reason,
    )
    # The obligation and the user are rows this transaction holds: validating them is
    # a query each per event, for nothing.
    event.full_clean(exclude=["obligation", "by"])
    event.save()
    return event


# Rows read in the recompute's own transaction (the use case is locked): checking that
# they exist is a query each per obligation, for nothing. The constraints are still
# validated, all of them.
_HELD_RELATIONS = ["use_case", "model_version", "consideration", "policy_version", "owner"]


def _owners(use_case: UseCase) -> Callable[[str], User | None]:
    """consideration code -> the Accountable for its RACI task (the obligation's owner),
    looked up once per task for one recompute (a use case owes up to nine obligations
    per version, most sharing a task)."""
    found: dict[str, User | None] = {}

    def owner(consideration: str) -> User | None:
        task = obligation_rules.task_for(consideration)
        if task not in found:
            people = raci_accountable_for(use_case=use_case, task_code=task)
            found[task] = people[0] if people else None
        return found[task]

    return owner


def _supersede(obligation: Obligation, *, now, by, reason, detail) -> None:
    obligation.active = False
    obligation.superseded_at = now
    obligation.full_clean()
    obligation.save(update_fields=["active", "superseded_at"])
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.SUPERSEDED,
        by=by,
        detail=detail,
        reason=reason,
    )


def _recompute_plan(use_case: UseCase):
    """What a recompute of ``use_case`` would do, read without writing: (policy version,
    active obligations, the diff, the owner lookup), or None when it owes nothing new
    (unclassified, or no published policy)."""
    version = policy_published_latest()
    if use_case.risk_tier is None or version is None:
        return None
    regulation_codes = list(use_case.regulations.values_list("code", flat=True))
    requirements = policy_requirements_for(
        tier=use_case.risk_tier, regulation_codes=regulation_codes, version=version
    )
    version_ids = list(
        ModelVersion.objects.filter(model__use_case=use_case)
        .exclude(environment="retired")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    derived = obligation_rules.expand(obligation_rules.derive(requirements), version_ids)
    active = {
        (o.consideration.code, o.model_version_id): (o, o.level, o.parameters)
        for o in use_case.obligations.filter(active=True).select_related("consideration")
    }
    return version, active, obligation_rules.diff(active, derived), _owners(use_case)


def _recompute_changes_nothing(use_case: UseCase) -> bool:
    """True when the obligations derived now equal the stored ones and every owner
    still follows the RACI: a recompute would write nothing."""
    found = _recompute_plan(use_case)
    if found is None:
        return True
    _version, active, plan, owner_of = found
    if not plan.empty:
        return False
    return all(
        (owner.pk if (owner := owner_of(code)) else None) == obligation.owner_id
        for (code, _version_id), (obligation, _level, _parameters) in active.items()
    )


def obligations_recompute(*, use_case: UseCase, by: User | None = None, reason: str = "") -> dict:
    """Bring a use case's active obligations in line with what it owes now.

    New obligations are created (owner from the RACI, due by tier); one whose level or
    parameters changed is superseded and replaced; one no longer owed is superseded.
    Unclassified use cases, or no published policy, owe nothing new (nothing is
    written). What it would derive is compared with the stored obligations first,
    without a write transaction: when nothing would change, nothing is locked, written
    or sent (issue 18). Owners learn of new or changed obligations in their daily
    digest (``governance.services.digest``). Returns counts: created, changed,
    superseded, owner_changed.
    """
    # Read afresh: the caller's instance may predate a (re)classification.
    if _recompute_changes_nothing(UseCase.objects.get(pk=use_case.pk)):
        return dict(NOTHING_CHANGED)
    return _recompute_locked(use_case=use_case, by=by, reason=reason)


@transaction.atomic
def _recompute_locked(*, use_case: UseCase, by: User | None, reason: str) -> dict:
    """``obligations_recompute`` under the use case's lock, derived again (it may have
    changed since it was compared)."""
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    counts = dict(NOTHING_CHANGED)
    found = _recompute_plan(use_case)
    if found is None:
        return counts
    version, active, plan, owner_of = found
    counts["owner_changed"] = _follow_raci(
        use_case, active, plan, owner_of=owner_of, by=by, reason=reason
    )
    if plan.empty:
        return counts
    now = timezone.now()
    due = now.date() + datetime.timedelta(days=obligation_rules.due_days(use_case.risk_tier))
    considerations = {c.code: c for c in Consideration.objects.all()}
    # The versions that get obligations, with their models: every obligation's audit
    # event names its version ("Use case 1.2"), one query for all instead of two each.
    version_ids = {version_id for _code, version_id in plan.create_keys}
    version_ids |= {old.model_version_id for old, _d in plan.change}
    versions = ModelVersion.objects.select_related("model").in_bulk(version_ids - {None})

    def create(
        d: obligation_rules.Derived, kind: str, detail: dict, version_id: int | None
    ) -> Obligation:
        obligation = Obligation(
            use_case=use_case,
            model_version=None if version_id is None else versions[version_id],
            consideration=considerations[d.consideration],
            level=d.level,
            text=d.text,
            parameters=d.parameters,
            why=d.why,
            policy_version=version,
            owner=owner_of(d.consideration),
            due_date=due,
            created_at=now,
        )
        obligation.full_clean(exclude=_HELD_RELATIONS, validate_constraints=False)
        obligation.validate_constraints()
        obligation.save()
        _event(obligation=obligation, kind=kind, by=by, detail=detail, reason=reason)
        if version_id is not None:
            from governance.services.versions import obligation_carry_over

            obligation_carry_over(obligation=obligation, by=by)
        return obligation

    for (_code, version_id), d in zip(plan.create_keys, plan.create, strict=True):
        create(
            d,
            ObligationEvent.Kind.CREATED,
            {"to": {"level": d.level, "why": d.why}, "model_version": version_id},
            version_id,
        )
        counts["created"] += 1
    for old, d in plan.change:
        detail = {
            "from": {"level": old.level, "parameters": old.parameters, "why": old.why},
            "to": {"level": d.level, "parameters": d.parameters, "why": d.why},
        }
        _supersede(old, now=now, by=by, reason=reason, detail=detail)
        create(
            d, ObligationEvent.Kind.CHANGED, {**detail, "replaces": old.pk}, old.model_version_id
        )
        counts["changed"] += 1
    for old in plan.supersede:
        _supersede(
            old,
            now=now,
            by=by,
            reason=reason,
            detail={"from": {"level": old.level, "why": old.why}, "to": None},
        )
        counts["superseded"] += 1
    return counts


def obligations_recompute_all(*, by: User | None = None, reason: str = "") -> dict:
    """Recompute every classified use case, each in its own transaction."""
    totals = {"use_cases": 0, "created": 0, "changed": 0, "superseded": 0, "owner_changed": 0}
    for use_case in UseCase.objects.filter(risk_tier__isnull=False).order_by("pk"):
        counts = obligations_recompute(use_case=use_case, by=by, reason=reason)
        totals["use_cases"] += 1
        for key, value in counts.items():
            totals[key] += value
    return totals


def _follow_raci(
    use_case: UseCase,
    active: dict,
    plan,
    *,
    owner_of: Callable[[str], User | None],
    by: User | None,
    reason: str,
) -> int:
    """Obligations that stay owed follow the RACI: when the Accountable for their task
    changed, the owner changes too (recorded as an event). Returns how many changed."""
    replaced = {old.pk for old, _ in plan.change} | {old.pk for old in plan.supersede}
    changed = 0
    for (code, _version), (obligation, _level, _parameters) in active.items():
        if obligation.pk in replaced:
            continue
        owner = owner_of(code)
        if (owner.pk if owner else None) == obligation.owner_id:
            continue
        before = obligation.owner.get_username() if obligation.owner else None
        obligation.owner = owner
        obligation.full_clean()
        obligation.save(update_fields=["owner"])
        _event(
            obligation=obligation,
            kind=ObligationEvent.Kind.OWNER_CHANGED,
            by=by,
            detail={"from": before, "to": owner.get_username() if owner else None},
            reason=reason or "The RACI changed.",
        )
        changed += 1
    return changed


def obligations_recompute_later(*, use_case: UseCase | None, by: User | None, reason: str):
    """Enqueue a recompute (one use case, or all when None) after the transaction
    commits.

    One pending recompute per use case (the outbox's row, keyed by use case): a burst of
    changes refreshes that row instead of adding work, and it waits
    ``OBLIGATIONS_RECOMPUTE_DELAY_SECONDS`` (``not_before``; the sweep publishes it once
    due) so that the burst collapses into one run, which reads the use case as it then
    is. A change while it runs makes it run once more after (``notifications.jobs``)."""
    from governance import tasks

    by_id = by.pk if by else None
    # Through the task outbox: committed with the change, published after commit.
    if use_case is None:
        enqueue(tasks.obligations_recompute_all, kwargs={"by_id": by_id, "reason": reason})
        return
    delay = settings.OBLIGATIONS_RECOMPUTE_DELAY_SECONDS
    enqueue(
        tasks.obligations_recompute,
        kwargs={"use_case_id": use_case.pk, "by_id": by_id, "reason": reason},
        not_before=timezone.now() + datetime.timedelta(seconds=delay) if delay > 0 else None,
    )


def _locked_active(obligation: Obligation) -> Obligation:
    obligation = (
        Obligation.objects.select_for_update(of=("self",))
        .select_related("use_case", "consideration", "model_version")
        .get(pk=obligation.pk)
    )
    if not obligation.active:
        raise ValidationError(
            "This obligation was superseded; act on the current one.", code=CONFLICT
        )
    return obligation


def _can_submit(user: User, obligation: Obligation) -> bool:
    if is_governance_lead(user):
        return True
    if obligation.owner_id == user.pk:
        return True
    return obligation.use_case.team.members.filter(pk=user.pk).exists()


def _file_checks(file: UploadedFile) -> tuple[str, str]:
    """Return (safe name, extension) or raise ValidationError."""
    name = PurePath(file.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EVIDENCE_EXTENSIONS:
        allowed = ", ".join(sorted(EVIDENCE_EXTENSIONS))
        raise ValidationError({"file": [f"Files of this type are not accepted; use {allowed}."]})
    if file.size is None or file.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {"file": [f"The file is larger than {EVIDENCE_MAX_BYTES // (1024 * 1024)} MB."]}
        )
    if file.size == 0:
        raise ValidationError({"file": ["The file is empty."]})
    return name, ext


def obligation_submit_evidence(
    *,
    obligation: Obligation,
    by: User,
    link: str = "",
    file: UploadedFile | None = None,
    note: str = "",
    covers: list[str] | None = None,
) -> Obligation:
    """Submit evidence (a link or a file) that an obligation is met.

    Raises PermissionDenied unless ``by`` owns the obligation, is in the use case's
    team or is a governance lead; ValidationError for a superseded, accepted or waived
    obligation, for neither or both of link and file, a bad URL, a file too large or
    of a type not accepted, or ``covers`` naming an item the measure does not ask for.
    A file is stored in the default storage with its SHA-256 and size; nothing is
    stored when anything fails. The evidence records the version it was produced for
    and that version's artifact SHA-256 (issue 12), and the evidence items it covers
    (``covers``; None: every item the measure asks for, as the submitter states).
    """
    stored: list[str] = []
    try:
        return _evidence_submit(
            obligation=obligation,
            by=by,
            link=link,
            file=file,
            note=note,
            covers=covers,
            stored=stored,
        )
    except BaseException:
        # After the rollback: the file is deleted unless a record names it (issue 13,
        # audit.stored_files); a process killed before this leaves it to the media sweep.
        for name in stored:
            stored_file_discard(name)
        raise


@transaction.atomic
def _evidence_submit(
    *,
    obligation: Obligation,
    by: User,
    link: str,
    file: UploadedFile | None,
    note: str,
    covers: list[str] | None,
    stored: list[str],
) -> Obligation:
    """``obligation_submit_evidence`` in one transaction; the name of a file it stores
    is appended to ``stored`` (for the caller to discard if the transaction fails)."""
    obligation = _locked_active(obligation)
    if not _can_submit(by, obligation):
        raise PermissionDenied(
            "Only the obligation's owner, the use case's team or a governance lead can "
            "submit evidence."
        )
    if obligation.status not in (Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED):
        raise ValidationError(
            f"This obligation is already {obligation.get_status_display()}.", code=CONFLICT
        )
    link = (link or "").strip()
    if bool(link) == bool(file):
        raise ValidationError("Give either a link or a file as evidence (one of the two).")
    items = dict(
        obligation_rules.evidence_items(obligation.consideration.code, obligation.parameters)
    )
    covers = list(items) if covers is None else list(dict.fromkeys(covers))
    unknown = [c for c in covers if c not in items]
    if unknown:
        raise ValidationError(
            {"covers": [f"Not an evidence item of this obligation: {', '.join(unknown)}."]}
        )
    previous = {
        "link": obligation.evidence_link,
        "file": obligation.evidence_name,
        "sha256": obligation.evidence_sha256,
    }
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError as exc:
            raise ValidationError({"link": ["Enter a valid http(s) URL."]}) from exc
        obligation.evidence_link = link
        obligation.evidence_file = ""
        obligation.evidence_name = ""
        obligation.evidence_sha256 = ""
        obligation.evidence_size = None
    else:
        name, _ext = _file_checks(file)
        digest = hashlib.sha256()
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        # Saved under the writers' lock (the obligation's row is locked), held to commit.
        saved = default_storage.save(
            f"obligations/evidence/{obligation.use_case_id}/{obligation.pk}/{name}", file
        )
        stored.append(saved)
        obligation.evidence_file = saved
        obligation.evidence_name = name
        obligation.evidence_sha256 = digest.hexdigest()
        obligation.evidence_size = file.size
        obligation.evidence_link = ""
    obligation.status = Obligation.Status.EVIDENCE_SUBMITTED
    obligation.evidence_by = by
    obligation.evidence_at = timezone.now()
    obligation.evidence_covers = covers
    obligation.evidence_version = obligation.model_version
    obligation.evidence_artifact_sha256 = (
        obligation.model_version.artifact_sha256 if obligation.model_version_id else ""
    )
    obligation.full_clean()
    obligation.save()
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.EVIDENCE_SUBMITTED,
        by=by,
        detail={
            "from": previous,
            "to": {
                "link": obligation.evidence_link,
                "file": obligation.evidence_name,
                "sha256": obligation.evidence_sha256,
                "size": obligation.evidence_size,
                "covers": covers,
                "model_version": obligation.model_version_id,
                "artifact_sha256": obligation.evidence_artifact_sha256,
            },
        },
        reason=note,
    )
    return obligation


@transaction.atomic
def obligation_accept(*, obligation: Obligation, by: User, note: str = "") -> Obligation:
    """Accept the submitted evidence.

    Raises PermissionDenied unless ``by`` is a risk officer or governance lead and did
    not submit the evidence; ValidationError unless evidence was submitted.
    """
    if not has_role(by, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD):
        raise PermissionDenied("Only risk officers and governance leads can accept evidence.")
    obligation = _locked_active(obligation)
    if obligation.status != Obligation.Status.EVIDENCE_SUBMITTED:
        raise ValidationError(
            f"Only an obligation with submitted evidence can be accepted; this one is "
            f"{obligation.get_status_display().lower()}.",
            # Accepted or waived meanwhile: the state changed underneath (409).
            code=CONFLICT if obligation.status in DECIDED else "invalid",
        )
    if obligation.evidence_by_id == by.pk:
        raise PermissionDenied("You submitted this evidence; someone else must accept it.")
    missing = obligation_rules.uncovered(
        obligation.consideration.code, obligation.parameters, obligation.evidence_covers or []
    )
    if missing:
        raise ValidationError(
            "The evidence does not cover what the measure asks for: "
            + "; ".join(missing)
            + ". Ask for evidence that covers it, or have the obligation waived."
        )
    previous = obligation.status
    obligation.status = Obligation.Status.ACCEPTED
    obligation.full_clean()
    obligation.save(update_fields=["status"])
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.ACCEPTED,
        by=by,
        detail={"from": previous, "to": obligation.status},
        reason=note,
    )
    return obligation


@transaction.atomic
def obligation_waive(*, obligation: Obligation, by: User, justification: str) -> Obligation:
    """Waive an open obligation (or one with evidence pending), with a justification.

    Raises PermissionDenied for anyone but a governance lead; ValidationError for a
    missing justification or an accepted/waived obligation.
    """
    if not is_governance_lead(by):
        raise PermissionDenied("Only governance leads can waive obligations.")
    obligation = _locked_active(obligation)
    justification = (justification or "").strip()
    if not justification:
        raise ValidationError({"justification": ["Say why this obligation is waived."]})
    if obligation.status not in (Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED):
        raise ValidationError(
            f"This obligation is already {obligation.get_status_display()}.", code=CONFLICT
        )
    if (obligation.parameters or {}).get("evidence") == "signatures" or (
        obligation.consideration.code == "human-signoff"
    ):
        # Waiving it would make a move need no sign-off at all: one lead's act replacing
        # everybody's signatures. The signatures themselves satisfy it.
        raise ValidationError(
            "The human sign-off obligation is met by the sign-offs themselves; it is never waived."
        )
    previous = obligation.status
    obligation.status = Obligation.Status.WAIVED
    obligation.full_clean()
    obligation.save(update_fields=["status"])
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.WAIVED,
        by=by,
        detail={"from": previous, "to": obligation.status},
        reason=justification,
    )
    return obligation


def render_obligations_email(note, subject) -> tuple[str, str, None]:
    """(subject line, text, no HTML) of an owner's obligations e-mail (the outbox's
    renderer for ``obligations_assigned``, one e-mail per recompute before the daily
    digest: kept for the rows still in the outbox)."""
    lines = note.context.get("lines", [])
    return (
        f"Governance obligations you own ({len(lines)})",
        "You are accountable for these new or changed obligations:\n\n" + "\n".join(lines),
        None,
    )
