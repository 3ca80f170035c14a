"""Issue 12: published policy cells are frozen; the validation parameter arrives in a new
policy version.

Migration 0022 added ``human-signoff.independent_validation`` to the cells of every
policy version in place, published ones included. A published version is what was
decided and signed: its cells never change. This migration puts that right, forward:

1. Every published version's cells are restored to what was published: the exact
   frozen parameters of its approved publication proposal (``FrameworkChange`` of kind
   ``policy_publish``) when it has one, else (versions published by the product's own
   migrations or before four eyes, all before 0022) without the parameter 0022 added.
2. The parameter arrives in the next version: a copy of the latest published version,
   its sign-off cells gaining ``independent_validation`` (the measure catalogue's value
   for the cell's level, true at the strict level), published by the system. Active
   obligations of the copied version move to it (an ``ObligationEvent`` each): what
   they require is unchanged (0022 gave them the parameter already).
3. Both are recorded in the audit trail as acts of this migration (actor
   ``system:migration ...``, no user), chained like every other event.

Nothing is done twice: a version that already carries the parameter in every sign-off
cell (published after 0022 through the four-eyes flow) needs no new version, and a
second run finds its own version. Reversing it (only ever to go back to an earlier
schema, e.g. to re-run older data migrations) moves the obligations back to the version
v3 was based on and removes v3 and its cells; the restored cells stay as published, and
the audit events stay (append-only).
"""

from django.db import migrations
from django.utils import timezone

from core import audit_chain

PARAM = "independent_validation"
SIGNOFF = "human-signoff"
NAME = "governance.0023_policy_v3_independent_validation"
ACTOR = f"system:migration {NAME}"
NOTE = (
    "Independent validation for the tiers whose sign-off is strict "
    "(human-signoff.independent_validation), published by the system migration; "
    "earlier published versions are kept as they were published."
)
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "parent_type",
    "parent_id",
    "changes",
    "reason",
    "context",
)


def _audit(apps, *, action, version, changes, reason):
    """One audit event, chained as ``audit.services.audit_record`` chains it."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, audit_chain.GENESIS)
    fields = {
        "seq": seq,
        "occurred_at": timezone.now(),
        "actor_id": None,
        "actor_label": ACTOR[:200],
        "action": action,
        "object_type": "governance.policyversion",
        "object_id": str(version.pk),
        "object_repr": f"{version.policy.name} v{version.number}"[:300],
        "parent_type": "",
        "parent_id": "",
        "changes": audit_chain.jsonable(changes),
        "reason": reason,
        "context": {"channel": "migration", "migration": NAME},
    }
    event = AuditEvent(prev_hash=prev_hash, **fields)
    event.hash = audit_chain.event_hash(prev_hash, {k: fields[k] for k in HASHED_FIELDS})
    event.save(force_insert=True)


def _published_cells(apps, version) -> dict | None:
    """(tier, consideration code) -> parameters frozen by the version's approved
    publication proposal, or None when it was not published through one."""
    FrameworkChange = apps.get_model("governance", "FrameworkChange")
    change = (
        FrameworkChange.objects.filter(
            kind="policy_publish", policy_version=version, decision__outcome="approved"
        )
        .order_by("-id")
        .first()
    )
    if change is None:
        return None
    return {(c[0], c[1]): c[4] for c in change.content.get("cells", [])}


def _restore(apps, version) -> list[list]:
    """Put the version's cells back as published; returns what was restored."""
    PolicyCell = apps.get_model("governance", "PolicyCell")
    frozen = _published_cells(apps, version)
    restored = []
    for cell in PolicyCell.objects.filter(version=version).select_related("consideration"):
        code = cell.consideration.code
        if frozen is not None and (cell.tier, code) in frozen:
            original = frozen[(cell.tier, code)]
        elif frozen is None and code == SIGNOFF and PARAM in cell.parameters:
            original = {k: v for k, v in cell.parameters.items() if k != PARAM}
        else:
            continue
        if original != cell.parameters:
            restored.append([cell.tier, code, cell.parameters, original])
            # A queryset update: the historical model has no publish guard, and this
            # is the one write that puts a published cell back as it was published.
            PolicyCell.objects.filter(pk=cell.pk).update(parameters=original)
    return restored


