"""An uploaded stimulus image, before it is stored as a MediaFile (by its sha256).

The check is the bank's one image check (:func:`itembank.bank.images.check_image`, with the SVG
rules of :mod:`itembank.bank.svg`), the same that YAML import, QTI import and restore run; this
module only names the image in the unit.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from itembank.bank.images import ImageError, check_image

UploadError = ImageError  # the upload is refused; the message says why (shown beside the file field)

__all__ = ["UploadError", "check_image", "image_src"]


def image_src(filename: str, data: bytes) -> str:
    """Where the image goes in the unit (and in an export): images/<hash>-<safe name>."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in PurePosixPath(filename).stem)[:40] or "image"
    suffix = PurePosixPath(filename).suffix.lower()
    return f"images/{hashlib.sha256(data).hexdigest()[:8]}-{stem}{suffix}"
