"""A portfolio of N use cases for measuring pages at scale (issue 18), loaded by
``manage.py seed_scale`` and by the query-count tests (3 and 30 use cases).

Each use case copies the profile of one of the demo's classified use cases (its team,
owners, regulations, PII, datasets, Step 1 answers and models) under a numbered name,
at a stage drawn from a seeded ``random.Random``: production (the newest version of
every model in production: several versions in production), validation (in
pre-production), development, idea (unclassified, nobody named in its RACI) or retired.

Through the services, where the rules are decided: the demo's people, teams and
datasets (``seed_demo``'s loaders); the first use case of each profile is classified by
``classification_submit`` and, when High or Critical, confirmed by the risk officer with
``classification_confirm``; about one use case in 200 in validation asks for production
with ``request_create`` (a pending request, its obligations recomputed and its signers
e-mailed). In bulk, because repeating the service would decide nothing new: the use
cases, their models and versions, RACI assignments (the demo's pattern), the copies of
each profile's classification and confirmation, the obligations (derived by the same
pure rules as ``obligations_recompute``: ``policy_requirements_for`` then
``core.obligation_rules``), the approved requests that put versions in production with
their signatures ("scale fixture" as authentication method), the periodic reviews, and
one audit event per bulk-written row (``audit.services.audit_record_many``, chained like
every other event). Bulk writes send no signal and queue no task: loading N use cases
queues one obligations recompute per profile (about 40), not one per use case, and those
find nothing to change.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

import demo
from audit.services import audit_record_many
from core import obligation_rules
from core import promotion_rules as rules
from demo.scale_findings import scale_findings
from governance.models import (
    Classification,
    ClassificationConfirmation,
    Consideration,
    Obligation,
    ObligationEvent,
    RaciAssignment,
    RaciRole,
)
from governance.selectors.policy import policy_published_latest, policy_requirements_for
from governance.selectors.raci import raci_template_matrix
from inventory.models import Dataset, MLModel, ModelVersion, Regulation, Team, UseCase
from reviews.models import PeriodicReview, PromotionRequest, Signature

SEPARATOR = " · S"  # "Retail credit application scoring · S00042"
AUTH = "scale fixture"
REASON = "Scale fixture (seed_scale): loaded in bulk."
STAGES = (("production", 45), ("validation", 15), ("development", 30), ("idea", 5), ("retired", 5))
FIRST_STAGES = ("production", "validation", "development")
PENDING_EVERY = 200  # one pending request to production per this many use cases


def scale_use_cases():
    return UseCase.objects.filter(name__contains=SEPARATOR)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ScaleBuilder:
    """Builds use cases ``start``..``n - 1`` of the scale portfolio; see the module."""

    def __init__(self, *, users: dict[str, User], teams: dict[str, Team], seed: int = 0):
        self.users = users
        self.teams = teams
        self.rng = random.Random(seed)  # noqa: S311 - fixture data, not security
        self.now = timezone.now()
        self.counts: Counter[str] = Counter()
        self.events: list[dict] = []
        self.datasets = {d.name: d for d in Dataset.objects.all()}
        self.profiles = [s for s in demo.USE_CASES if s.answers is not None]
        self.users_by_pk = {u.pk: u for u in users.values()}
        self._owners: dict[tuple, int | None] = {}
        self._members: dict[int, list[User]] = {}
        self.idea_profiles = [s for s in demo.USE_CASES if s.answers is None] or self.profiles

    # --- the whole load ------------------------------------------------------------------

    @transaction.atomic
    def build(self, n: int) -> Counter[str]:
        start = scale_use_cases().count()
        if start >= n:
            return self.counts
        plan = [self._draw(i) for i in range(start, n)]
        # The first use case of each profile not classified yet is loaded (and goes
        # through the services) before the others are there to slow its queries down.
        known = {
            name.split(SEPARATOR)[0]
            for name in scale_use_cases()
            .filter(classifications__isnull=False)
            .values_list("name", flat=True)
        }
        first: dict[str, dict] = {}
        for p in plan:
            if p["stage"] != "idea" and p["spec"].name not in known:
                first.setdefault(p["spec"].name, p)
        exemplars = {p["index"] for p in first.values()}
        loaded = [
            self._load([p for p in plan if p["index"] in exemplars]),
            self._load([p for p in plan if p["index"] not in exemplars]),
        ]
        self._pending(
            [p for part, _, _ in loaded for p in part],
            [u for _, part, _ in loaded for u in part],
            {k: v for _, _, part in loaded for k, v in part.items()},
        )
        self.counts["audit event"] += audit_record_many(events=self.events, reason=REASON)
        # Findings on about one in five scale versions that have none yet.
        versions = ModelVersion.objects.filter(
            model__use_case__in=scale_use_cases(), findings__isnull=True
        )
        self.counts["finding"] += scale_findings(versions.select_related("registered_by"))
        return self.counts

    def _load(self, plan: list[dict]) -> tuple[list[dict], list[UseCase], dict[int, list]]:
        if not plan:
            return [], [], {}
        use_cases = self._use_cases(plan)
        versions = self._models(plan, use_cases)
        self._raci(plan, use_cases)
        classified = self._classify(plan, use_cases)
        self._obligations(plan, use_cases, versions, classified)
        self._production(plan, versions)
        return plan, use_cases, versions

    def _draw(self, index: int) -> dict:
        stage = self.rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
        if index < len(FIRST_STAGES):  # a small portfolio still shows every kind of page
            stage = FIRST_STAGES[index]
        profiles = self.idea_profiles if stage == "idea" else self.profiles
        spec = profiles[index % len(profiles)]
        return {"index": index, "spec": spec, "stage": stage}

    def _event(self, obj, action: str = "create", parent=None, **changes) -> None:
        self.events.append(
            {
                "action": action,
                "object_type": obj._meta.label_lower,
                "object_id": obj.pk,
                "object_repr": str(obj),
                "parent_type": parent._meta.label_lower if parent is not None else "",
                "parent_id": parent.pk if parent is not None else "",
                "changes": {k: [None, v] for k, v in changes.items()},
            }
        )

    # --- inventory -----------------------------------------------------------------------

    def _use_cases(self, plan: list[dict]) -> list[UseCase]:
        status = {"production": "production", "validation": "validation"}
        rows = []
        for p in plan:
            spec = p["spec"]
            rows.append(
                UseCase(
                    name=f"{spec.name}{SEPARATOR}{p['index'] + 1:05d}",
                    purpose=spec.purpose,
                    restrictions=spec.restrictions,
                    business_owner=self.users[spec.business_owner],
                    technical_owner=self.users[spec.technical_owner],
                    team=self.teams[spec.team],
                    status=status.get(p["stage"], p["stage"]),
                    uses_pii=spec.uses_pii,
                    created_by=self.users[spec.technical_owner],
                )
            )
        use_cases = UseCase.objects.bulk_create(rows, batch_size=1000)
        datasets = UseCase.datasets.through
        links = [
            datasets(usecase_id=u.pk, dataset_id=self.datasets[name].pk)
            for u, p in zip(use_cases, plan, strict=True)
            for name in p["spec"].datasets
            if name in self.datasets
        ]
        datasets.objects.bulk_create(links, batch_size=2000)
        for u in use_cases:
            self._event(u, name=u.name, status=u.status, team=str(u.team_id))
        self.counts["use case"] += len(use_cases)
        return use_cases

    def _models(self, plan: list[dict], use_cases: list[UseCase]) -> dict[int, list]:
        """Models and versions; returns {use case id: [(version, environment)...]}."""
        models, owners = [], []
        for p, u in zip(plan, use_cases, strict=True):
            if p["stage"] == "idea":
                continue
            for m in p["spec"].models:
                models.append(MLModel(use_case=u, name=m.name, description=m.description))
                owners.append((p, m))
        for model, (p, _m) in zip(models, owners, strict=True):
            model.created_by = self.users[p["spec"].technical_owner]
        models = MLModel.objects.bulk_create(models, batch_size=1000)
        rows, envs = [], []
        for model, (p, m) in zip(models, owners, strict=True):
            spec = p["spec"]
            last = len(m.versions) - 1
            for i, label in enumerate(m.versions):
                env = self._environment(p["stage"], i == last, model.name == spec.models[0].name)
                rows.append(
                    ModelVersion(
                        model=model,
                        version_label=label,
                        artifact_uri=demo.artifact_uri(spec.team, m.name, label, m.artifact_ext)
                        + f"#{p['index'] + 1}",
                        artifact_sha256=_sha(f"scale:{p['index']}/{m.name}/{label}"),
                        framework=m.framework,
                        training_dataset=self.datasets.get(m.training_dataset or ""),
                        training_data_ref=demo.training_data_ref(m.training_dataset, label),
                        metrics=demo.version_metrics(m.name, m.metric_kind, i),
                        environment=env,
                        registered_by=self.users[spec.technical_owner],
                    )
                )
                envs.append(p)
        versions = ModelVersion.objects.bulk_create(rows, batch_size=1000)
        authors = ModelVersion.authors.through
        authors.objects.bulk_create(
            [authors(modelversion_id=v.pk, user_id=v.registered_by_id) for v in versions],
            batch_size=2000,
        )
        out: dict[int, list] = {}
        by_model = {m.pk: m for m in models}
        for v in versions:
            model = by_model[v.model_id]
            out.setdefault(model.use_case_id, []).append(v)
            self._event(v, parent=model, version_label=v.version_label, environment=v.environment)
        for model in models:
            self._event(model, parent=model.use_case, name=model.name)
        self.counts["model"] += len(models)
        self.counts["model version"] += len(versions)
        self.counts["version in production"] += sum(v.environment == "prod" for v in versions)
        return out

    @staticmethod
    def _environment(stage: str, newest: bool, first_model: bool) -> str:
        if stage == "retired" or (not newest and stage in ("production", "validation")):
            return "retired"
        if stage == "production":
            return "prod"
        if stage == "validation":
            return "preprod" if first_model else "dev"
        return "dev"

    # --- governance ----------------------------------------------------------------------

    def _raci(self, plan: list[dict], use_cases: list[UseCase]) -> None:
        """The demo's pattern (``demo.raci``): nobody named for ideas."""
        roles = {r.code: r for r in RaciRole.objects.all()}
        lead = self.users["governance.lead"]
        rows = []
        self.staff: dict[int, dict[str, tuple[str, int]]] = {}
        for p, u in zip(plan, use_cases, strict=True):
            if p["stage"] == "idea":
                continue
            named = {
                "business-stakeholders": ("user", self.users_by_pk[u.business_owner_id]),
                "business-analysts": ("team", u.team),
                "data-scientists": ("team", u.team),
                "risk-audit": ("user", self.users["risk.officer"]),
                "data-ops": ("user", self.users_by_pk[u.technical_owner_id]),
                "production": ("user", self.users["approver"]),
                "architect": ("user", lead),
                "validation": ("user", self.users["model.validator"]),
            }
            self.staff[u.pk] = {code: (kind, who.pk) for code, (kind, who) in named.items()}
            for code, (kind, who) in named.items():
                if code in roles:
                    rows.append(
                        RaciAssignment(
                            use_case=u, role=roles[code], assigned_by=lead, **{kind: who}
                        )
                    )
        rows = RaciAssignment.objects.bulk_create(rows, batch_size=2000)
        for a in rows:
            self._event(a, parent=a.use_case, role=a.role.code)
        self.counts["RACI assignment"] += len(rows)

    def _owner(self, use_case_id: int, task: str) -> int | None:
        """The obligation owner ``obligations_recompute`` picks: the first (by username)
        of the people holding A for the task."""
        named = self.staff.get(use_case_id)
        if not named:
            return None
        key = (tuple(sorted(named.items())), task)
        if key not in self._owners:
            self._owners[key] = self._find_owner(named, task)
        return self._owners[key]

    def _find_owner(self, named: dict, task: str) -> int | None:
        people: list[User] = []
        for (t, role), letters in raci_template_matrix().items():
            if t != task or "A" not in letters or role not in named:
                continue
            kind, pk = named[role]
            if kind == "user":
                people.append(self.users_by_pk[pk])
            else:
                people += list(self.team_members(pk))
        people.sort(key=lambda u: u.username)
        return people[0].pk if people else None

    def team_members(self, team_id: int) -> list[User]:
        if team_id not in self._members:
            self._members[team_id] = list(User.objects.filter(teams__pk=team_id, is_active=True))
        return self._members[team_id]

    def _classify(self, plan: list[dict], use_cases: list[UseCase]) -> dict[int, Classification]:
        """The first use case of each profile through the services, the others copied."""
        from governance.services import classification_confirm, classification_submit

        exemplars: dict[str, tuple[UseCase, Classification, ClassificationConfirmation | None]]
        exemplars = {}
        found = Classification.objects.filter(use_case__in=scale_use_cases()).select_related(
            "use_case"
        )
        for c in found.order_by("use_case_id", "-classified_at"):
            name = c.use_case.name.split(SEPARATOR)[0]
            if name not in exemplars:
                exemplars[name] = (c.use_case, c, c.confirmations.first())
        copies, out = [], {}
        for p, u in zip(plan, use_cases, strict=True):
            spec = p["spec"]
            if p["stage"] == "idea" or spec.answers is None:
                continue
            if spec.name not in exemplars:
                c = classification_submit(
                    use_case=u,
                    answers=spec.answers,
                    by=self.users[spec.technical_owner],
                    note="Scale fixture: the profile's questionnaire.",
                )
                u.refresh_from_db()
                confirmation = None
                if c.risk_tier >= 3:
                    confirmation = classification_confirm(
                        use_case=u,
                        by=self.users["risk.officer"],
                        password=demo.DEMO_PASSWORD,
                        note="Scale fixture: the second line agrees with the class.",
                    )
                exemplars[spec.name] = (u, c, confirmation)
                self.counts["classified through the service"] += 1
                out[u.pk] = c
                continue
            ex, c, _ = exemplars[spec.name]
            u.criticality, u.risk_tier = ex.criticality, ex.risk_tier
            copies.append((u, ex, c))
        UseCase.objects.bulk_update([u for u, _, _ in copies], ["criticality", "risk_tier"], 1000)
        regs = UseCase.regulations.through
        codes = {
            ex.pk: list(ex.regulations.values_list("pk", flat=True))
            for ex, _, _ in exemplars.values()
        }
        self.regulation_codes = {pk: self._codes(ids) for pk, ids in codes.items()}
        self.regulation_codes |= {u.pk: self.regulation_codes[ex.pk] for u, ex, _ in copies}
        regs.objects.bulk_create(
            [regs(usecase_id=u.pk, regulation_id=r) for u, ex, _ in copies for r in codes[ex.pk]],
            batch_size=2000,
        )
        rows = Classification.objects.bulk_create(
            [
                Classification(
                    use_case=u,
                    answers=c.answers,
                    criticality=c.criticality,
                    risk_tier=c.risk_tier,
                    reasons=c.reasons,
                    rules_fingerprint=c.rules_fingerprint,
                    classified_by=c.classified_by,
                    classified_at=self.now - timedelta(days=self.rng.randint(30, 700)),
                    note=c.note,
                )
                for u, _, c in copies
            ],
            batch_size=1000,
        )
        confirmations = []
        for row, (u, ex, _) in zip(rows, copies, strict=True):
            out[u.pk] = row
            self._event(row, action="classification.submitted", parent=u, risk_tier=row.risk_tier)
            confirmation = exemplars[ex.name.split(SEPARATOR)[0]][2]
            if confirmation is not None:
                confirmations.append(
                    ClassificationConfirmation(
                        classification=row,
                        use_case=u,
                        risk_tier=row.risk_tier,
                        confirmed_by=confirmation.confirmed_by,
                        printed_name=confirmation.printed_name,
                        confirmed_at=row.classified_at + timedelta(days=2),
                        note=confirmation.note,
                    )
                )
        for c in ClassificationConfirmation.objects.bulk_create(confirmations, batch_size=1000):
            self._event(c, action="classification.confirmed", parent=c.use_case)
        self.counts["classification"] += len(out)
        return out

    def _codes(self, regulation_ids: list[int]) -> tuple[str, ...]:
        if not hasattr(self, "_regulations"):
            self._regulations = dict(Regulation.objects.values_list("pk", "code"))
        return tuple(sorted(self._regulations[pk] for pk in regulation_ids))

    def _obligations(self, plan, use_cases, versions, classified) -> None:
        policy = policy_published_latest()
        if policy is None:
            return
        considerations = {c.code: c for c in Consideration.objects.all()}
        derived_for: dict[tuple, list] = {}
        self.signoff: dict[int, dict] = {}
        rows = []
        for p, u in zip(plan, use_cases, strict=True):
            if u.pk not in classified:
                continue
            ex_codes = self.regulation_codes[u.pk]
            key = (u.risk_tier, ex_codes)
            if key not in derived_for:
                requirements = policy_requirements_for(
                    tier=u.risk_tier, regulation_codes=list(ex_codes), version=policy
                )
                derived_for[key] = obligation_rules.derive(requirements)
            derived = derived_for[key]
            ids = [v.pk for v in versions.get(u.pk, []) if v.environment != "retired"]
            due = self.now.date() + timedelta(days=obligation_rules.due_days(u.risk_tier))
            met = p["stage"] == "production"
            for (code, version_id), d in obligation_rules.expand(derived, ids).items():
                if code == "human-signoff":
                    self.signoff[u.pk] = d.parameters
                done = met or self.rng.random() < 0.3
                rows.append(
                    Obligation(
                        use_case=u,
                        model_version_id=version_id,
                        consideration=considerations[code],
                        level=d.level,
                        text=d.text,
                        parameters=d.parameters,
                        why=d.why,
                        policy_version=policy,
                        owner_id=self._owner(u.pk, obligation_rules.task_for(code)),
                        status=Obligation.Status.ACCEPTED if done else Obligation.Status.OPEN,
                        due_date=due,
                        created_at=self.now,
                    )
                )
        rows = Obligation.objects.bulk_create(rows, batch_size=1000)
        ObligationEvent.objects.bulk_create(
            [
                ObligationEvent(
                    obligation=o,
                    kind=ObligationEvent.Kind.CREATED,
                    at=self.now,
                    detail={"to": {"level": o.level}, "model_version": o.model_version_id},
                    reason=REASON,
                )
                for o in rows
            ],
            batch_size=2000,
        )
        for o in rows:
            self.events.append(
                {
                    "action": "obligation.created",
                    "object_type": "governance.obligation",
                    "object_id": o.pk,
                    "object_repr": f"{o.use_case.name}: {o.consideration.code}",
                    "parent_type": "inventory.usecase",
                    "parent_id": o.use_case_id,
                    "changes": {"level": [None, o.level]},
                }
            )
        self.counts["obligation"] += len(rows)

    # --- reviews -------------------------------------------------------------------------

    def _production(self, plan, versions) -> None:
        """The approved request that put each production version there, its
        signatures, and a periodic review for about a third of them."""
        requests, reviews = [], []
        signers = {"model-acceptance": self.users["risk.officer"], "deployments": None}
        signers["deployments"] = self.users["approver"]
        for use_case_id, vs in versions.items():
            for v in vs:
                if v.environment != "prod":
                    continue
                entered = self.now - timedelta(days=self.rng.randint(10, 400))
                params = self.signoff.get(use_case_id)
                required = rules.signoffs_required(rules.PROMOTE, "preprod", "prod", params)
                requests.append(
                    PromotionRequest(
                        model_version=v,
                        kind=rules.PROMOTE,
                        from_environment="preprod",
                        to_environment="prod",
                        justification="Validated in pre-production.",
                        requested_by=v.registered_by,
                        requested_at=entered - timedelta(days=3),
                        required_signoffs=required,
                        slots=rules.slots_for(rules.PROMOTE, required),
                        status=PromotionRequest.Status.APPROVED,
                        decided_at=entered,
                    )
                )
                if self.rng.random() < 0.33:
                    reviews.append(
                        PeriodicReview(
                            model_version=v,
                            reviewed_by=self.users["risk.officer"],
                            reviewed_at=entered + timedelta(days=self.rng.randint(5, 300)),
                            outcome=PeriodicReview.Outcome.SATISFACTORY,
                            note="Scale fixture: performance and inputs as expected.",
                            interval_days=182,
                        )
                    )
        reviews = [r for r in reviews if r.reviewed_at < self.now]
        requests = PromotionRequest.objects.bulk_create(requests, batch_size=1000)
        signatures = []
        for r in requests:
            seen = set()
            for slot in r.slots:
                signer = signers[slot]
                if signer.pk in seen:
                    continue
                seen.add(signer.pk)
                manifest = {
                    "version": r.model_version_id,
                    "artifact": r.model_version.artifact_sha256,
                }
                signatures.append(
                    Signature(
                        request=r,
                        signer=signer,
                        printed_name=f"{signer.get_full_name()} ({signer.username})",
                        signed_at=r.decided_at,
                        meaning=Signature.Meaning.APPROVED,
                        slot=slot,
                        manifest=manifest,
                        manifest_hash=_sha(json.dumps(manifest, sort_keys=True)),
                        auth_method=AUTH,
                    )
                )
            self._event(r, action="promotion.approved", parent=r.model_version, status="approved")
        Signature.objects.bulk_create(signatures, batch_size=2000)
        for review in PeriodicReview.objects.bulk_create(reviews, batch_size=1000):
            self._event(review, action="periodic_review.signed", parent=review.model_version)
        self.counts["approved request"] += len(requests)
        self.counts["signature"] += len(signatures)
        self.counts["periodic review"] += len(reviews)

    def _pending(self, plan, use_cases, versions) -> None:
        """Pending requests to production, through ``request_create``."""
        from reviews.services.promotion import request_create

        waiting = [
            v
            for p, u in zip(plan, use_cases, strict=True)
            if p["stage"] == "validation"
            for v in versions.get(u.pk, [])
            if v.environment == "preprod"
        ]
        wanted = max(1, len(plan) // PENDING_EVERY)
        step = max(1, len(waiting) // wanted)
        for v in waiting[::step][:wanted]:
            request_create(
                version=v,
                by=v.registered_by,
                justification="Validated in pre-production; asking for production.",
            )
            self.counts["pending request (service)"] += 1


def load(*, n: int, seed: int = 0, say: Callable[[str], None] = print) -> Counter[str]:
    """Load the demo's people, teams and datasets (through ``seed_demo``'s loaders) if
    missing, then the scale portfolio up to ``n`` use cases."""
    from demo.management.commands.seed_demo import Command as SeedDemo

    loader = SeedDemo()
    loader.verbosity = 0
    loader.created, loader.existing = Counter(), Counter()
    with transaction.atomic():
        loader.teams = loader._teams()
        loader.users = loader._users()
        loader._datasets()
    builder = ScaleBuilder(users=loader.users, teams=loader.teams, seed=seed)
    return builder.build(n)
