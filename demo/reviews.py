"""Sign-off history of the demo, loaded by ``manage.py seed_demo`` after the
obligations.

Use cases in production have their newest version promoted dev -> QA -> preprod ->
prod through approved requests: before each move, the version's own evidence for every
obligation the policy says gates it is submitted by the technical owner and accepted
by the risk officer (monitoring is a configuration for the monitored use case, waived
with a reason for the others), and High and Critical versions are validated by the
model validator before preprod (one with a condition, whose risk the risk officer
accepts until a date before prod); the risk officer
(model acceptance) and the model approver (production, deployments) sign. Use cases
in validation wait in preprod with a request to production pending on the risk
officer and the approver (one of them blocked by an open bias finding). One request
was rejected, one approval revoked; one version in production is past its periodic
review (the gate blocks it), two were reviewed. Each version in production has been
asked about by the deployment gate once.

Signatures made here are marked "demo data loader" as their authentication method:
they were not made by a person re-entering a password. Everything else goes through
the services. Idempotent: nothing is done when any request exists.
"""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

import demo
from demo import monitoring as demo_monitoring
from governance.models import Obligation
from governance.selectors import obligations_gating_move
from governance.services import obligation_accept, obligation_submit_evidence, obligation_waive
from inventory.choices import LifecycleStatus
from inventory.models import ModelVersion, UseCase
from reviews.models import Finding, PromotionRequest, Signature
from reviews.selectors import promotion as sel
from reviews.selectors.validation import validation_blocking
from reviews.services import acceptance as acceptance_svc
from reviews.services import findings as findings_svc
from reviews.services import gate as gate_svc
from reviews.services import promotion as svc
from reviews.services import validation as validation_svc

AUTH = "demo data loader"

# Days since the version entered production, by use case name (default 45).
IN_PRODUCTION_DAYS = {
    "IFRS 9 probability of default": 240,  # High tier, 182-day reviews: overdue past grace
    "Retail credit application scoring": 120,
    "Customer churn prediction": 300,
}
REVIEWED = {"Retail credit application scoring", "Tablet batch-release quality prediction"}
REJECTED = "Employee attrition risk"
REVOKED = "Claims severity reserving"
FINDING = (
    "Graduate CV screening",
    "Selection rate of women is 0.74 of men's on the 2026 validation sample "
    "(below the four-fifths rule)",
)


MONITORING_WAIVER = (
    "Monitored by the platform team's own alerting; onboarding to the dashboard's drift "
    "monitoring is planned for next quarter."
)


# The validation with a condition: its finding is accepted by the risk officer until a
# date before production (issue 12, independent validation).
CONDITIONAL = (
    "Retail credit application scoring",
    "Recalibrate the score cut-off on 2026 applications before the next annual review",
)
CONDITION_ACCEPTED_DAYS = 120


def _validate(version: ModelVersion, env: str, users: dict[str, User]) -> None:
    """Independent validation where the policy asks for it (High and Critical): signed
    by the model validator before preprod; the conditional one's finding accepted by
    the risk officer before prod."""
    blocking = dict(validation_blocking(version, env))
    validator = users["model.validator"]
    if "validation:missing" in blocking:
        conditional = version.model.use_case.name == CONDITIONAL[0]
        validation = validation_svc.validation_record(
            version=version,
            by=validator,
            scope=f"{version}: design, training data, hold-out and out-of-time performance.",
            conceptual_soundness="The method suits the purpose; assumptions are documented.",
            data="Training data reviewed for leakage, coverage and representativeness.",
            outcomes_analysis="Back-tested on out-of-time data; stable against the benchmark.",
            limitations="Not for populations outside the training data's scope.",
            conclusion="approve_with_conditions" if conditional else "approve",
            findings_raised=[{"title": CONDITIONAL[1]}] if conditional else [],
        )
        validation_svc.validation_sign_unchecked(
            validation=validation, by=validator, auth_method=AUTH
        )
    for code, _ in validation_blocking(version, env):
        if code.startswith("validation-finding:"):
            acceptance_svc.finding_accept_unchecked(
                finding=Finding.objects.get(pk=int(code.split(":")[1])),
                by=users["risk.officer"],
                reason="Demo: cut-off recalibration scheduled; monitoring covers the gap.",
                expires_on=timezone.localdate() + timedelta(days=CONDITION_ACCEPTED_DAYS),
                auth_method=AUTH,
            )


def _satisfy(version: ModelVersion, env: str, users: dict[str, User]) -> None:
    """Meet what the policy says gates the version's move into ``env`` (issue 12): the
    version's own evidence (a report link per obligation, submitted by the technical
    owner and accepted by the risk officer), and its monitoring configuration for the
    use case monitored in the demo (the others are waived by the governance lead, with
    the reason)."""
    owner = version.model.use_case.technical_owner
    _validate(version, env, users)
    for item in obligations_gating_move(version=version, environment=env):
        ob = item["row"]
        if item["problem"] is None or ob is None:
            continue
        if item["evidence"] == "monitoring-config":
            if version.model.use_case.name == demo_monitoring.USE_CASE:
                demo_monitoring.configure(version, users)
            else:
                obligation_waive(
                    obligation=ob, by=users["governance.lead"], justification=MONITORING_WAIVER
                )
            continue
        if ob.status == Obligation.Status.OPEN:
            ob = obligation_submit_evidence(
                obligation=ob,
                by=owner,
                link=f"https://docs.example.org/{version.pk}/{item['code']}/report.pdf",
            )
        obligation_accept(obligation=ob, by=users["risk.officer"], note="Demo: evidence reviewed.")


