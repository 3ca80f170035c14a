"""Reads of evidence packs: who may make and download them, the packs a person sees,
and what a pack holds (its record sets, evidence files, signatures and audit segment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser
from audit.models import HASHED_FIELDS, AuditEvent
from audit.registry import labels_of
from audit.selectors import can_read_audit_trail
from documents.models import DocumentSignature, EvidencePack, GeneratedDocument
from experiments.models import Experiment, ExperimentBatch, ExperimentOutcome
from fairness.models import BiasSummary, ScoredDataset
from governance.models import (
    ChangeConfirmation,
    ChangeDeclaration,
    Classification,
    ClassificationConfirmation,
    EthicsAnswerSet,
    EthicsApproval,
    EthicsDeviation,
    EthicsDeviationAcceptance,
    Obligation,
    ObligationEvent,
    PolicyVersion,
    RaciAssignment,
    UseCaseRaciCell,
)
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase
from monitoring.models import (
    DriftAlert,
    DriftAlertEvent,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringWindow,
    ReferenceProfile,
)
from reviews.models import (
    BlockingWaiver,
    Finding,
    FindingAcceptance,
    GateCall,
    PeriodicReview,
    PromotionRequest,
    Signature,
    SignatureVoiding,
    Validation,
)


def can_make_evidence_packs(user: AnyUser) -> bool:
    """A pack holds the whole audit trail segment and every record of its scope: the
    people who read the whole trail (governance leads, risk officers, auditors)."""
    return can_read_audit_trail(user)


def evidence_pack_list(user: AnyUser) -> QuerySet[EvidencePack]:
    if not can_make_evidence_packs(user):
        return EvidencePack.objects.none()
    return EvidencePack.objects.select_related(
        "requested_by", "use_case", "model_version__model"
    ).order_by("-requested_at", "-id")


def evidence_pack_get(*, user: AnyUser, pk: int) -> EvidencePack:
    return evidence_pack_list(user).get(pk=pk)


RecordSets = list[tuple[str, QuerySet]]


def _label(queryset: QuerySet) -> str:
    return queryset.model._meta.label_lower


def _ordered(sets: list[QuerySet]) -> RecordSets:
    out = []
    for queryset in sets:
        model = queryset.model
        m2m = [f.name for f in model._meta.many_to_many]
        out.append((_label(queryset), queryset.order_by("pk").prefetch_related(*m2m)))
    return out


def _follow(
    *,
    use_cases: QuerySet,
    versions: QuerySet,
    requests: QuerySet,
    obligations: QuerySet,
    experiments: QuerySet,
    signatures_extra: Q | None = None,
    documents_extra: Q | None = None,
) -> list[QuerySet]:
    """The records that hang off a set of versions, requests, obligations and
    experiments (shared by the scopes)."""
    findings = Finding.objects.filter(model_version__in=versions)
    validations = Validation.objects.filter(model_version__in=versions)
    reviews = PeriodicReview.objects.filter(model_version__in=versions)
    acceptances = FindingAcceptance.objects.filter(finding__in=findings)
    signed = (
        Q(request__in=requests)
        | Q(periodic_review__in=reviews)
        | Q(experiment__in=experiments)
        | Q(validation__in=validations)
        | Q(finding_acceptance__in=acceptances)
    )
    datasets = ScoredDataset.objects.filter(
        model_version__in=versions, status=ScoredDataset.Status.VALID
    )
    configs = MonitoringConfig.objects.filter(model_version__in=versions)
    alerts = DriftAlert.objects.filter(config__in=configs)
    declarations = ChangeDeclaration.objects.filter(model_version__in=versions)
    # The documents generated from these records (their content and files' SHA-256)
    # and the validators' signatures of reports.
    in_scope = Q(model_version__in=versions)
    documents = GeneratedDocument.objects.filter(
        in_scope | documents_extra if documents_extra else in_scope
    )
    return [
        obligations,
        ObligationEvent.objects.filter(obligation__in=obligations),
        PolicyVersion.objects.filter(pk__in=obligations.values("policy_version")),
        declarations,
        ChangeConfirmation.objects.filter(declaration__in=declarations),
        requests,
        Signature.objects.filter(signed | signatures_extra if signatures_extra else signed),
        SignatureVoiding.objects.filter(request__in=requests),
        BlockingWaiver.objects.filter(request__in=requests),
        validations,
        findings,
        acceptances,
        reviews,
        GateCall.objects.filter(model_version__in=versions),
        datasets,
        BiasSummary.objects.filter(dataset__in=datasets),
        configs,
        ReferenceProfile.objects.filter(dataset__in=datasets),
        MonitoringBatch.objects.filter(config__in=configs),
        MonitoringWindow.objects.filter(config__in=configs),
        alerts,
        DriftAlertEvent.objects.filter(alert__in=alerts),
        experiments,
        ExperimentBatch.objects.filter(experiment__in=experiments),
        ExperimentOutcome.objects.filter(experiment__in=experiments),
        documents,
        DocumentSignature.objects.filter(document__in=documents),
    ]


def _use_case_sets(use_case_id: int, version_id: int | None) -> RecordSets:
    use_cases = UseCase.objects.filter(pk=use_case_id)
    versions = ModelVersion.objects.filter(model__use_case_id=use_case_id)
    obligations = Obligation.objects.filter(use_case_id=use_case_id)
    experiments = Experiment.objects.filter(use_case_id=use_case_id)
    if version_id is not None:
        versions = versions.filter(pk=version_id)
        obligations = obligations.filter(Q(model_version_id=version_id) | Q(model_version=None))
        experiments = experiments.filter(Q(champion_id=version_id) | Q(challenger_id=version_id))
    datasets = Dataset.objects.filter(
        Q(use_cases__in=use_cases) | Q(pk__in=versions.values("training_dataset"))
    ).distinct()
    answer_sets = EthicsAnswerSet.objects.filter(use_case_id=use_case_id)
    deviations = EthicsDeviation.objects.filter(use_case_id=use_case_id)
    head = [
        Team.objects.filter(pk__in=use_cases.values("team")),
        use_cases,
        MLModel.objects.filter(use_case_id=use_case_id),
        versions,
        datasets,
        DatasetColumn.objects.filter(dataset__in=datasets),
        Classification.objects.filter(use_case_id=use_case_id),
        ClassificationConfirmation.objects.filter(use_case_id=use_case_id),
        answer_sets,
        EthicsApproval.objects.filter(answer_set__in=answer_sets),
        deviations,
        EthicsDeviationAcceptance.objects.filter(deviation__in=deviations),
        RaciAssignment.objects.filter(use_case_id=use_case_id),
        UseCaseRaciCell.objects.filter(use_case_id=use_case_id),
    ]
    tail = _follow(
        use_cases=use_cases,
        versions=versions,
        requests=PromotionRequest.objects.filter(model_version__in=versions),
        obligations=obligations,
        experiments=experiments,
    )
    return _ordered(head + tail)


def day_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[the first day's midnight, the day after the last's), in the installation's zone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _portfolio_sets(date_from: dt.date, date_to: dt.date) -> RecordSets:
    """The inventory as it is, and every governance record made or decided in the range."""
    start, end = day_bounds(date_from, date_to)

    def during(*fields: str) -> Q:
        query = Q()
        for name in fields:
            query |= Q(**{f"{name}__gte": start, f"{name}__lt": end})
        return query

    versions = ModelVersion.objects.all()
    requests = PromotionRequest.objects.filter(during("requested_at", "decided_at"))
    obligations = Obligation.objects.filter(during("created_at", "evidence_at"))
    experiments = Experiment.objects.filter(during("created_at", "ended_at"))
    head = [
        Team.objects.all(),
        UseCase.objects.all(),
        MLModel.objects.all(),
        versions,
        Classification.objects.filter(during("classified_at")),
        ClassificationConfirmation.objects.filter(during("confirmed_at")),
        EthicsAnswerSet.objects.filter(during("answered_at")),
        EthicsApproval.objects.filter(during("approved_at")),
        EthicsDeviation.objects.filter(during("opened_at", "closed_at")),
        RaciAssignment.objects.filter(during("assigned_at")),
    ]
    sets = _ordered(head)
    for label, queryset in _ordered(
        _follow(
            use_cases=UseCase.objects.all(),
            versions=versions,
            requests=requests,
            obligations=obligations,
            experiments=experiments,
            # the portfolio's own reports (no version)
            documents_extra=Q(kind=GeneratedDocument.Kind.PORTFOLIO_REPORT),
        )
    ):
        sets.append((label, _in_range(queryset, during)))
    return sets


# The time of each record set of the portfolio scope (what "made or decided in the
# range" means for it); sets already filtered by their parents are kept whole.
_RANGE_FIELDS = {
    "reviews.signature": ("signed_at",),
    "reviews.signaturevoiding": ("at",),
    "reviews.blockingwaiver": ("at",),
    "reviews.validation": ("created_at", "signed_at"),
    "reviews.finding": ("opened_at", "resolved_at"),
    "reviews.findingacceptance": ("accepted_at",),
    "reviews.periodicreview": ("reviewed_at",),
    "reviews.gatecall": ("at",),
    "governance.changedeclaration": ("declared_at",),
    "governance.changeconfirmation": ("confirmed_at",),
    "governance.obligationevent": ("at",),
    "governance.policyversion": ("created_at", "published_at"),
    "fairness.scoreddataset": ("uploaded_at",),
    "fairness.biassummary": ("requested_at", "finished_at"),
    "monitoring.monitoringconfig": ("created_at", "updated_at"),
    "monitoring.referenceprofile": ("requested_at", "built_at"),
    "monitoring.monitoringbatch": ("received_at",),
    "monitoring.monitoringwindow": ("computed_at",),
    "monitoring.driftalert": ("opened_at", "updated_at"),
    "monitoring.driftalertevent": ("at",),
    "documents.generateddocument": ("requested_at", "finished_at"),
    "documents.documentsignature": ("signed_at",),
}


def _in_range(queryset: QuerySet, during) -> QuerySet:
    fields = _RANGE_FIELDS.get(_label(queryset))
    return queryset.filter(during(*fields)) if fields else queryset


def pack_record_sets(pack: EvidencePack) -> RecordSets:
    """(label, queryset) of every kind of record the pack holds, in a stable order."""
    if pack.scope == EvidencePack.Scope.PORTFOLIO:
        return _portfolio_sets(pack.date_from, pack.date_to)
    if pack.scope == EvidencePack.Scope.VERSION:
        version = ModelVersion.objects.select_related("model").get(pk=pack.model_version_id)
        return _use_case_sets(version.model.use_case_id, version.pk)
    return _use_case_sets(pack.use_case_id, None)


@dataclass(frozen=True)
class StoredEvidence:
    record: str  # "governance.obligation#12"
    folder: str  # "governance.obligation-12"
    name: str  # the storage name
    filename: str  # the name people gave it
    sha256: str


# The stored file each kind of record names: (file field, original name, recorded SHA-256).
EVIDENCE_FIELDS = {
    "governance.obligation": ("evidence_file", "evidence_name", "evidence_sha256"),
    "fairness.scoreddataset": ("file", "original_name", "sha256"),
    "documents.generateddocument": ("signed_pdf", None, "signed_pdf_sha256"),
}


def evidence_of(label: str, obj: Any) -> StoredEvidence | None:
    """The stored file a record of the pack names (its evidence, its scored data, a
    signed report), or None."""
    fields = EVIDENCE_FIELDS.get(label)
    if fields is None:
        return None
    file_field, name_field, sha_field = fields
    file = getattr(obj, file_field)
    if not file:
        return None
    filename = getattr(obj, name_field) if name_field else ""
    if label == "documents.generateddocument":
        filename = f"{obj.kind}-signed.pdf"
    return StoredEvidence(
        record=f"{label}#{obj.pk}",
        folder=f"{label}-{obj.pk}",
        name=file.name,
        filename=filename or file.name,
        sha256=getattr(obj, sha_field),
    )


def pack_evidence_files(sets: RecordSets) -> list[StoredEvidence]:
    """The stored files of the pack's records, read apart from the records (the
    benchmark's baselines; the build takes them from the rows it streams)."""
    found: list[StoredEvidence] = []
    for label, queryset in sets:
        if label in EVIDENCE_FIELDS:
            found += [e for obj in queryset.order_by("pk") if (e := evidence_of(label, obj))]
    return found


