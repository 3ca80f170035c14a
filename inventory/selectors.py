"""Reads of the inventory. Visibility is decided here so pages, API and exports agree:
every user with a governance role reads the whole inventory; others see nothing."""

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet

from governance.permissions import AnyUser, has_any_role
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase


def use_case_list(*, user: AnyUser) -> QuerySet[UseCase]:
    if not has_any_role(user):
        return UseCase.objects.none()
    return (
        UseCase.objects.select_related("team", "business_owner", "technical_owner")
        .prefetch_related("regulations")
        .annotate(model_count=Count("ml_models", distinct=True))
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


def ml_model_list(*, user: AnyUser) -> QuerySet[MLModel]:
    if not has_any_role(user):
        return MLModel.objects.none()
    return MLModel.objects.select_related("use_case", "use_case__team").annotate(
        version_count=Count("versions")
    )


def model_version_list(*, user: AnyUser) -> QuerySet[ModelVersion]:
    if not has_any_role(user):
        return ModelVersion.objects.none()
    return ModelVersion.objects.select_related(
        "model", "model__use_case", "model__use_case__team", "training_dataset", "registered_by"
    ).prefetch_related("authors")


def dataset_list(*, user: AnyUser) -> QuerySet[Dataset]:
    if not has_any_role(user):
        return Dataset.objects.none()
    return Dataset.objects.select_related("owner", "team").prefetch_related(
        Prefetch("columns", queryset=DatasetColumn.objects.order_by("id"))
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.all()


def owner_choices() -> QuerySet[User]:
    """People who own at least one use case, for the list filter."""
    return (
        User.objects.filter(
            Q(business_use_cases__isnull=False) | Q(technical_use_cases__isnull=False)
        )
        .distinct()
        .order_by("username")
    )
