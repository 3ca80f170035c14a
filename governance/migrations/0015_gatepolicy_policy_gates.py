"""Issue 12: the policy drives the gate, and obligations about the model belong to a
version.

1. Every measure gains the gate parameters: ``blocks`` (which environment moves the
   obligation blocks until satisfied), ``evidence`` (what satisfies it) and
   ``carry_over`` (whether accepted evidence may serve a next version whose change is
   declared not material and confirmed by the second line).
2. A new published version of the default policy carries them: same levels as the
   latest published version, each cell's frozen parameters plus the gate parameters of
   its level. (Governance leads publish later changes through the draft/publish flow.)
3. Existing active obligations gain the same parameters (an ObligationEvent records it)
   and version-scope ones are assigned to one version: the version furthest along the
   path (prod, then preprod, QA, dev; the latest registered on a tie), since that is
   the version whose approvals relied on that evidence. Their evidence is recorded as
   produced for that version and its artifact. Version-scope obligations of a use case
   without versions are superseded (nothing to be owed by). Other versions get their
   own obligations at the next recompute (classification, policy publication, a
   promotion request); until then the gate blocks them with "not open for this version".

Reversible: the backward step removes the gate parameters from measures and from the
obligations it changed, restores their policy version, clears their version scope,
re-activates what it superseded and deletes the policy version it published. Obligations
created per version after the forward step must be removed first (two active
obligations of one use case on one consideration cannot exist without version scope).
"""

from django.db import migrations
from django.utils import timezone

USE_CASE_SCOPED = {"audit-documentation"}
NOTE = "Issue 12: gate parameters (blocks, evidence, carry over) for every measure"

# consideration -> level -> (blocks, evidence, carry_over)
GATES = {
    "reproducibility": {
        "strict": (["preprod", "prod"], "document", False),
        "medium": (["prod"], "document", True),
        "light": ([], "document", True),
        "none": ([], "document", False),
    },
    "audit-documentation": {
        "strict": (["preprod", "prod"], "document", False),
        "medium": (["prod"], "document", False),
        "light": ([], "document", False),
        "none": ([], "document", False),
    },
    "human-signoff": {
        "strict": ([], "signatures", False),
        "medium": ([], "signatures", False),
        "light": ([], "signatures", False),
        "none": ([], "signatures", False),
    },
    "preproduction-verification": {
        "strict": (["prod"], "document", False),
        "medium": (["prod"], "document", False),
        "light": (["prod"], "document", False),
        "none": ([], "document", False),
    },
    "transparency": {
        "strict": (["prod"], "document", False),
        "medium": (["prod"], "document", False),
        "light": ([], "document", False),
        "none": ([], "document", False),
    },
    "bias-harm-testing": {
        "strict": (["preprod", "prod"], "document", False),
        "medium": (["preprod", "prod"], "document", False),
        "light": ([], "document", False),
        "none": ([], "document", False),
    },
    "deployment-mode": {
        "strict": (["prod"], "document", False),
        "medium": (["prod"], "document", True),
        "light": ([], "document", True),
        "none": ([], "document", False),
    },
    "production-monitoring": {
        "strict": (["prod"], "monitoring-config", False),
        "medium": (["prod"], "monitoring-config", False),
        "light": ([], "document", False),
        "none": ([], "document", False),
    },
    "data-quality-compliance": {
        "strict": (["preprod", "prod"], "document", True),
        "medium": (["prod"], "document", True),
        "light": ([], "document", True),
        "none": ([], "document", False),
    },
}
GATE_KEYS = ("blocks", "evidence", "carry_over")
ORDER = {"prod": 4, "preprod": 3, "qa": 2, "dev": 1}


def gate(code, level):
    blocks, evidence, carry_over = GATES[code][level]
    return {"blocks": list(blocks), "evidence": evidence, "carry_over": carry_over}


def _chosen_version(versions):
    live = [v for v in versions if v.environment in ORDER]
    if not live:
        return None
    return max(live, key=lambda v: (ORDER[v.environment], v.registered_at, v.pk))