def _sign_all(req: PromotionRequest, signers: dict[str, User]) -> None:
    """Fill every open slot with its demo signer."""
    for _ in range(req.required_signoffs):
        state = sel.request_state(req)
        for slot in state.tally.open_slots:
            user = signers.get(slot)
            if user is not None and state.why_cannot_sign(user, Signature.Meaning.APPROVED) is None:
                svc.sign_unchecked(
                    request=req, by=user, meaning=Signature.Meaning.APPROVED, auth_method=AUTH
                )
                break
        req.refresh_from_db()
        if req.status != PromotionRequest.Status.PENDING:
            return


def _move(version: ModelVersion, by: User, signers: dict[str, User], why: str):
    req = svc.request_create(version=version, by=by, justification=why)
    if req.status == PromotionRequest.Status.PENDING:
        _sign_all(req, signers)
    req.refresh_from_db()
    return req


def _latest(use_case: UseCase) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(model__use_case=use_case)
        .order_by("-registered_at", "-id")
        .first()
    )


PROMOTED = (LifecycleStatus.PRODUCTION, LifecycleStatus.VALIDATION)


def _intended_statuses() -> dict[str, str]:
    """The status each demo use case should reach; its promotions make it so (a use
    case's status follows its versions, issue 12)."""
    return {spec.name: spec.status for spec in demo.USE_CASES}


def _promoted(intended: dict[str, str]) -> list[str]:
    return [name for name, status in intended.items() if status in PROMOTED]


def _gate_call(version: ModelVersion, owner: User, users: dict[str, User], note) -> None:
    """The pipeline's gate call for a version in production. The monitored use case is
    monitored since it went live first (issue 12: a version in production for more than
    two periods of its cadence needs recent windows, not only a configuration)."""
    if version.model.use_case.name == demo_monitoring.USE_CASE:
        demo_monitoring.load(users=users, note=note)
    gate_svc.gate_check(
        by=owner,
        version_id=version.pk,
        artifact_sha256=version.artifact_sha256,
        environment="prod",
        payload={"model_version": str(version.pk), "environment": "prod"},
        remote_addr="10.20.0.15",
    )


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    if PromotionRequest.objects.exists():
        note("sign-off history", "already loaded", False)
        return
    risk, approver, lead = users["risk.officer"], users["approver"], users["governance.lead"]
    signers = {"model-acceptance": risk, "deployments": approver}
    steps = {
        "qa": "Unit and integration tests pass; ready for QA.",
        "preprod": "QA sign-off on the scoring service; bias summary attached.",
        "prod": "Preproduction run matched the reference implementation.",
    }
    now = timezone.now()
    intended = _intended_statuses()
    use_cases = UseCase.objects.filter(
        name__in=_promoted(intended),
        risk_tier__isnull=False,
    ).select_related("technical_owner")
    for use_case in use_cases.order_by("name"):
        version = _latest(use_case)
        if version is None:
            continue
        owner = use_case.technical_owner
        final = "prod" if intended[use_case.name] == LifecycleStatus.PRODUCTION else "preprod"
        last = None
        for env in ("qa", "preprod", "prod")[: ("qa", "preprod", "prod").index(final) + 1]:
            _satisfy(version, env, users)
            last = _move(version, owner, signers, steps[env])
            note("promotion request", f"{version} to {env}", True)
            if last.status != PromotionRequest.Status.APPROVED:
                break
        if final == "prod" and last and last.status == PromotionRequest.Status.APPROVED:
            days = IN_PRODUCTION_DAYS.get(use_case.name, 45)
            PromotionRequest.objects.filter(pk=last.pk).update(
                requested_at=now - timedelta(days=days + 2), decided_at=now - timedelta(days=days)
            )
            version.refresh_from_db()
            if use_case.name in REVIEWED:
                svc.periodic_review_sign_unchecked(
                    version=version,
                    by=risk,
                    outcome="satisfactory",
                    note="Back-test stable; no drift alerts; documentation current.",
                    auth_method=AUTH,
                )
            if use_case.name == REVOKED:
                svc.sign_unchecked(
                    request=last,
                    by=lead,
                    meaning=Signature.Meaning.REVOKED,
                    reason="Reserving factors were trained on claims later found to be "
                    "duplicated; redeploy after retraining.",
                    auth_method=AUTH,
                )
            _gate_call(version, owner, users, note)
        if final == "preprod" and last and last.status == PromotionRequest.Status.APPROVED:
            if use_case.name == FINDING[0]:
                findings_svc.finding_open(
                    version=version,
                    by=risk,
                    title=FINDING[1],
                    source="bias",
                    severity="high",
                    detail={"metric": "disparate_impact", "value": 0.74, "threshold": 0.8},
                )
            _satisfy(version, "prod", users)
            svc.request_create(
                version=version,
                by=owner,
                justification="Validation complete; asking to go live.",
            )
            note("promotion request", f"{version} to prod (pending)", True)
    rejected = UseCase.objects.filter(name=REJECTED).first()
    version = _latest(rejected) if rejected else None
    if version is not None and version.environment == "dev":
        req = svc.request_create(
            version=version,
            by=rejected.technical_owner,
            justification="First candidate for QA.",
        )
        if req.status == PromotionRequest.Status.PENDING:
            svc.sign_unchecked(
                request=req,
                by=risk,
                meaning=Signature.Meaning.REJECTED,
                reason="Tenure is a proxy for age here; remove it and document the "
                "proxy analysis before QA.",
                auth_method=AUTH,
            )
        note("promotion request", f"{version} to qa (rejected)", True)
