"""The one image check, run on every way an image enters the bank (the editor's upload, YAML
import, QTI import, restore from an export) and by :mod:`itembank.bank.resources` on what a PDF
or a preview embeds.

Types: PNG, JPEG, GIF, WebP and SVG, recognised by their bytes (the name's extension or the
``data:`` URI's type must agree); at most :data:`MAX_IMAGE_BYTES`.  SVG goes through
:func:`itembank.bank.svg.svg_problem` (a plain drawing, nothing outside the file at any depth).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePosixPath
from urllib.parse import unquote_to_bytes

from .svg import MAX_DEPTH, svg_problem

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
               ".gif": "image/gif", ".webp": "image/webp"}
SUFFIX_OF_MIME = {"image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/svg+xml": ".svg",
                  "image/gif": ".gif", "image/webp": ".webp"}
SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
}


class ImageError(ValueError):
    """The image is refused; the message says why (shown beside the file field or as a problem)."""


def check_image(filename: str, data: bytes, depth: int = 0) -> str:
    """The MIME type of an acceptable image named ``filename``; :class:`ImageError` otherwise."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix not in IMAGE_TYPES:
        raise ImageError(f"unsupported image type {suffix or '(none)'}; use {', '.join(IMAGE_TYPES)}")
    if not data:
        raise ImageError("the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"the image is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MB; make it smaller")
    if suffix == ".svg":
        problem = svg_problem(data, depth)
        if problem:
            raise ImageError(problem)
    elif suffix == ".webp":
        if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise ImageError("the file's content is not a WebP image")
    elif not data.startswith(SIGNATURES[suffix]):
        raise ImageError(f"the file's content is not a {suffix[1:].upper()} image")
    return IMAGE_TYPES[suffix]


def decode_data_uri(uri: str, depth: int = 0) -> tuple[str, bytes]:
    """(MIME type, bytes) of a ``data:`` URI holding an image that passes :func:`check_image`;
    :class:`ImageError` otherwise (another type, bad encoding, a refused SVG)."""
    if depth > MAX_DEPTH:
        raise ImageError(f"an SVG nested more than {MAX_DEPTH} levels deep in data: URIs is refused")
    if not uri[:5].lower() == "data:" or "," not in uri:
        raise ImageError("not a data: URI")
    if len(uri) > MAX_IMAGE_BYTES * 2:
        raise ImageError(f"the image is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MB; make it smaller")
    head, _, payload = uri[5:].partition(",")
    params = [p.strip().lower() for p in head.split(";")]
    mime = params[0] or "text/plain"
    suffix = SUFFIX_OF_MIME.get(mime)
    if suffix is None:
        raise ImageError(f"unsupported image type {mime!r} in a data: URI; use {', '.join(IMAGE_TYPES)}")
    try:
        if "base64" in params[1:]:
            data = base64.b64decode("".join(payload.split()), validate=True)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise ImageError("a data: URI whose content cannot be decoded") from None
    check_image(f"image{suffix}", data, depth)
    return IMAGE_TYPES[suffix], data
