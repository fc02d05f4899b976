"""Real media files, made in memory: images with Pillow, MP4/MOV as the few boxes a reader needs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels: what a decompression bomb looks like to a reader."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, payload: bytes) -> bytes:
    return _box(kind, b"\x00\x00\x00\x00" + payload)


def video_bytes(
    *, seconds: float = 5.0, brand: bytes = b"isom", handler: bytes = b"vide", padding: int = 1024
) -> bytes:
    """An MP4 (or, with brand b"qt  ", a MOV) with one track of `handler` lasting `seconds`."""
    scale = 1000
    duration = struct.pack(">IIII", 0, 0, scale, int(seconds * scale))
    ftyp = _box(b"ftyp", brand + struct.pack(">I", 512) + brand + b"mp41")
    mvhd = _full_box(b"mvhd", duration + b"\x00" * 80)
    mdhd = _full_box(b"mdhd", duration + b"\x00" * 4)
    hdlr = _full_box(b"hdlr", b"\x00" * 4 + handler + b"\x00" * 12 + b"Handler\x00")
    moov = _box(b"moov", mvhd + _box(b"trak", _box(b"mdia", mdhd + hdlr)))
    return ftyp + moov + _box(b"mdat", b"\x00" * padding)


def nested_moov(depth: int) -> bytes:
    """`depth` moov boxes, each inside the last: a file built to exhaust a recursive reader."""
    inner = b""
    for _ in range(depth):
        inner = _box(b"moov", inner)
    return inner
