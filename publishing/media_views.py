"""Uploaded media, served so a browser can only ever show it as the image or video it is.

Public on purpose (platforms fetch it without signing in), under unguessable names. The type comes
from the stored name's extension, which is the detected type (publishing/uploads.py); any other
file is not found. `nosniff` and a sandboxing policy stop a browser from treating a file as a page.
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from publishing.uploads import SERVED_TYPES

MEDIA_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


@require_safe
def serve_media(request: HttpRequest, path: str) -> FileResponse:
    name = path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = SERVED_TYPES.get(extension)
    if content_type is None:
        raise Http404("No such media")
    try:
        if not default_storage.exists(path):
            raise Http404("No such media")
        handle = default_storage.open(path, "rb")
    except (SuspiciousFileOperation, OSError, ValueError):
        raise Http404("No such media") from None
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=False, filename=name) or "inline"
    )
    response["Content-Security-Policy"] = MEDIA_POLICY
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
