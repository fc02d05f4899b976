"""Request body parsers for the API with two limits DRF's own lack: a body size and a nesting depth.

DRF reads a JSON body whole, however large, and Python's decoder recurses once per level: `[` a
thousand times was a RecursionError, a 500 on every JSON endpoint, the anonymous token one included.
Both limits answer in the API's error format (publishing.api_errors): 413 `too_large`, 400 `parse_error`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.http import QueryDict
from rest_framework import exceptions, parsers, status
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def _read_bounded(stream: IO[bytes], parser_context: Mapping[str, Any] | None) -> bytes:
    limit = int(settings.SOSOCIAL_API_MAX_BODY_BYTES)
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(f"The request body is larger than {limit} bytes.")
    return body


def _encoding(parser_context: Mapping[str, Any] | None) -> str:
    return str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)


def depth_of(data: Any) -> int:
    """How deeply lists and objects nest (a scalar is 0), without recursing."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        pending.extend((child, depth) for child in children)
    return deepest


class BoundedJSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return None
        limit = int(settings.SOSOCIAL_API_MAX_JSON_DEPTH)
        too_deep = f"JSON parse error - nested more than {limit} levels deep."
        body = _read_bounded(stream, parser_context)
        try:
            data = json.loads(
                body.decode(_encoding(parser_context)),
                parse_constant=strict_constant if api_settings.STRICT_JSON else None,
            )
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if depth_of(data) > limit:
            raise exceptions.ParseError(too_deep)
        return data


class BoundedFormParser(parsers.FormParser):
    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return QueryDict(encoding=_encoding(parser_context))
        body = _read_bounded(stream, parser_context)
        return QueryDict(body, encoding=_encoding(parser_context))
