"""API plumbing shared by every app: the exception handler and the pagination."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
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
    """Map the Django errors that services raise onto DRF's 400 and 403 answers."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    return drf_exception_handler(exc, context)


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers; a page past the end or not a number is DRF's 404, with a
    message naming the parameter."""

    invalid_page_message = "page: {message}"