def _signoff_value(apps, level: str) -> bool:
    Measure = apps.get_model("governance", "Measure")
    measure = Measure.objects.filter(consideration__code=SIGNOFF, level=level).first()
    if measure is not None and PARAM in (measure.parameters or {}):
        return bool(measure.parameters[PARAM])
    return level == "strict"


def _needs_version(apps, version) -> bool:
    PolicyCell = apps.get_model("governance", "PolicyCell")
    cells = PolicyCell.objects.filter(version=version, consideration__code=SIGNOFF)
    return any(PARAM not in cell.parameters for cell in cells)


def _publish_next(apps, latest, now):
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    version = PolicyVersion.objects.create(
        policy=latest.policy,
        status="published",
        number=latest.number + 1,
        based_on=latest,
        created_at=now,
        published_at=now,
        published_by=None,
        change_note=NOTE,
    )
    cells = []
    for cell in PolicyCell.objects.filter(version=latest).select_related("consideration"):
        parameters = dict(cell.parameters)
        if cell.consideration.code == SIGNOFF:
            parameters[PARAM] = _signoff_value(apps, cell.level)
        cells.append(
            PolicyCell(
                version=version,
                tier=cell.tier,
                consideration=cell.consideration,
                level=cell.level,
                text=cell.text,
                parameters=parameters,
            )
        )
    PolicyCell.objects.bulk_create(cells)
    return version


def _move_obligations(apps, old, new, now) -> int:
    Obligation = apps.get_model("governance", "Obligation")
    ObligationEvent = apps.get_model("governance", "ObligationEvent")
    moved = 0
    for ob in Obligation.objects.filter(active=True, policy_version=old):
        ob.policy_version = new
        ob.save(update_fields=["policy_version"])
        ObligationEvent.objects.create(
            obligation=ob,
            kind="changed",
            at=now,
            detail={"policy_version": [old.pk, new.pk]},
            reason=NOTE,
        )
        moved += 1
    return moved


def forward(apps, schema_editor):
    Policy = apps.get_model("governance", "Policy")
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    now = timezone.now()
    for policy in Policy.objects.order_by("id"):
        published = PolicyVersion.objects.filter(policy=policy, status="published")
        for version in published.exclude(change_note=NOTE).order_by("number"):
            restored = _restore(apps, version)
            if restored:
                _audit(
                    apps,
                    action="policy_version.cells_restored",
                    version=version,
                    changes={
                        f"cell {tier}/{code}": [before, after]
                        for tier, code, before, after in restored
                    },
                    reason="Published policy cells are frozen: restored as they were "
                    "published (migration 0022 had added a parameter in place).",
                )
        latest = published.order_by("-number").first()
        if latest is None or latest.change_note == NOTE or not _needs_version(apps, latest):
            continue
        version = _publish_next(apps, latest, now)
        moved = _move_obligations(apps, latest, version, now)
        _audit(
            apps,
            action="policy_version.published",
            version=version,
            changes={
                "status": [None, "published"],
                "number": [None, version.number],
                "based_on": [None, {"id": latest.pk, "repr": f"{policy.name} v{latest.number}"}],
                "published_by": [None, ACTOR],
                "obligations_moved": [None, moved],
            },
            reason=NOTE,
        )


def backward(apps, schema_editor):
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    Obligation = apps.get_model("governance", "Obligation")
    for version in PolicyVersion.objects.filter(change_note=NOTE).order_by("-number"):
        Obligation.objects.filter(policy_version=version).update(
            policy_version=version.based_on_id
        )
        # Raw deletes: the historical model has no publish guard.
        PolicyCell.objects.filter(version=version).delete()
        version.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0022_validator_raci_policy"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
