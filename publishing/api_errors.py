"""One error format for the whole API: `{"error": {"code", "message", "fields": {field: [messages]}}}`.

Services raise Django's ValidationError keyed by field and selectors raise DoesNotExist for another
user's id; both are turned here into the same 400 and 404 a serializer or a missing route gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    """The object is not in a state that allows the action (e.g. cancelling a published date)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This cannot be done in the object's current state."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django report it as the 500 it is
    response.data = {"error": error_body(exc, response.data)}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no route matches (`/api/posts/abc/`, a negative id): the API's format
    under /api/, Django's page elsewhere. Needs DEBUG off, as in production and tests."""
    if request.path_info.startswith("/api/"):
        detail = exceptions.NotFound.default_detail
        return JsonResponse({"error": error_body(exceptions.NotFound(), {"detail": detail})}, status=404)
    return page_not_found(request, exception)


def error_body(exc: Exception, data: Any) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(data if isinstance(data, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: data})
        general = fields.get(api_settings.NON_FIELD_ERRORS_KEY)
        message = general[0] if general else "Some fields are invalid; see `fields`."
        return {"code": "invalid", "message": message, "fields": fields}
    code = "error"
    message = str(data.get("detail", "")) if isinstance(data, Mapping) else str(data)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    return {"code": code, "message": message, "fields": {}}


def _flatten(errors: Mapping[Any, Any], prefix: str = "") -> dict[str, list[str]]:
    """Nested errors (a list's items, a dict's keys) become `when.0`-style field names."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, prefix=f"{name}."))
        elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    flat.update(_flatten(item, prefix=f"{name}.{index}."))
                else:
                    flat.setdefault(name, []).append(str(item))
        else:
            flat[name] = [str(message) for message in (value if isinstance(value, list) else [value])]
    return flat


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per input field; empty unless the input was invalid.",
                },
            },
        }
    },
}


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_SCHEMA, description=description)


INVALID = error_response("Invalid input, with a reason per field.")
NOT_FOUND = error_response("No such object among yours.")
CONFLICT = error_response("The date is not in a state that allows this action.")
TOO_LARGE = error_response("The request body is larger than the API accepts.")
LOCKED_OUT = error_response("Too many failed sign-ins: locked for a while (see Retry-After).")