def pack_people(user_ids: set[int]) -> list[dict]:
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("pk")
    return [
        {"id": u.pk, "username": u.get_username(), "name": u.get_full_name() or u.get_username()}
        for u in users
    ]


def audit_segment_start(pack: EvidencePack) -> int:
    """The seq the pack's audit segment starts at: the first event of its scope's root
    (the use case, the version) or of the range; 1 when there is none."""
    events = AuditEvent.objects.all()
    if pack.scope == EvidencePack.Scope.PORTFOLIO:
        start, _end = day_bounds(pack.date_from, pack.date_to)
        first = events.filter(occurred_at__gte=start).aggregate(first=Min("seq"))["first"]
    else:
        if pack.scope == EvidencePack.Scope.VERSION:
            label, pk = "inventory.modelversion", str(pack.model_version_id)
        else:
            label, pk = "inventory.usecase", str(pack.use_case_id)
        labels = labels_of(label)
        first = events.filter(
            Q(object_type__in=labels, object_id=pk) | Q(parent_type__in=labels, parent_id=pk)
        ).aggregate(first=Min("seq"))["first"]
    return first or 1


def audit_head() -> tuple[int, str] | None:
    """The newest event's seq and hash."""
    return AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()


def audit_prev_hash(seq: int) -> str:
    """The prev_hash of event ``seq`` (the genesis value when there is none)."""
    found = AuditEvent.objects.filter(seq=seq).values_list("prev_hash", flat=True).first()
    return found or "0" * 64


def audit_event_values(first: int, last: int):
    """The events ``first``..``last`` in seq order, as tuples of the hashed fields
    (``audit.models.HASHED_FIELDS``) then ``prev_hash`` and ``hash``; streamed."""
    return (
        AuditEvent.objects.filter(seq__gte=first, seq__lte=last)
        .order_by("seq")
        .values_list(*HASHED_FIELDS, "prev_hash", "hash")
        .iterator(chunk_size=2000)
    )


def pack_download(pack: EvidencePack) -> dict | None:
    """The arguments of ``audit.downloads`` serving a pack's ZIP (page and API alike);
    None until it is built."""
    if pack.status != EvidencePack.Status.DONE:
        return None
    return {
        "file": pack.file,
        "sha256": pack.sha256,
        "filename": f"evidence-pack-{pack.pk}.zip",
        "obj": pack,
        "what": f"evidence pack #{pack.pk}",
    }
