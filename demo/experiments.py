"""The demo's pre-registered experiments (issue #7), loaded by ``manage.py seed_demo``
after the other loaders.

- An A/B test on "Complaint topic analysis": version 0.1 (champion) against 0.2
  (challenger) suggest a topic for each new complaint; the primary metric is whether
  the agent kept the suggested topic (a proportion), split 50/50 by a hash of the
  complaint id, about 14,500 complaints per arm; the challenger is truly better
  (64% against 62%). Guardrail: supervisor reassignments must not rise.
- A shadow-scoring comparison on "Delivery fleet predictive maintenance": a new
  version 0.6 of the component failure classifier scores the same inspections as 0.5
  in shadow; paired binary correctness (flag = failure within 30 days), McNemar's test.

Each is registered, started (the protocol signed) its fixed duration ago (whole weeks),
fed with outcomes drawn from a seeded numpy generator, ended at the later of its end
date and its planned sample size, analysed, its result signed
and submitted as preproduction-verification evidence, and its challenger gets a
promotion request left pending, so the sign-off page shows the evidence.

These use cases were chosen because their preproduction-verification obligation is
still open: the production use cases' obligations were accepted by the sign-off
history, and accepted evidence is not replaced. Signatures made here record
"demo data loader" as their authentication method, as ``demo.reviews``
does. Idempotent: an experiment that exists (by use case and name) is left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.contrib.auth.models import User
from django.utils import timezone

import demo
from core import experiment_stats as st
from experiments import services as svc
from experiments.models import Experiment
from experiments.permissions import can_run_experiment
from inventory import services as inventory_services
from inventory.models import MLModel, ModelVersion, UseCase
from reviews.models import PromotionRequest
from reviews.services import promotion as promotion_svc

AUTH = "demo data loader"
SEED = 20261127

AB_USE_CASE = "Complaint topic analysis"
AB_MODEL = "Complaint topic model"
AB_NAME = "Topic suggestions kept by agents: 0.2 against 0.1"
SHADOW_USE_CASE = "Delivery fleet predictive maintenance"
SHADOW_MODEL = "Component failure classifier"
SHADOW_CHALLENGER = "0.6"
SHADOW_NAME = "Failure flags in shadow: 0.6 against 0.5"


def _owner(use_case: UseCase, users: dict[str, User]) -> User:
    owner = use_case.technical_owner
    if owner is not None and can_run_experiment(owner, use_case):
        return owner
    return users["governance.lead"]


def _version(use_case: UseCase, model: str, label: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(
        model__use_case=use_case, model__name=model, version_label=label
    ).first()


def _challenger_version(use_case: UseCase, by: User) -> ModelVersion:
    """Register the shadow challenger 0.6 next to the demo's 0.5 (idempotent)."""
    spec = next(s for s in demo.USE_CASES if s.name == SHADOW_USE_CASE)
    model_spec = next(m for m in spec.models if m.name == SHADOW_MODEL)
    ml_model = MLModel.objects.get(use_case=use_case, name=SHADOW_MODEL)
    champion = _version(use_case, SHADOW_MODEL, model_spec.versions[-1])
    version, _ = inventory_services.model_version_register(
        by=by,
        model=ml_model,
        version_label=SHADOW_CHALLENGER,
        artifact_uri=demo.artifact_uri(
            spec.team, SHADOW_MODEL, SHADOW_CHALLENGER, model_spec.artifact_ext
        ),
        artifact_sha256=demo.artifact_sha256(spec.team, SHADOW_MODEL, SHADOW_CHALLENGER),
        framework=model_spec.framework,
        training_dataset=champion.training_dataset if champion else None,
        training_data_ref=demo.training_data_ref(model_spec.training_dataset, SHADOW_CHALLENGER),
        metrics=demo.version_metrics(
            SHADOW_MODEL, model_spec.metric_kind, len(model_spec.versions)
        ),
        authors=[by],
    )
    return version


def _start_weeks_ago(experiment: Experiment, owner: User) -> None:
    """Start the experiment its fixed duration (and a day) ago, so that it ran its
    whole duration (issue 14: the demo's test ended on day 0 of 15 planned days)."""
    started = timezone.now() - timedelta(days=(experiment.duration_days or 14) + 1)
    svc.experiment_start_unchecked(experiment=experiment, by=owner, auth_method=AUTH, now=started)
    experiment.refresh_from_db()


def _finish(experiment: Experiment, owner: User, justification: str) -> None:
    """End (the outcomes completed it after its end date: already ended then), analyse,
    sign the result (evidence) and ask to promote the challenger."""
    svc.experiment_end(experiment=experiment, reason=svc.END_REASON)
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    svc.experiment_result_sign_unchecked(
        experiment=experiment,
        by=owner,
        auth_method=AUTH,
        reason="Pre-registered analysis read; data-quality checks passed.",
    )
    # Moves that need no sign-off are approved at once; ask for the next one until a
    # request waits for sign-off (where the evidence shows), as far as production.
    challenger = experiment.challenger
    for _ in range(3):
        challenger.refresh_from_db()
        pending = challenger.promotion_requests.filter(status=PromotionRequest.Status.PENDING)
        if pending.exists() or challenger.environment == "prod":
            return
        promotion_svc.request_create(version=challenger, by=owner, justification=justification)


