"""What an uploaded file really is, and how it is received and stored.

The type comes from the content, never from the name or the browser's Content-Type: images are
opened with Pillow (with a pixel cap, so a decompression bomb is a field error), videos must be an
ISO/QuickTime container with a video track, read with mutagen's MP4 parser. Only what at least one
platform takes is kept (each platform's own check then refines). Files are stored under random
names with the extension of the detected type, so a URL can neither be guessed nor make a browser
treat the file as a page; the size cap is enforced while the request is read.
"""

from __future__ import annotations

import mimetypes
import secrets
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from mutagen import MutagenError
from mutagen.mp4 import MP4
from mutagen.mp4._atom import Atoms
from PIL import Image, UnidentifiedImageError

# Pillow format -> (detected type, extension). BMP and TIFF (Facebook only) and MPO (refused by
# Instagram) are left out: a user re-exports them as JPEG, which every platform takes.
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
# ISO base media "ftyp" major brands of MP4 video; "qt  " is QuickTime (MOV). Audio-only (M4A) and
# still-image (HEIC, AVIF) brands use the same container and are left out.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP"}
)
QUICKTIME_BRAND = b"qt  "
# Extension of a stored file -> the type it is served with; nothing else is ever served.
SERVED_TYPES: dict[str, str] = {
    **{extension: content_type for content_type, extension in IMAGE_FORMATS.values()},
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}
FIELD = "media"


@dataclass(frozen=True)
class Inspected:
    content_type: str
    extension: str
    size: int


@dataclass(frozen=True)
class Stored:
    name: str
    content_type: str
    size: int


def refuse(message: str) -> ValidationError:
    return ValidationError({FIELD: message})


def _display_name(upload: UploadedFile[Any]) -> str:
    # Shown back to its own uploader only, and escaped by the template like any text.
    return (upload.name or "The file")[:80]


# -- what a file is ----------------------------------------------------------------------------------
def inspect(upload: UploadedFile[Any]) -> Inspected:
    """The detected type of `upload`, or a field error saying why it cannot be posted."""
    name = _display_name(upload)
    size = upload.size or 0
    if size > settings.SOSOCIAL_MAX_UPLOAD_BYTES:
        raise refuse(f"{name} is {filesizeformat(size)}; SoSocial takes at most {_cap()} per post.")
    if size == 0:
        raise refuse(f"{name} is empty.")
    stream = upload.file
    assert stream is not None
    stream.seek(0)
    head = stream.read(12)
    stream.seek(0)
    try:
        if len(head) >= 12 and head[4:8] == b"ftyp":
            found = _video(stream, brand=head[8:12], name=name)
        else:
            found = _image(stream, name=name)
    finally:
        stream.seek(0)
    if found is None:
        raise refuse(
            f"{name} is not a JPEG, PNG, WebP or GIF image, or an MP4 or MOV video, whatever its name "
            "says. Export it in one of those formats."
        )
    content_type, extension = found
    claimed = _claimed_type(upload.name or "")
    # MP4 and MOV are one container family and often misnamed; anything else must match.
    same_family = claimed.startswith("video/") and content_type.startswith("video/")
    if claimed and claimed != content_type and not same_family:
        raise refuse(
            f"{name} is named as {claimed} but is really {content_type}. Give it the right name or "
            "export it again."
        )
    return Inspected(content_type=content_type, extension=extension, size=size)


def _claimed_type(filename: str) -> str:
    """The type the file's name claims (browsers' Content-Type is only the name, re-sent)."""
    guessed, _ = mimetypes.guess_type(filename.lower())
    return guessed or ""


def _image(stream: IO[bytes], *, name: str) -> tuple[str, str] | None:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; treat that as refused too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=list(IMAGE_FORMATS)) as image:
                width, height = image.size
                fmt = image.format or ""
                if width * height > settings.SOSOCIAL_MAX_IMAGE_PIXELS:
                    raise _too_many_pixels(name, width, height)
                # Checks the file's structure without decoding every pixel.
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name, None, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        return None
    return IMAGE_FORMATS.get(fmt)


def _too_many_pixels(name: str, width: int | None, height: int | None) -> ValidationError:
    limit = settings.SOSOCIAL_MAX_IMAGE_PIXELS / 1_000_000
    size = f" ({width}x{height})" if width and height else ""
    return refuse(f"{name}{size} has more than {limit:g} million pixels; resize it first.")


def _video(stream: IO[bytes], *, brand: bytes, name: str) -> tuple[str, str] | None:
    if brand == QUICKTIME_BRAND:
        found = ("video/quicktime", "mov")
    elif brand in MP4_BRANDS:
        found = ("video/mp4", "mp4")
    else:
        return None
    try:
        atoms = Atoms(stream)
        tracks = list(atoms[b"moov"].findall(b"trak"))
        handlers = []
        for track in tracks:
            ok, data = track[b"mdia", b"hdlr"].read(stream)
            handlers.append(data[8:12] if ok else b"")
        stream.seek(0)
        info = MP4(stream).info  # type: ignore[no-untyped-call]
        duration = float(info.length) if info is not None else 0.0
    # RecursionError: atoms nested thousands deep, which mutagen follows one call per level.
    except (MutagenError, KeyError, ValueError, struct.error, EOFError, OSError, RecursionError):
        return None
    if b"vide" not in handlers:
        return None
    if not duration or duration <= 0:
        raise refuse(f"{name} has no playing time; export the video again.")
    return found


