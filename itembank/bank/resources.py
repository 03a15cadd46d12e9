"""The one function that fetches what a PDF or a page embeds (WeasyPrint's ``url_fetcher``, the
booklet previews): the bank's own media by hash and ``data:`` URIs of images that pass the bank's
image check.  Everything else is refused and recorded: no network (``http:``, ``https:``,
``ftp:``), no files (``file:``), no other scheme, no image that fails the check (an SVG that points
outside itself, a file whose bytes are not its type).

A bank image is named ``media:<sha256>`` (:func:`media_url`); the fetcher looks the hash up with the
``media`` callable it was given (the stored ``MediaFile`` rows, or images in memory) and checks
the bytes again, so an image stored before a rule existed is refused at print time too.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .images import SUFFIX_OF_MIME, ImageError, check_image, decode_data_uri

LOG = logging.getLogger(__name__)
MEDIA_SCHEME = "media:"
_MEDIA = re.compile(r"^media:([0-9a-f]{64})$")


class ResourceRefused(ValueError):
    """The fetcher refused a resource; the message says which and why."""


@dataclass(frozen=True)
class Resource:
    mime: str
    data: bytes


def media_url(sha256: str) -> str:
    return f"{MEDIA_SCHEME}{sha256}"


def _describe(url: str) -> str:
    return url if len(url) <= 120 else f"{url[:100]}… ({len(url)} characters)"


@dataclass
class ResourceFetcher:
    """Fetch embedded resources for one document; ``refused`` lists (url, reason) of what it refused.

    ``media``: sha256 → bytes of the bank's images (a mapping or a function returning None for an
    unknown hash).
    """

    media: Callable[[str], bytes | None] | Mapping[str, bytes] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def _lookup(self, digest: str) -> bytes | None:
        if callable(self.media):
            return self.media(digest)
        return self.media.get(digest)

    def fetch(self, url: str) -> Resource:
        """The resource at ``url``; :class:`ResourceRefused` for anything not allowed."""
        try:
            return self._fetch(url)
        except ResourceRefused as exc:
            self.refused.append((_describe(url), str(exc)))
            LOG.warning("refused to embed %s: %s", _describe(url), exc)
            raise

    def _fetch(self, url: str) -> Resource:
        text = url.strip()
        scheme = text.split(":", 1)[0].lower() if ":" in text else ""
        if scheme == "data":
            try:
                mime, data = decode_data_uri(text)
            except ImageError as exc:
                raise ResourceRefused(f"a data: URI that is not an acceptable image: {exc}") from None
            return Resource(mime, data)
        match = _MEDIA.match(text)
        if match:
            stored = self._lookup(match.group(1))
            if stored is None:
                raise ResourceRefused("no image with this hash in the bank")
            mime = _sniff(stored)
            try:
                check_image(f"image{SUFFIX_OF_MIME[mime]}", stored)
            except ImageError as exc:
                raise ResourceRefused(f"the bank's image is refused: {exc}") from None
            return Resource(mime, stored)
        raise ResourceRefused(f"only the bank's own images and data: images are embedded, not {scheme or 'a relative'} URLs")


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/svg+xml"  # anything else must pass the SVG check


def embed_uri(data: bytes, src: str) -> str | None:
    """A ``data:`` URI for an image of the bank that a page or PDF shows, or None (recorded in the
    log) when the image fails the check: previews in the browser embed only what the PDF would."""
    try:
        mime = check_image(src, data)
    except ImageError as exc:
        LOG.warning("refused to embed %s: %s", src, exc)
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
