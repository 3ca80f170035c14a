"""Inventory pages: use cases, models and versions, datasets.

Views parse input, call a selector or a service and render. Every page needs a
governance role (``role_required``); changes are checked with
``inventory.permissions`` before a form is shown and again by the services.
A service's ValidationError becomes form errors; its PermissionDenied a 403.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.web import add_service_errors, get_or_404, role_required
from audit.views import history_context
from inventory import permissions, services
from inventory.filters import DatasetFilterSet, UseCaseFilterSet
from inventory.forms import (
    DatasetColumnFormSet,
    DatasetForm,
    MLModelForm,
    ModelVersionForm,
    UseCaseForm,
    dataset_column_initial,
)
from inventory.selectors import (
    dataset_list,
    ml_model_list,
    model_version_list,
    use_case_get,
    use_case_list,
)

PAGE_SIZE = 25


def _is_filtered(request: HttpRequest) -> bool:
    return any(value for key, values in request.GET.lists() if key != "page" for value in values)


def _page(request: HttpRequest, queryset):
    """The requested page of a list; a bad or out-of-range page number gives the
    nearest valid page, never an error."""
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Use cases ----------------------------------------------------------------


@role_required
def use_case_list_view(request: HttpRequest) -> HttpResponse:
    filterset = UseCaseFilterSet(
        request.GET or None, queryset=use_case_list(user=request.user), request=request
    )
    page = _page(request, filterset.qs.order_by("name", "pk"))
    return render(
        request,
        "inventory/usecase_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "use_cases": page.object_list,
            "is_filtered": _is_filtered(request),
            "can_create": permissions.can_create_use_case(request.user),
        },
    )


@role_required
def use_case_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_use_case(request.user):
        raise PermissionDenied(
            "Only data scientists of a team and governance leads register use cases."
        )
    form = UseCaseForm(request.POST or None, user=request.user)
    # Shown again after a POST: invalid, or refused by a rule (e.g. a status the records
    # contradict): a 400 (issue 12).
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            use_case = services.use_case_create(by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Registered “{use_case.name}”. Next: answer its risk questionnaire."
            )
            return redirect("dashboard:use-case-detail", pk=use_case.pk)
    return render(
        request, "inventory/usecase_form.html", {"form": form, "use_case": None}, status=status
    )


@role_required
def use_case_update(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not permissions.can_change_use_case(request.user, use_case):
        raise PermissionDenied("You can only change your own team's use cases.")
    name = use_case.name
    form = UseCaseForm(request.POST or None, instance=use_case, user=request.user)
    status = 400 if request.method == "POST" else 200  # shown again: invalid or refused
    if request.method == "POST" and form.is_valid():
        try:
            use_case = services.use_case_update(
                use_case=use_case, by=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved “{use_case.name}”.")
            return redirect("dashboard:use-case-detail", pk=use_case.pk)
    return render(
        request,
        "inventory/usecase_form.html",
        {"form": form, "use_case": use_case, "original_name": name},
        status=status,
    )


# --- Models and versions ------------------------------------------------------


@role_required
def ml_model_create(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not permissions.can_change_use_case(request.user, use_case):
        raise PermissionDenied("You can only add models to your own team's use cases.")
    form = MLModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ml_model = services.ml_model_create(
                by=request.user, use_case=use_case, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added model “{ml_model.name}”. Register its first version.")
            return redirect("inventory:model-detail", pk=ml_model.pk)
    return render(
        request,
        "inventory/mlmodel_form.html",
        {"form": form, "use_case": use_case},
        status=400 if request.method == "POST" else 200,  # shown again: invalid or refused
    )


@role_required
def ml_model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ml_model = get_or_404(ml_model_list(user=request.user).get, pk=pk)
    return render(
        request,
        "inventory/mlmodel_detail.html",
        {
            "ml_model": ml_model,
            "use_case": ml_model.use_case,
            "versions": model_version_list(user=request.user).filter(model=ml_model),
            "can_change": permissions.can_change_model(request.user, ml_model),
            **history_context(ml_model, request.user),
        },
    )


@role_required
def model_version_create(request: HttpRequest, pk: int) -> HttpResponse:
    ml_model = get_or_404(ml_model_list(user=request.user).get, pk=pk)
    if not permissions.can_change_model(request.user, ml_model):
        raise PermissionDenied("You can only register versions of your own team's models.")
    form = ModelVersionForm(request.POST or None, initial={"authors": [request.user]})
    if request.method == "POST" and form.is_valid():
        try:
            version, created = services.model_version_register(
                by=request.user, model=ml_model, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if created:
                messages.success(request, f"Registered version {version.version_label}.")
            else:
                messages.info(
                    request,
                    f"Version {version.version_label} was already registered with this "
                    "SHA-256; nothing changed.",
                )
            return redirect("inventory:model-detail", pk=ml_model.pk)
    return render(
        request,
        "inventory/modelversion_form.html",
        {"form": form, "ml_model": ml_model, "use_case": ml_model.use_case},
        status=400 if request.method == "POST" else 200,  # refused: a 400 (issue 12)
    )


# --- Datasets -----------------------------------------------------------------


@role_required
def dataset_list_view(request: HttpRequest) -> HttpResponse:
    filterset = DatasetFilterSet(
        request.GET or None, queryset=dataset_list(user=request.user), request=request
    )
    page = _page(request, filterset.qs.order_by("name", "pk"))
    return render(
        request,
        "inventory/dataset_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "datasets": page.object_list,
            "is_filtered": _is_filtered(request),
            "can_create": permissions.can_create_dataset(request.user),
        },
    )


DATASET_USERS_SHOWN = 50


@role_required
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_or_404(dataset_list(user=request.user).get, pk=pk)
    return render(
        request,
        "inventory/dataset_detail.html",
        {
            "dataset": dataset,
            # A page at a time: a shared dataset is used by thousands of use cases in a
            # large portfolio (issue 18: 151 KB and 230 ms at 10,000).
            "page_obj": Paginator(
                use_case_list(user=request.user).filter(datasets=dataset), DATASET_USERS_SHOWN
            ).get_page(request.GET.get("page")),
            "can_change": permissions.can_change_dataset(request.user, dataset),
            **history_context(dataset, request.user),
        },
    )


def _dataset_form_page(request: HttpRequest, dataset=None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"owner": request.user} if dataset is None else None
    form = DatasetForm(data, instance=dataset, user=request.user, initial=initial)
    formset = DatasetColumnFormSet(
        data, prefix="columns", initial=dataset_column_initial(dataset) if dataset else None
    )
    if data is not None and form.is_valid() and formset.is_valid():
        try:
            if dataset is None:
                dataset = services.dataset_create(
                    by=request.user, columns=formset.columns(), **form.service_kwargs()
                )
            else:
                dataset = services.dataset_update(
                    dataset=dataset,
                    by=request.user,
                    columns=formset.columns(),
                    **form.service_kwargs(),
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved dataset “{dataset.name}”.")
            return redirect("inventory:dataset-detail", pk=dataset.pk)
    return render(
        request,
        "inventory/dataset_form.html",
        {"form": form, "formset": formset, "dataset": dataset},
        status=400 if data is not None else 200,  # shown again: invalid or refused
    )


@role_required
def dataset_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_dataset(request.user):
        raise PermissionDenied(
            "Only data scientists of a team and governance leads register datasets."
        )
    return _dataset_form_page(request)


@role_required
def dataset_update(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_or_404(dataset_list(user=request.user).get, pk=pk)
    if not permissions.can_change_dataset(request.user, dataset):
        raise PermissionDenied("You can only change your own team's datasets.")
    return _dataset_form_page(request, dataset)
