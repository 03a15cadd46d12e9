"""Checks on an uploaded stimulus image before it is stored as a MediaFile (by its sha256).

Types: PNG, JPEG, GIF, WebP and SVG, recognised by their bytes (the name's extension must agree);
at most :data:`itembank.bank.validation.MAX_IMAGE_BYTES`.  SVG is *refused*, not rewritten, when it
holds anything active or external: scripts, ``foreignObject``, event-handler attributes, DOCTYPE or
entities, or links (``href``) other than to a fragment inside the file or a ``data:image/`` URI.
Refusing keeps what is stored exactly what the author uploaded; a clean drawing passes.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from lxml import etree

from itembank.bank.validation import IMAGE_TYPES, MAX_IMAGE_BYTES

SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
}
SVG_FORBIDDEN = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}


class UploadError(ValueError):
    """The upload is refused; the message says why (shown beside the file field)."""


def _svg_problem(data: bytes) -> str | None:
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        return "an SVG with a DOCTYPE or entities is refused"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return "the SVG file is not well-formed XML"
    if etree.QName(root).localname != "svg":
        return "the file is not an SVG drawing"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        if etree.QName(element).localname.lower() in SVG_FORBIDDEN:
            return f"an SVG with <{etree.QName(element).localname}> is refused (no scripts or embedded content)"
        for name, value in element.attrib.items():
            local = etree.QName(name).localname.lower()
            if local.startswith("on"):
                return f"an SVG with the event attribute {local!r} is refused"
            stripped = "".join(value.split()).lower()
            if local == "href" and not (stripped.startswith("#") or stripped.startswith("data:image/")):
                return "an SVG that links to other files or addresses is refused"
            if "javascript:" in stripped or "url(" in stripped and "url(#" not in stripped:
                return "an SVG with script or external references in its attributes is refused"
        if etree.QName(element).localname == "style" and element.text and (
                "@import" in element.text or "url(" in element.text.replace("url(#", "")):
            return "an SVG whose styles load other files is refused"
    return None


def check_image(filename: str, data: bytes) -> str:
    """The MIME type of an acceptable image; :class:`UploadError` otherwise."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix not in IMAGE_TYPES:
        raise UploadError(f"unsupported image type {suffix or '(none)'}; use {', '.join(IMAGE_TYPES)}")
    if not data:
        raise UploadError("the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise UploadError(f"the image is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MB; make it smaller")
    if suffix == ".svg":
        problem = _svg_problem(data)
        if problem:
            raise UploadError(problem)
    elif suffix == ".webp":
        if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise UploadError("the file's content is not a WebP image")
    elif not data.startswith(SIGNATURES[suffix]):
        raise UploadError(f"the file's content is not a {suffix[1:].upper()} image")
    return IMAGE_TYPES[suffix]


def image_src(filename: str, data: bytes) -> str:
    """Where the image goes in the unit (and in an export): images/<hash>-<safe name>."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in PurePosixPath(filename).stem)[:40] or "image"
    suffix = PurePosixPath(filename).suffix.lower()
    return f"images/{hashlib.sha256(data).hexdigest()[:8]}-{stem}{suffix}"
