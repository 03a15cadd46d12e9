"""The bytes of uploaded materials: the type is read from the file's first bytes (PDF, Office
documents and slides, OpenDocument, PNG/JPEG/GIF/WebP; SVG only when the bank's SVG check
passes), the size is capped by ``Settings.max_upload_mb``, and the bytes are stored once per
SHA-256 in the ``material_files`` table: every web host serves them from the database, nothing is
written to one host's disk."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.errors import ItembankError

from .models import MaterialFile

__all__ = ["FileRefused", "StoredFile", "detect_type", "load", "save"]

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE2_TYPES = {"doc": "application/msword", "ppt": "application/vnd.ms-powerpoint",
              "xls": "application/vnd.ms-excel"}
OOXML_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ODF_PREFIX = "application/vnd.oasis.opendocument."


class FileRefused(ItembankError):  # noqa: N818  (a refusal, named as the user reads it)
    """An upload that is not stored; ``code`` names the reason for the page's message
    (``empty``, ``too_large``, ``type``, ``svg``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    media_type: str
    size: int


def _zip_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared.startswith(ODF_PREFIX):
                    return declared
            if "[Content_Types].xml" in names:
                for prefix, media_type in OOXML_TYPES.items():
                    if any(n.startswith(prefix) for n in names):
                        return media_type
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return None
    return None


def detect_type(data: bytes, filename: str = "") -> str:
    """The media type of ``data`` read from its content (the name only tells the legacy Office
    formats apart); raises :class:`FileRefused` for anything else."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        found = _zip_type(data)
        if found:
            return found
        raise FileRefused("type", "a ZIP archive that is not an Office or OpenDocument file")
    if head.startswith(OLE2):
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext in OLE2_TYPES:
            return OLE2_TYPES[ext]
        raise FileRefused("type", "a legacy Office file needs its .doc, .ppt or .xls name")
    if b"<svg" in data[:4096].lower():
        try:
            from itembank.bank import svg
        except ImportError:  # pragma: no cover - the check is part of the bank
            raise FileRefused("svg", "SVG drawings cannot be checked here") from None
        problem = svg.svg_problem(data)
        if problem:
            raise FileRefused("svg", problem)
        return "image/svg+xml"
    raise FileRefused("type", "not a PDF, Office, OpenDocument or image file")


def save(session: Session, data: bytes, filename: str, *, max_bytes: int) -> StoredFile:
    """Check and store ``data`` in the caller's transaction (once per content)."""
    if not data:
        raise FileRefused("empty")
    if len(data) > max_bytes:
        raise FileRefused("too_large", f"{len(data)} bytes; the limit is {max_bytes}")
    media_type = detect_type(data, filename)
    digest = hashlib.sha256(data).hexdigest()
    if session.get(MaterialFile, digest) is None:
        session.add(MaterialFile(sha256=digest, media_type=media_type, size=len(data), data=data))
        session.flush()
    return StoredFile(digest, media_type, len(data))


def load(session: Session, sha256: str) -> MaterialFile | None:
    return session.scalars(select(MaterialFile).where(MaterialFile.sha256 == sha256)).first()