def _ab(users: dict[str, User], note: Callable[..., None]) -> Experiment | None:
    use_case = UseCase.objects.filter(name=AB_USE_CASE).first()
    champion = _version(use_case, AB_MODEL, "0.1") if use_case else None
    challenger = _version(use_case, AB_MODEL, "0.2") if use_case else None
    if champion is None or challenger is None:
        note("experiment", f"skipped: no versions 0.1 and 0.2 of {AB_MODEL!r}", False)
        return None
    existing = Experiment.objects.filter(use_case=use_case, name=AB_NAME).first()
    if existing:
        note("experiment", AB_NAME, False)
        return existing
    owner = _owner(use_case, users)
    experiment = svc.experiment_create(
        use_case=use_case,
        by=owner,
        name=AB_NAME,
        hypothesis="Topic model 0.2, trained on a year more of labelled complaints, suggests "
        "topics that agents keep more often than 0.1 does.",
        champion=champion,
        challenger=challenger,
        design="ab",
        metric_kind="proportion",
        primary_metric="suggested topic kept by the agent",
        population="New written complaints in the EU contact centres, all channels.",
        splitting="hash",
        entity_key_name="complaint_id",
        protocol={
            "alpha": 0.05,
            "power": 0.8,
            "minimum_effect": 0.016,
            "baseline_proportion": 0.62,
            "split": {"champion": 50, "challenger": 50},
            "daily_traffic": 2000,
            "guardrails": [
                {
                    "name": "reassigned_by_supervisor",
                    "metric_kind": "proportion",
                    "tolerance": 0.005,
                    "higher_is_better": False,
                },
            ],
        },
        salt=f"demo-{SEED}-ab",
    )
    _start_weeks_ago(experiment, owner)
    planned = experiment.sample_size["maximum"]
    rng = np.random.default_rng(SEED)
    truth = {"champion": 0.62, "challenger": 0.64}
    seen = {arm: 0 for arm in st.ARMS}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(svc.outcomes_csv_columns(experiment))
    i = 0
    while any(seen[a] < planned[a] for a in st.ARMS):
        key = f"CMP-{i:07d}"
        i += 1
        arm = st.assign_arm(experiment.salt, key, experiment.protocol["split"])
        seen[arm] += 1
        kept = int(rng.random() < truth[arm])
        reassigned = int(rng.random() < 0.05)
        writer.writerow([key, arm, kept, reassigned])
    svc.outcomes_upload_csv(
        experiment=experiment,
        by=owner,
        data=out.getvalue().encode(),
        name="complaint-topic-outcomes.csv",
    )
    _finish(experiment, owner, "Won its pre-registered A/B test against 0.1 (evidence attached).")
    note("experiment", AB_NAME, True)
    return experiment


def _shadow(users: dict[str, User], note: Callable[..., None]) -> Experiment | None:
    use_case = UseCase.objects.filter(name=SHADOW_USE_CASE).first()
    champion = _version(use_case, SHADOW_MODEL, "0.5") if use_case else None
    if champion is None:
        note("experiment", f"skipped: no version 0.5 of {SHADOW_MODEL!r}", False)
        return None
    existing = Experiment.objects.filter(use_case=use_case, name=SHADOW_NAME).first()
    if existing:
        note("experiment", SHADOW_NAME, False)
        return existing
    owner = _owner(use_case, users)
    challenger = _challenger_version(use_case, owner)
    experiment = svc.experiment_create(
        use_case=use_case,
        by=owner,
        name=SHADOW_NAME,
        hypothesis="Classifier 0.6, with vibration spectra as features, flags the components "
        "that fail within 30 days more accurately than 0.5.",
        champion=champion,
        challenger=challenger,
        design="shadow",
        metric_kind="proportion",
        primary_metric="correct failure flag (failure within 30 days or not)",
        population="Daily inspections of delivery vans' drive-train components, all depots.",
        protocol={
            "alpha": 0.05,
            "power": 0.8,
            "minimum_effect": 0.02,
            "baseline_proportion": 0.86,
            "discordant_proportion": 0.12,
            "daily_traffic": 300,
        },
        salt=f"demo-{SEED}-shadow",
    )
    _start_weeks_ago(experiment, owner)
    n = experiment.sample_size["maximum"]["pairs"]
    rng = np.random.default_rng(SEED + 1)
    # discordant pairs: 4.5% champion only, 7.5% challenger only (accuracy 0.86 -> 0.89)
    u = rng.random(n)
    champion_ok = np.where(u < 0.815, 1, np.where(u < 0.86, 1, 0))
    challenger_ok = np.where(u < 0.815, 1, np.where(u < 0.86, 0, np.where(u < 0.935, 1, 0)))
    rows = [
        {"entity_key": f"INSP-{k:06d}", "champion_outcome": int(a), "challenger_outcome": int(b)}
        for k, (a, b) in enumerate(zip(champion_ok, challenger_ok, strict=True))
    ]
    svc.outcomes_record(experiment=experiment, by=owner, rows=rows, name="shadow-scores")
    _finish(
        experiment, owner, "Beat 0.5 in a pre-registered shadow comparison (evidence attached)."
    )
    note("experiment", SHADOW_NAME, True)
    return experiment


def load(*, users: dict[str, User], note: Callable[..., None]) -> list[Experiment]:
    return [e for e in (_ab(users, note), _shadow(users, note)) if e is not None]