def forward(apps, schema_editor):
    Measure = apps.get_model("governance", "Measure")
    Policy = apps.get_model("governance", "Policy")
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    Obligation = apps.get_model("governance", "Obligation")
    ObligationEvent = apps.get_model("governance", "ObligationEvent")
    ModelVersion = apps.get_model("inventory", "ModelVersion")
    now = timezone.now()
    for measure in Measure.objects.select_related("consideration"):
        code = measure.consideration.code
        if code in GATES:
            measure.parameters = {**measure.parameters, **gate(code, measure.level)}
            measure.save(update_fields=["parameters"])
    new_version = None
    policy = Policy.objects.filter(code="organisation").first()
    latest = (
        PolicyVersion.objects.filter(policy=policy, status="published").order_by("-number").first()
        if policy
        else None
    )
    if latest is not None:
        new_version = PolicyVersion.objects.create(
            policy=policy,
            status="published",
            number=latest.number + 1,
            based_on=latest,
            created_at=now,
            published_at=now,
            change_note=NOTE,
        )
        PolicyCell.objects.bulk_create(
            PolicyCell(
                version=new_version,
                tier=cell.tier,
                consideration=cell.consideration,
                level=cell.level,
                text=cell.text,
                parameters={**cell.parameters, **gate(cell.consideration.code, cell.level)},
            )
            for cell in PolicyCell.objects.filter(version=latest).select_related("consideration")
            if cell.consideration.code in GATES
        )
    versions_of: dict[int, list] = {}
    for v in ModelVersion.objects.select_related("model"):
        versions_of.setdefault(v.model.use_case_id, []).append(v)
    for ob in Obligation.objects.filter(active=True).select_related("consideration"):
        code = ob.consideration.code
        if code not in GATES:
            continue
        added = gate(code, ob.level)
        ob.parameters = {**ob.parameters, **added}
        fields = ["parameters"]
        detail = {"added_parameters": added}
        if new_version is not None:
            detail["policy_version"] = [ob.policy_version_id, new_version.pk]
            ob.policy_version = new_version
            fields.append("policy_version")
        if code not in USE_CASE_SCOPED:
            chosen = _chosen_version(versions_of.get(ob.use_case_id, []))
            if chosen is None:
                ob.active = False
                ob.superseded_at = now
                fields += ["active", "superseded_at"]
                detail["superseded"] = "version scope; the use case has no version"
            else:
                ob.model_version = chosen
                fields.append("model_version")
                detail["model_version"] = chosen.pk
                if ob.evidence_sha256 or ob.evidence_link:
                    ob.evidence_version = chosen
                    ob.evidence_artifact_sha256 = chosen.artifact_sha256
                    fields += ["evidence_version", "evidence_artifact_sha256"]
        ob.save(update_fields=fields)
        ObligationEvent.objects.create(
            obligation=ob,
            kind="scoped" if "model_version" in detail else "changed",
            at=now,
            detail=detail,
            reason=NOTE,
        )


def backward(apps, schema_editor):
    Measure = apps.get_model("governance", "Measure")
    PolicyVersion = apps.get_model("governance", "PolicyVersion")
    PolicyCell = apps.get_model("governance", "PolicyCell")
    Obligation = apps.get_model("governance", "Obligation")
    ObligationEvent = apps.get_model("governance", "ObligationEvent")
    for measure in Measure.objects.all():
        measure.parameters = {k: v for k, v in measure.parameters.items() if k not in GATE_KEYS}
        measure.save(update_fields=["parameters"])
    events = ObligationEvent.objects.filter(reason=NOTE)
    for event in events.select_related("obligation"):
        ob = event.obligation
        ob.parameters = {k: v for k, v in ob.parameters.items() if k not in GATE_KEYS}
        before = (event.detail.get("policy_version") or [ob.policy_version_id])[0]
        ob.policy_version_id = before
        ob.model_version = None
        ob.evidence_version = None
        ob.evidence_artifact_sha256 = ""
        if "superseded" in event.detail:
            ob.active, ob.superseded_at = True, None
        ob.save()
    events.delete()
    for version in PolicyVersion.objects.filter(change_note=NOTE):
        # Raw deletes: the historical model has no publish guard.
        PolicyCell.objects.filter(version=version).delete()
        version.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0014_gatepolicy_version_scope"),
        ("inventory", "0003_regulation_moves_to_inventory"),
    ]

    operations = [migrations.RunPython(forward, backward)]
