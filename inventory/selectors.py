"""Reads of the inventory. Visibility is decided here so pages, API and exports agree:
every user with a governance role reads the whole inventory; others see nothing."""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.permissions import AnyUser, has_any_role
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase


def use_cases_visible(*, user: AnyUser) -> QuerySet[UseCase]:
    """The use cases the user may see, with nothing joined or annotated: the base of
    the lists and of the set-based counts (issue 18)."""
    if not has_any_role(user):
        return UseCase.objects.none()
    return UseCase.objects.all()


def use_cases_visible_q(*, user: AnyUser, path: str = "use_case") -> Q:
    """``use_cases_visible`` as a filter of rows that belong to a use case (``path``:
    the relation's name): nothing at all when every use case is visible, so that a
    count of 100,000 obligations reads an index instead of checking each row's use case
    against a subquery (issue 18: 78 ms -> a few on SQLite)."""
    visible = use_cases_visible(user=user)
    if visible.query.is_empty():
        return Q(pk__in=[])
    if not visible.query.where:
        return Q()
    return Q(**{f"{path}__in": visible.values("pk")})


_model_counts = (
    MLModel.objects.filter(use_case=OuterRef("pk"))
    .order_by()
    .values("use_case")
    .annotate(n=Count("pk"))
    .values("n")
)


def use_case_list(*, user: AnyUser) -> QuerySet[UseCase]:
    return (
        use_cases_visible(user=user)
        .select_related("team", "business_owner", "technical_owner")
        .prefetch_related("regulations")
        # A subquery, not a join counted with GROUP BY: a page of 50 counts 50 use cases'
        # models, and the list's count needs no join (issue 18: the API's list of 10,000).
        .annotate(model_count=Coalesce(Subquery(_model_counts), 0))
        .order_by("name", "pk")
    )


def use_case_get(*, user: AnyUser, pk: int) -> UseCase:
    """Raises UseCase.DoesNotExist when missing or invisible to the user."""
    return (
        use_case_list(user=user)
        .prefetch_related(
            "datasets",
            Prefetch(
                "ml_models",
                queryset=MLModel.objects.prefetch_related(
                    Prefetch("versions", queryset=ModelVersion.objects.prefetch_related("authors"))
                ),
            ),
        )
        .get(pk=pk)
    )


def use_case_list_detailed(*, user: AnyUser) -> QuerySet[UseCase]:
    """``use_case_list`` plus datasets, creator and the latest classification's id, time
    and author (annotated ``latest_classification_id``, ``latest_classified_at``,
    ``latest_classified_by``), in a constant number of queries (the API's list)."""
    # The classifications are governance's rows pointing at the use case; reached through
    # that relation, so the inventory needs no import from the app above it.
    classification = UseCase._meta.get_field("classifications").related_model
    latest = classification.objects.filter(use_case=OuterRef("pk")).order_by(
        "-classified_at", "-id"
    )
    return (
        use_case_list(user=user)
        .select_related("created_by")
        .prefetch_related(Prefetch("datasets", queryset=Dataset.objects.only("pk")))
        .annotate(
            latest_classification_id=Subquery(latest.values("pk")[:1]),
            latest_classified_at=Subquery(latest.values("classified_at")[:1]),
            latest_classified_by=Subquery(latest.values("classified_by__username")[:1]),
        )
    )


def ml_model_list(*, user: AnyUser) -> QuerySet[MLModel]:
    if not has_any_role(user):
        return MLModel.objects.none()
    return (
        MLModel.objects.select_related("use_case", "use_case__team", "created_by")
        .annotate(version_count=Count("versions"))
        .order_by("use_case__name", "name", "pk")
    )


def model_version_list(*, user: AnyUser) -> QuerySet[ModelVersion]:
    if not has_any_role(user):
        return ModelVersion.objects.none()
    # The signed validations (reviews) come by the reverse relation, for the API's
    # "validator" and "validation": no query per version.
    return ModelVersion.objects.select_related(
        "model",
        "model__use_case",
        "model__use_case__team",
        "training_dataset",
        "registered_by",
        "validator",
    ).prefetch_related("authors", "validations__validator")


def dataset_list(*, user: AnyUser) -> QuerySet[Dataset]:
    if not has_any_role(user):
        return Dataset.objects.none()
    return Dataset.objects.select_related("owner", "team").prefetch_related(
        Prefetch("columns", queryset=DatasetColumn.objects.order_by("id"))
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.all()


def use_case_portfolio_counts(*, user: AnyUser) -> dict:
    """Portfolio aggregates for the home dashboard, in one query.

    Returns ``total``, ``unclassified``, ``by_tier`` {tier: n} (classified only),
    ``by_status`` {status: n} and ``matrix`` {(criticality, tier): n} (classified only).
    Users without a governance role get all zeros.
    """
    visible = UseCase.objects.all() if has_any_role(user) else UseCase.objects.none()
    rows = visible.order_by().values("criticality", "risk_tier", "status").annotate(n=Count("id"))
    counts: dict = {"total": 0, "unclassified": 0, "by_tier": {}, "by_status": {}, "matrix": {}}
    for row in rows:
        n, tier, level = row["n"], row["risk_tier"], row["criticality"]
        counts["total"] += n
        counts["by_status"][row["status"]] = counts["by_status"].get(row["status"], 0) + n
        if tier is None:
            counts["unclassified"] += n
            continue
        counts["by_tier"][tier] = counts["by_tier"].get(tier, 0) + n
        if level is not None:
            counts["matrix"][(level, tier)] = counts["matrix"].get((level, tier), 0) + n
    return counts
