"""API plumbing shared by every app: the exception handler and the pagination."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, filters, pagination
from rest_framework.views import exception_handler as drf_exception_handler


def _detail(error: DjangoValidationError):
    if hasattr(error, "error_dict"):
        # Django's "__all__" (model-wide errors, e.g. a unique constraint) is DRF's
        # "non_field_errors".
        return {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): [str(m) for m in msgs]
            for field, msgs in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc, context):
    """Map the Django errors that services raise onto DRF's 400 and 403 answers. An
    error body is always an object, as the schema says: a bare list of messages (a
    ``ValidationError`` raised outside a serializer) becomes ``non_field_errors``."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        exc = exceptions.ValidationError(detail={"non_field_errors": exc.detail})
    return drf_exception_handler(exc, context)


class SearchFilter(filters.SearchFilter):
    """DRF's search, whose refusal of a value (a NUL character) names the parameter
    instead of being a bare list (issue 13, Schemathesis)."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from None


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers; a page past the end or not a number is DRF's 404, with a
    message naming the parameter."""

    invalid_page_message = "page: {message}"

    def get_page_number(self, request, paginator):
        # DRF reads ``?page=`` (empty) as page 1; the schema says an integer, so it is
        # refused like ``?page=abc`` (issue 13: bad query values are never ignored).
        if request.query_params.get(self.page_query_param) == "":
            raise exceptions.NotFound(
                self.invalid_page_message.format(message="give a page number.")
            )
        return super().get_page_number(request, paginator)


def not_found(request, exception=None):
    """The project's 404 (``handler404``): JSON under ``/api/``, as the API's own 404s
    are (a URL the router does not match, e.g. a non-numeric id where the route takes
    digits), and Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
