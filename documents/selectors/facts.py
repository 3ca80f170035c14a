"""The facts a governance document of one model version is built from: plain data read
from the records (``core.documents.sections`` turns them into sections), the Plotly
figures the document shows, and the list of records it was built from (each with its
id and, where it has one, its SHA-256).

Every value is as the records hold it, so that the same records give the same facts:
no "now", no "time since".
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q

from core.audit_chain import iso_utc
from core.charts import bias as bias_charts
from experiments.models import Experiment
from fairness.models import BiasSummary
from governance.models import (
    Classification,
    EthicsAnswerSet,
    EthicsDeviation,
    Obligation,
    RequirementMinimum,
)
from governance.selectors.raci import raci_view
from inventory.models import ModelVersion
from monitoring.models import DriftAlert, MonitoringWindow
from reviews.models import Finding, PeriodicReview, PromotionRequest, Signature, Validation

WINDOWS_SHOWN = 10


def _who(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _when(moment) -> str:
    return iso_utc(moment)[:19].replace("T", " ") if moment else ""


def _signature(s: Signature | None) -> dict | None:
    if s is None:
        return None
    return {
        "id": s.pk,
        "printed_name": s.printed_name,
        "signed_at": _when(s.signed_at),
        "meaning": s.meaning,
        "meaning_display": s.get_meaning_display(),
        "manifest_hash": s.manifest_hash,
    }


def _use_case(uc) -> dict:
    return {
        "id": uc.pk,
        "name": uc.name,
        "purpose": uc.purpose,
        "restrictions": uc.restrictions,
        "team": uc.team.name,
        "business_owner": _who(uc.business_owner),
        "technical_owner": _who(uc.technical_owner),
        "status": uc.get_status_display(),
        "regulations": sorted(r.code for r in uc.regulations.all()),
        "uses_pii": uc.uses_pii,
        "risk_tier": uc.get_risk_tier_display() if uc.risk_tier else "",
    }


def _version(v: ModelVersion) -> dict:
    return {
        "id": v.pk,
        "label": v.version_label,
        "model": v.model.name,
        "artifact_uri": v.artifact_uri,
        "artifact_sha256": v.artifact_sha256,
        "framework": v.framework,
        "metrics": v.metrics or {},
        "environment": v.get_environment_display(),
        "registered_by": _who(v.registered_by),
        "registered_at": _when(v.registered_at),
        "authors": sorted(_who(a) for a in v.authors.all()),
        "training_data_ref": v.training_data_ref,
    }


def _dataset(v: ModelVersion) -> dict | None:
    data = v.training_dataset
    if data is None:
        return None
    return {
        "name": data.name,
        "description": data.description,
        "owner": _who(data.owner),
        "columns": [
            [c.name, c.is_pii, c.lineage_notes] for c in data.columns.order_by("name", "pk")
        ],
    }


def _classification(uc) -> dict | None:
    c = Classification.objects.filter(use_case=uc).select_related("classified_by").first()
    if c is None:
        return None
    confirmed = c.confirmations.select_related("confirmed_by").order_by("-pk").first()
    return {
        "risk_tier": c.get_risk_tier_display(),
        "criticality": c.get_criticality_display(),
        "by": _who(c.classified_by),
        "at": _when(c.classified_at),
        "reasons": [f"{r.get('rule')}: {r.get('explanation')}" for r in c.reasons or []],
        "confirmed": (
            f"{_who(confirmed.confirmed_by)}, {_when(confirmed.confirmed_at)}" if confirmed else ""
        ),
    }


def _ethics(uc) -> dict | None:
    answers = EthicsAnswerSet.objects.filter(use_case=uc).order_by("-answered_at", "-pk").first()
    if answers is None:
        return None
    deviations = EthicsDeviation.objects.filter(use_case=uc).order_by("opened_at", "pk")
    return {
        "answered_at": _when(answers.answered_at),
        "answered_by": _who(answers.answered_by),
        "deviations": [[d.message, "closed" if d.closed_at else "open"] for d in deviations],
    }


def _bias(v: ModelVersion, figures: dict, sources: list) -> dict | None:
    summary = (
        BiasSummary.objects.filter(dataset__model_version=v, status=BiasSummary.Status.DONE)
        .select_related("dataset")
        .order_by("-finished_at", "-pk")
        .first()
    )
    if summary is None or not summary.result:
        return None
    from fairness.selectors import bias_summary_tables

    sources.append(_source("fairness.biassummary", summary.pk))
    sources.append(_source("fairness.scoreddataset", summary.dataset_id, summary.dataset.sha256))
    attributes = []
    favourable = summary.result.get("favourable_prediction", 1)
    for index, (block, shown) in enumerate(
        zip(summary.result["by_attribute"], bias_summary_tables(summary.result), strict=True)
    ):
        name = f"bias_rates_{index}"
        figures[name] = bias_charts.group_rates(
            block, favourable_prediction=favourable
        ).to_plotly_json()
        attributes.append(
            {
                "name": shown["name"],
                "reference": _reference(shown["reference"]),
                "figure": name,
                "rows": [
                    [
                        g["label"],
                        g["count"],
                        *[r["value"] for r in g["rates"][:3]],
                        g["disparate_impact"],
                        g["four_fifths"],
                    ]
                    for g in shown["groups"]
                ],
            }
        )
    options = summary.options or {}
    return {
        "id": summary.pk,
        "dataset": summary.dataset.original_name,
        "rows": summary.dataset.rows,
        "sha256": summary.dataset.sha256,
        "finished_at": _when(summary.finished_at),
        "thresholds": options.get("thresholds_source") or options.get("thresholds") or "",
        "attributes": attributes,
    }


def _reference(reference: Any) -> str:
    if isinstance(reference, dict):
        return str(reference.get("group") or reference.get("label") or "the best-rated group")
    return str(reference or "the best-rated group")


def _monitoring(v: ModelVersion) -> dict | None:
    config = getattr(v, "monitoring_config", None)
    if config is None:
        return None
    windows = MonitoringWindow.objects.filter(config=config).order_by("-end", "-pk")[:WINDOWS_SHOWN]
    rows = []
    for w in windows:
        features = ((w.results or {}).get("drift") or {}).get("features") or {}
        worst = max(
            features.values(), key=lambda f: f.get("psi") or f.get("cramers_v") or 0, default=None
        )
        rows.append(
            [
                _when(w.start)[:10],
                _when(w.end)[:10],
                w.get_status_display(),
                round((worst or {}).get("psi") or 0, 4) if worst else "",
                (worst or {}).get("feature", ""),
            ]
        )
    alerts = DriftAlert.objects.filter(config=config).order_by("-opened_at", "-pk")[:10]
    return {
        "cadence": config.get_cadence_display(),
        "features": [*config.numeric_features, *config.categorical_features],
        "threshold": f"PSI above {config.thresholds.get('psi_max')}" if config.thresholds else "",
        "reference": config.reference.original_name if config.reference_id else "",
        "windows": rows,
        "alerts": [
            [a.pk, a.get_kind_display(), a.get_status_display(), _when(a.opened_at)] for a in alerts
        ],
    }


def _source(label: str, pk: Any, sha256: str = "") -> dict:
    return {"record": f"{label}#{pk}", "sha256": sha256} if sha256 else {"record": f"{label}#{pk}"}


def _validation(v: ModelVersion) -> dict | None:
    validation = (
        Validation.objects.filter(model_version=v)
        .select_related("validator")
        .order_by(F("signed_at").desc(nulls_last=True), "-pk")
        .first()
    )
    if validation is None:
        return None
    signature = Signature.objects.filter(validation=validation).first()
    return {
        "id": validation.pk,
        "validator": _who(validation.validator),
        "scope": validation.scope,
        "conceptual_soundness": validation.conceptual_soundness,
        "data": validation.data,
        "outcomes_analysis": validation.outcomes_analysis,
        "limitations": validation.limitations,
        "conclusion": validation.get_conclusion_display(),
        "signed_at": _when(validation.signed_at),
        "signature": _signature(signature),
    }


def version_facts(version: ModelVersion) -> tuple[dict, dict, list]:
    """(facts, figures, sources) of one version."""
    v = (
        ModelVersion.objects.select_related(
            "model__use_case__team",
            "model__use_case__business_owner",
            "model__use_case__technical_owner",
            "registered_by",
            "training_dataset__owner",
        )
        .prefetch_related("authors", "model__use_case__regulations")
        .get(pk=version.pk)
    )
    uc = v.model.use_case
    figures: dict[str, Any] = {}
    sources = [
        _source("inventory.usecase", uc.pk),
        _source("inventory.modelversion", v.pk, v.artifact_sha256),
    ]
    findings = Finding.objects.filter(model_version=v).order_by("opened_at", "pk")
    obligations = (
        Obligation.objects.filter(use_case=uc, active=True)
        .filter(Q(model_version=v) | Q(model_version__isnull=True))
        .select_related("consideration")
        .order_by("consideration__order", "pk")
    )
    requests = PromotionRequest.objects.filter(model_version=v).order_by("requested_at", "pk")
    signatures = Signature.objects.filter(request__model_version=v) | Signature.objects.filter(
        validation__model_version=v
    )
    experiments = Experiment.objects.filter(use_case=uc).filter(
        champion=v
    ) | Experiment.objects.filter(use_case=uc, challenger=v)
    facts = {
        "subject": {"use_case": uc.name, "version": v.version_label, "model": v.model.name},
        "use_case": _use_case(uc),
        "classification": _classification(uc),
        "ethics": _ethics(uc),
        "raci": _raci(uc),
        "version": _version(v),
        "dataset": _dataset(v),
        "versions": [
            [
                o.version_label,
                o.get_environment_display(),
                _when(o.registered_at),
                o.artifact_sha256,
            ]
            for o in v.model.versions.order_by("registered_at", "pk")
        ],
        "validation": _validation(v),
        "findings": [
            {
                "id": f.pk,
                "source": f.get_source_display(),
                "severity": f.get_severity_display(),
                "title": f.title,
                "status": f.get_status_display(),
                "open": f.status not in (Finding.Status.VERIFIED, Finding.Status.CLOSED),
                "due_on": f.due_on.isoformat() if f.due_on else "",
                "opened_at": _when(f.opened_at),
                "resolution": f.resolution,
            }
            for f in findings
        ],
        "bias": _bias(v, figures, sources),
        "monitoring": _monitoring(v),
        "experiments": [
            [
                e.pk,
                e.name,
                e.get_design_display(),
                e.get_status_display(),
                (e.result or {}).get("decision", ""),
            ]
            for e in experiments.order_by("created_at", "pk").distinct()
        ],
        "obligations": [
            [
                o.consideration.name,
                o.get_level_display(),
                o.get_status_display(),
                o.due_date.isoformat(),
                o.evidence_name or o.evidence_link,
                o.evidence_sha256,
            ]
            for o in obligations
        ],
        "requests": [
            [
                r.pk,
                r.from_environment,
                r.to_environment,
                r.get_status_display(),
                _when(r.requested_at),
                _when(r.decided_at),
            ]
            for r in requests
        ],
        "signatures": [_signature(s) for s in signatures.order_by("signed_at", "pk").distinct()],
        "regulations": [
            [
                m.requirement.regulation.code,
                m.requirement.text,
                f"{m.consideration.name}: {m.get_min_level_display()}",
            ]
            for m in RequirementMinimum.objects.filter(
                requirement__regulation__in=uc.regulations.all()
            )
            .select_related("requirement__regulation", "consideration")
            .order_by("requirement__regulation__code", "requirement__order", "consideration__order")
        ],
        "periodic_reviews": [
            [p.pk, _when(p.reviewed_at), p.get_outcome_display(), f"every {p.interval_days} days"]
            for p in PeriodicReview.objects.filter(model_version=v).order_by("reviewed_at", "pk")
        ],
    }
    sources += [_source("reviews.finding", f.pk) for f in findings]
    sources += [_source("governance.obligation", o.pk, o.evidence_sha256) for o in obligations]
    sources += [
        _source("reviews.signature", s["id"], s["manifest_hash"]) for s in facts["signatures"]
    ]
    if facts["validation"]:
        sources.append(_source("reviews.validation", facts["validation"]["id"]))
    return facts, figures, sources


def _raci(uc) -> list[list[str]]:
    view = raci_view(use_case=uc)
    rows = []
    for row in view.rows:
        accountable = [c["role"] for c in row["cells"] if "A" in c["letters"]]
        responsible = [c["role"] for c in row["cells"] if "R" in c["letters"]]
        rows.append(
            [
                row["task"].name,
                ", ".join(_people(view, r) for r in accountable),
                ", ".join(_people(view, r) for r in responsible),
            ]
        )
    return rows


def _people(view, role) -> str:
    names = view.people.get(role.code) or []
    return f"{role.name} ({', '.join(names)})" if names else f"{role.name} (nobody named)"