# -- storing -----------------------------------------------------------------------------------------
@dataclass
class _Receiving:
    """The files written during one `keep_only_saved` block, and the upload each came from."""

    written: list[str] = field(default_factory=list)
    by_upload: dict[int, Stored] = field(default_factory=dict)


_receiving: ContextVar[_Receiving | None] = ContextVar("sosocial_receiving", default=None)


@contextmanager
def keep_only_saved() -> Iterator[None]:
    """Remove, at the end, every file stored inside the block that no saved row refers to.

    Files are written before the rows that name them commit (platform checks read them), so a
    refused save would otherwise leave them on disk and public. The outermost block does the check,
    after the transaction it wraps has committed or rolled back.
    """
    if _receiving.get() is not None:
        yield
        return
    receiving = _Receiving()
    token = _receiving.set(receiving)
    try:
        yield
    finally:
        _receiving.reset(token)
        remove_unreferenced(receiving.written)


def store(upload: UploadedFile[Any], *, owner_id: int) -> Stored:
    """Inspect `upload`, check the owner's quota and write it under a random name.

    The same upload attached to several posts in one block (one post per account) is stored once.
    """
    receiving = _receiving.get()
    if receiving is not None and id(upload) in receiving.by_upload:
        return receiving.by_upload[id(upload)]
    inspected = inspect(upload)
    _check_quota(owner_id=owner_id, adding=inspected.size, name=_display_name(upload))
    folder = timezone.now().strftime("media/%Y/%m")
    name = default_storage.save(f"{folder}/{secrets.token_urlsafe(18)}.{inspected.extension}", upload)
    stored = Stored(name=name, content_type=inspected.content_type, size=inspected.size)
    if receiving is not None:
        receiving.written.append(name)
        receiving.by_upload[id(upload)] = stored
    return stored


def usage_of(owner_id: int) -> int:
    """Bytes of media the owner's posts refer to (a file shared by several posts counts once)."""
    from publishing.models import PostMedia

    names = set(PostMedia.objects.filter(post__owner_id=owner_id).values_list("file", flat=True))
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except (OSError, ValueError):
            continue
    return total


def _check_quota(*, owner_id: int, adding: int, name: str) -> None:
    quota = settings.SOSOCIAL_MEDIA_QUOTA_BYTES
    if not quota:
        return
    used = usage_of(owner_id)
    if used + adding > quota:
        raise refuse(
            f"{name} ({filesizeformat(adding)}) would take your media past your {filesizeformat(quota)} "
            f"quota ({filesizeformat(used)} used). Delete posts you no longer need, then try again."
        )


def remove_unreferenced(names: list[str]) -> None:
    """Delete the stored files among `names` that no PostMedia row names (as this connection sees)."""
    from publishing.models import PostMedia

    if not names:
        return
    kept = set(PostMedia.objects.filter(file__in=names).values_list("file", flat=True))
    for name in set(names) - kept:
        default_storage.delete(name)


# -- receiving ---------------------------------------------------------------------------------------
REFUSED_KEY = "sosocial.refused_uploads"


def _cap() -> str:
    return filesizeformat(settings.SOSOCIAL_MAX_UPLOAD_BYTES)


class CappedUploadHandler(FileUploadHandler):
    """Stops reading a request once its files pass SOSOCIAL_MAX_UPLOAD_BYTES.

    First in FILE_UPLOAD_HANDLERS, so it counts the bytes before anything is written to memory or
    disk. What it refused is left on the request for the form (see `refused_while_receiving`).
    """

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.received = 0
        self.declared = content_length

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        # A body declared larger than the cap allows is refused before its first file is read.
        if (
            getattr(self, "declared", 0)
            > settings.SOSOCIAL_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        ):
            self._stop(f"The upload is {filesizeformat(self.declared)}")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received = getattr(self, "received", 0) + len(raw_data)
        if self.received > settings.SOSOCIAL_MAX_UPLOAD_BYTES:
            self._stop(f"{self.file_name or 'The upload'} is larger than that")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self, what: str) -> None:
        assert self.request is not None
        self.request.META.setdefault(REFUSED_KEY, []).append(
            f"{what}; SoSocial takes at most {_cap()} of media per post. Nothing was saved."
        )
        # Not read any further: the client is told at once instead of after sending it all.
        raise StopUpload(connection_reset=True)


def refused_while_receiving(request: HttpRequest) -> list[str]:
    refused: list[str] = request.META.get(REFUSED_KEY, [])
    return refused


def public_url(url: str) -> str:
    """Where a platform can fetch a stored file: MEDIA_URL may already name its own host."""
    if url.startswith(("https://", "http://")):
        return url
    return f"{settings.SOSOCIAL_PUBLIC_BASE_URL}{url}"
