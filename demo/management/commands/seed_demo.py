"""``manage.py seed_demo``: load the demo portfolio of ``demo``.

Everything is written through the services (``inventory.services``,
``governance.services.classification_submit``), so the demo obeys the same rules as
the pages and the API and its classification reasons are real. Idempotent: rows are
found by their natural keys (username, team slug, dataset and use-case names, model
name, version label) and reused; a second run creates and changes nothing.
"""

from collections import Counter

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import demo
from accounts.roles import Role
from demo import engagement as demo_engagement
from demo import ethics as demo_ethics
from demo import experiments as demo_experiments
from demo import fairness as demo_fairness
from demo import findings as demo_findings
from demo import mlflow_registry as demo_mlflow
from demo import monitoring as demo_monitoring
from demo import oversight as demo_oversight
from demo import raci as demo_raci
from demo import reviews as demo_reviews
from governance.selectors.classification import (
    classification_confirmation_for,
    classification_latest,
    classification_needs_confirmation,
)
from governance.services import classification_confirm, classification_submit
from governance.services.db_statistics import database_statistics_refresh
from inventory import services
from inventory.choices import Criticality, RiskTier
from inventory.models import Dataset, MLModel, Regulation, Team, UseCase


class Command(BaseCommand):
    help = (
        "Load the demo portfolio: users (one per role, password "
        f"'{demo.DEMO_PASSWORD}'), teams, datasets, use cases, models, versions and "
        "classifications. Idempotent: a second run reuses what exists and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load the demo although DJANGO_DEBUG is false (a throw-away demo site only)",
        )
        parser.add_argument(
            "--mlflow-only",
            action="store_true",
            help="only the demo registry in MLFLOW_TRACKING_URI's server, synced here "
            "(the portfolio is loaded already)",
        )

    def handle(self, *args, **options):
        allowed = options["allow_production"] or settings.DEMO_SEED_ALLOW_PRODUCTION
        if settings.PRODUCTION and not allowed:
            # Before any database access: nothing is written.
            raise CommandError(
                "Refusing to load the demo portfolio: DJANGO_DEBUG is false (production "
                f"settings). The demo creates users whose password is the public "
                f"'{demo.DEMO_PASSWORD}', one of them a governance lead with the admin "
                "site. On a throw-away demonstration site only, pass --allow-production "
                "or set DEMO_SEED_ALLOW_PRODUCTION=true. To start production, use make "
                "prod (which never loads the demo)."
            )
        if options["mlflow_only"]:
            lead = User.objects.filter(username="governance.lead", is_active=True).first()
            if lead is None:
                raise CommandError("Load the demo portfolio first (manage.py seed_demo).")
            if not settings.MLFLOW_TRACKING_URI:
                raise CommandError("MLFLOW_TRACKING_URI is not set: no registry to load.")
            demo_mlflow.load(by=lead, say=self.stdout.write)
            return
        self.verbosity = options["verbosity"]
        self.created: Counter[str] = Counter()
        self.existing: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.sources: list[str] = []  # which data the data-driven parts loaded
        try:
            with transaction.atomic():
                self._seed()
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(f"The demo portfolio could not be loaded: {exc}") from exc
        self._report()
        # With MLFLOW_TRACKING_URI set: a demo registry in that MLflow server, synced here
        # (after the portfolio's transaction: each version is imported in its own).
        demo_mlflow.load(by=self.users["governance.lead"], say=self.stdout.write)

    # --- loading ---------------------------------------------------------------------

    def _note(self, kind: str, name: str, created: bool, count: int = 1) -> None:
        (self.created if created else self.existing)[kind] += count
        if self.verbosity >= 2:
            self.stdout.write(f"  {'created' if created else 'exists '} {kind}: {name}")

    def _seed(self) -> None:
        self.teams = self._teams()
        self.users = self._users()
        self.datasets = self._datasets()
        for spec in demo.USE_CASES:
            use_case = self._use_case(spec)
            for model_spec in spec.models:
                self._model(spec, use_case, model_spec)
            self._classify(spec, use_case)
        # Step 3: people named for each use case's RACI roles (first: ethics deviations
        # are owned by the Accountable of model acceptance).
        demo_raci.load(users=self.users, note=self._note)
        # Step 2: the approved ethical position and some use cases' ethics answers.
        demo_ethics.load(users=self.users, note=self._note)
        # Step 1, second line: the risk officer confirms High and Critical classes, once
        # the ethics answers have re-classified what they touch (a re-classification
        # voids a confirmation).
        for spec in demo.USE_CASES:
            self._confirm(spec, UseCase.objects.get(name=spec.name))
        # Step 5: what each classified use case owes, why, and who owns each.
        self._obligations()
        # Sign-offs: promotion histories, pending approvals, a rejection, a revocation.
        demo_reviews.load(users=self.users, note=self._note)
        # Bias summary: the real COMPAS scores on a high-tier use case's version (seeded
        # synthetic scores when the COMPAS file is absent, as in a fresh clone).
        demo_fairness.load(users=self.users, note=self._note, say=self.sources.append)
        # Monitoring: a year of drift and performance windows, with a real drift alert.
        demo_monitoring.load(users=self.users, note=self._note)
        # Experiments: a finished A/B test and a shadow comparison, each signed as evidence.
        demo_experiments.load(users=self.users, note=self._note)
        # Findings management: one finding at every severity and status of the flow.
        demo_findings.load(users=self.users, note=self._note)
        # Step 7: the ethical position's attestation campaign running, training records.
        demo_engagement.load(users=self.users, note=self._note)
        # Step 8: a year of KPI snapshots ending today, KRIs (one in breach), and a signed
        # framework review whose proposal became a policy draft.
        demo_oversight.load(users=self.users, note=self._note)

    def _obligations(self) -> None:
        from governance.services import obligations_recompute

        for use_case in UseCase.objects.filter(risk_tier__isnull=False).order_by("pk"):
            counts = obligations_recompute(use_case=use_case, reason="Demo portfolio loaded.")
            active = use_case.obligations.filter(active=True).count()
            self._note("obligation", use_case.name, bool(sum(counts.values())), active)

    def _teams(self) -> dict[str, Team]:
        teams = {}
        for slug, name in demo.TEAMS:
            team, created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
            self._note("team", name, created)
            teams[slug] = team
        return teams

    def _users(self) -> dict[str, User]:
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        if len(groups) != len(Role.values):
            raise CommandError("The role groups are missing: run `manage.py migrate` first.")
        users = {}
        # Hashed once: the demo users share one password, and hashing is slow by design.
        password = None
        for person in demo.PEOPLE:
            user, created = User.objects.get_or_create(
                username=person.username,
                defaults={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": f"{person.username}@{demo.EMAIL_DOMAIN}",
                    "is_staff": person.is_staff,
                },
            )
            if created:
                password = password or make_password(demo.DEMO_PASSWORD)
                user.password = password
                user.save(update_fields=["password"])
                user.groups.add(groups[person.role])
                for slug in person.teams:
                    self.teams[slug].members.add(user)
            self._note("user", person.username, created)
            users[person.username] = user
        return users

    def _datasets(self) -> dict[str, Dataset]:
        datasets = {}
        for spec in demo.DATASETS:
            dataset = Dataset.objects.filter(name=spec.name).first()
            created = dataset is None
            if created:
                dataset = services.dataset_create(
                    by=self.users[spec.owner],
                    name=spec.name,
                    description=spec.description,
                    source=spec.source,
                    provenance=spec.provenance,
                    owner=self.users[spec.owner],
                    team=self.teams[spec.team],
                    columns=[
                        {"name": n, "data_type": t, "is_pii": pii, "lineage_notes": notes}
                        for n, t, pii, notes in spec.columns
                    ],
                )
            self._note("dataset", spec.name, created)
            datasets[spec.name] = dataset
        return datasets

    def _use_case(self, spec: demo.UseCaseSpec) -> UseCase:
        use_case = UseCase.objects.filter(name=spec.name).first()
        created = use_case is None
        if created:
            regulations = list(Regulation.objects.filter(code__in=spec.regulations))
            missing = set(spec.regulations) - {r.code for r in regulations}
            if missing:
                raise CommandError(f"Unknown regulation(s) {sorted(missing)}: run migrate.")
            use_case = services.use_case_create(
                by=self.users[spec.technical_owner],
                name=spec.name,
                purpose=spec.purpose,
                restrictions=spec.restrictions,
                business_owner=self.users[spec.business_owner],
                technical_owner=self.users[spec.technical_owner],
                team=self.teams[spec.team],
                # The status follows the versions (issue 12): a use case starts in
                # development and reaches validation or production through its
                # promotions (demo.reviews), as the spec's status says.
                status=spec.status if spec.status in ("idea", "retired") else "development",
                uses_pii=spec.uses_pii,
                regulations=regulations,
                datasets=[self.datasets[name] for name in spec.datasets],
            )
        self._note("use case", spec.name, created)
        return use_case

    def _model(self, spec: demo.UseCaseSpec, use_case: UseCase, model: demo.ModelSpec) -> None:
        owner = self.users[spec.technical_owner]
        ml_model = MLModel.objects.filter(use_case=use_case, name=model.name).first()
        created = ml_model is None
        if created:
            ml_model = services.ml_model_create(
                by=owner, use_case=use_case, name=model.name, description=model.description
            )
        self._note("model", model.name, created)
        authors = [owner] + [self.users[name] for name in spec.extra_authors]
        for index, label in enumerate(model.versions):
            _, created = services.model_version_register(
                by=owner,
                model=ml_model,
                version_label=label,
                artifact_uri=demo.artifact_uri(spec.team, model.name, label, model.artifact_ext),
                artifact_sha256=demo.artifact_sha256(spec.team, model.name, label),
                framework=model.framework,
                training_dataset=self.datasets[model.training_dataset]
                if model.training_dataset
                else None,
                training_data_ref=demo.training_data_ref(model.training_dataset, label),
                metrics=demo.version_metrics(model.name, model.metric_kind, index),
                authors=authors,
            )
            self._note("model version", f"{model.name} {label}", created)

    def _classify(self, spec: demo.UseCaseSpec, use_case: UseCase) -> None:
        if spec.answers is None:
            return
        existing = use_case.classifications.count()
        if existing:
            self._note("classification", spec.name, False, count=existing)
            return
        steps = [(spec.technical_owner, spec.answers, spec.note, spec.expected)]
        if spec.reclassification:
            r = spec.reclassification
            steps.append((r.by, r.answers, r.note, r.expected))
        for by, answers, note, expected in steps:
            classification = classification_submit(
                use_case=use_case,
                answers=answers,
                by=self.users[by],
                note=note or "Demo portfolio: questionnaire answered by the technical owner.",
            )
            self._note("classification", spec.name, True)
            got = (classification.criticality, classification.risk_tier)
            if got != expected:
                self.warnings.append(
                    f"{spec.name}: classified at level {got[0]}, tier {got[1]}; the demo "
                    f"expects level {expected[0]}, tier {expected[1]} (were the rules edited?)"
                )

    def _confirm(self, spec: demo.UseCaseSpec, use_case: UseCase) -> None:
        """The risk officer confirms each High and Critical classification (issue 12),
        through the service with the demo password, as on the page. A classification
        the risk officer made is left for another risk officer."""
        use_case.refresh_from_db()
        if not classification_needs_confirmation(use_case=use_case):
            return
        if classification_confirmation_for(use_case=use_case) is not None:
            self._note("classification confirmation", spec.name, False)
            return
        if classification_latest(use_case=use_case).classified_by == self.users["risk.officer"]:
            # The risk officer's own re-classification waits for another risk officer:
            # the demo shows a High class awaiting its confirmation.
            return
        try:
            classification_confirm(
                use_case=use_case,
                by=self.users["risk.officer"],
                password=demo.DEMO_PASSWORD,
                note="Demo portfolio: the second line agrees with the class.",
            )
        except (PermissionDenied, ValidationError) as exc:
            self.warnings.append(f"{spec.name}: classification not confirmed: {exc}")
            return
        self._note("classification confirmation", spec.name, True)

    # --- report ----------------------------------------------------------------------

    def _report(self) -> None:
        kinds = ["user", "team", "dataset", "use case", "model", "model version"]
        kinds.append("classification")
        for label, counter in (("Created", self.created), ("Already there", self.existing)):
            parts = [f"{counter[k]} {k}{'' if counter[k] == 1 else 's'}" for k in kinds]
            parts = [p for p, k in zip(parts, kinds, strict=True) if counter[k]]
            self.stdout.write(f"{label}: {', '.join(parts) if parts else 'nothing'}.")
        if not self.created:
            self.stdout.write("The demo portfolio already exists; nothing was changed.")
        else:
            database_statistics_refresh()  # the planner's statistics for the new rows
        for line in self.sources:
            self.stdout.write(line)
        for warning in self.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        self._summary()

    def _summary(self) -> None:
        rows = list(
            UseCase.objects.filter(name__in=[s.name for s in demo.USE_CASES]).values_list(
                "criticality", "risk_tier"
            )
        )
        classified = [(c, t) for c, t in rows if t is not None]
        matrix = Counter(classified)
        by_level = Counter(c for c, _ in classified)
        by_tier = Counter(t for _, t in classified)
        out = self.stdout.write
        out("")
        out(
            f"Demo portfolio: {len(rows)} use cases, {len(classified)} classified, "
            f"{len(rows) - len(classified)} awaiting their questionnaire."
        )
        width = max(len(label) for label in RiskTier.labels) + 2
        out(f"{'criticality level':<44}" + "".join(f"{t:>{width}}" for t in RiskTier.labels))
        for level in Criticality:
            cells = "".join(f"{matrix[(level.value, t)]:>{width}}" for t in RiskTier.values)
            out(f"{level.label:<44}{cells}   = {by_level[level.value]}")
        out(f"{'total by tier':<44}" + "".join(f"{by_tier[t]:>{width}}" for t in RiskTier.values))
        out("")
        out(f"Demo log-ins (password for all: {demo.DEMO_PASSWORD}):")
        for person in demo.PEOPLE[:6]:
            out(f"  {Role(person.role).label:<16} {person.username}")
