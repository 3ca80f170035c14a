"""Step 7 in the demo (issue 16): the campaign the approved ethical position started
(``demo.ethics``) is running, acknowledged by every signer but one; training is current
for the signers, one approver's signing training expired (the policy stops them from
signing until they take it again: the HR head) and one data scientist failed a
knowledge check. Data scientists other than the demo's own still have training due.

Completions are written as the records they would be (append-only rows, dated in the
past); no e-mail is sent for them.
"""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from engagement.models import Attestation, AttestationCampaign, TrainingCompletion, TrainingModule

# Everyone who signs in the demo acknowledged the ethical position; the data scientists
# (who sign nothing) and one approver have not yet: the campaign is running.
ACKNOWLEDGED = (
    "risk.officer",
    "governance.lead",
    "approver",
    "auditor",
    "model.validator",
    "data.scientist",
    "credit.modeller",
    "credit.head",
    "fraud.head",
    "pharma.lead",
    "marketing.head",
    "ops.head",
    "pricing.head",
    "service.head",
    "ethics.lead",
)
# username -> days ago each of their modules was passed (every signer but one is current,
# so the demo keeps signing after the grace days)
CURRENT = {
    "risk.officer": 60,
    "governance.lead": 45,
    "approver": 90,
    "model.validator": 30,
    "auditor": 120,
    "data.scientist": 200,
    "credit.head": 20,
    "fraud.head": 25,
    "pharma.lead": 35,
    "marketing.head": 40,
    "ops.head": 50,
    "pricing.head": 55,
    "service.head": 65,
    "ethics.lead": 45,
}
EXPIRED = ("hr.head", "signing-part-11", 400)  # passed 400 days ago, valid 365: lapsed
FAILED = ("people.analyst", "bias-testing")


def _pass(module: TrainingModule, user: User, days_ago: int) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    TrainingCompletion.objects.create(
        module=module,
        module_version=module.version,
        user=user,
        at=at,
        passed=True,
        correct=len(module.questions),
        total=len(module.questions),
        answers=[q["answer"] for q in module.questions],
        expires_on=timezone.localdate(at) + timedelta(days=module.validity_days),
    )


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    # The second governance lead (who signs the four-eyes approvals) is made by demo.ethics.
    users = {**users, **{u.username: u for u in User.objects.filter(username="ethics.lead")}}
    campaign = AttestationCampaign.objects.filter(subject="ethics").order_by("-started_at").first()
    if campaign is not None:
        made = 0
        for username in ACKNOWLEDGED:
            user = users.get(username)
            if user is None or Attestation.objects.filter(campaign=campaign, user=user).exists():
                continue
            Attestation.objects.create(
                campaign=campaign,
                user=user,
                at=timezone.now() - timedelta(hours=len(username)),
                statement_sha256=campaign.statement_sha256,
            )
            made += 1
        note("attestation", campaign.title, bool(made), made or len(ACKNOWLEDGED))
    if TrainingCompletion.objects.exists():
        note("training completion", "already loaded", False)
        return
    modules = {m.code: m for m in TrainingModule.objects.filter(active=True)}
    roles = {u: set(users[u].groups.values_list("name", flat=True)) for u in CURRENT}
    for username, days in CURRENT.items():
        for module in modules.values():
            if roles[username] & set(module.roles):
                _pass(module, users[username], days)
    username, code, days = EXPIRED
    _pass(modules[code], users[username], days)
    username, code = FAILED
    module = modules[code]
    TrainingCompletion.objects.create(
        module=module,
        module_version=module.version,
        user=users[username],
        at=timezone.now() - timedelta(days=2),
        passed=False,
        correct=len(module.questions) - 1,
        total=len(module.questions),
        answers=[q["answer"] for q in module.questions[:-1]] + [0],
        expires_on=None,
    )
    note("training completion", "demo", True, TrainingCompletion.objects.count())
