"""One embedded program per font in an assembled booklet.

A booklet assembled from cluster fragments (:mod:`itembank.paper.booklet_assembly`) holds each
fragment's own subset of every font it used, and the frame's: four or five subsets of each CJK
font instead of one, which tripled a zh-TW set's size.  WeasyPrint subsets with HarfBuzz keeping
the font's glyph ids (``RETAIN_GIDS``), so the text of every fragment draws the same glyph ids from
the same font: one subset of the original font holding the union of the glyphs used serves them
all.  :func:`share_font_programs` makes it, with the flags WeasyPrint uses, and points every
subset's font descriptor at it.  Each font dictionary keeps its own widths and ToUnicode map.

The original font is found by the PostScript name and revision the subsets keep (fontconfig's
``fc-list``); where it cannot be found (or differs), the subsets stay as they are.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["share_font_programs"]

log = logging.getLogger(__name__)

FONT_FILES = ("/FontFile2", "/FontFile3")  # TrueType; OpenType (CFF) as WeasyPrint embeds them
# the tables WeasyPrint drops from a subset (weasyprint/pdf/fonts.py, _harfbuzz_subset)
DROPPED_TABLES = (
    "BASE",
    "DSIG",
    "EBDT",
    "EBLC",
    "EBSC",
    "GPOS",
    "GSUB",
    "JSTF",
    "LTSH",
    "PCLT",
    "SVG ",
)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_GLYPH = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<")


@dataclass
class _Subsets:
    """The subsets of one font in a booklet: their descriptors, font dictionaries and glyphs."""

    descriptors: list[Any] = field(default_factory=list)
    fonts: list[Any] = field(default_factory=list)  # Type0 and CIDFont dictionaries
    glyphs: set[int] = field(default_factory=set)


def share_font_programs(pdf: Any) -> int:
    """Give every font of ``pdf`` (a pikepdf.Pdf written by WeasyPrint and assembled from several
    of its documents) one embedded program; returns how many fonts had more than one."""
    import pikepdf

    groups: dict[tuple[str, str], _Subsets] = {}
    for font in list(pdf.objects):
        if not isinstance(font, pikepdf.Dictionary) or font.get("/Subtype") != "/Type0":
            continue
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, pikepdf.Array) or len(descendants) != 1:
            continue
        cid_font = descendants[0]
        descriptor = cid_font.get("/FontDescriptor")
        if not isinstance(descriptor, pikepdf.Dictionary):
            continue
        name = str(descriptor.get("/FontName", ""))
        kind = next((k for k in FONT_FILES if k in descriptor), None)
        if kind is None or name[7:8] != "+":
            continue
        group = groups.setdefault((name[8:], kind), _Subsets())
        group.descriptors.append(descriptor)
        group.fonts.extend([font, cid_font])
        unicode_map = font.get("/ToUnicode")
        if isinstance(unicode_map, pikepdf.Stream):
            group.glyphs.update(_glyphs(unicode_map.read_bytes()))
    shared = 0
    for (name, kind), group in sorted(groups.items()):
        programs = {d[kind].objgen: d[kind] for d in group.descriptors}
        if len(programs) < 2 or not group.glyphs:
            continue
        sample = next(iter(programs.values())).read_bytes()
        original = _original(sample)
        if original is None:
            log.warning(
                "font %s: its original was not found; its %d subsets stay apart",
                name,
                len(programs),
            )
            continue
        data = _subset(original, sorted(group.glyphs))
        stream = pikepdf.Stream(pdf, data)
        if kind == "/FontFile3":
            stream["/Subtype"] = pikepdf.Name.OpenType
        else:
            stream["/Length1"] = len(data)
        tag = _tag(name, data)
        for descriptor in group.descriptors:
            descriptor[kind] = stream
            descriptor["/FontName"] = pikepdf.Name(f"/{tag}+{name}")
        for font in group.fonts:
            font["/BaseFont"] = pikepdf.Name(f"/{tag}+{name}")
        shared += 1
    return shared


def _glyphs(unicode_map: bytes) -> set[int]:
    """The glyph ids a WeasyPrint ToUnicode CMap maps (its bfchar entries: every glyph drawn)."""
    return {int(gid, 16) for block in _BFCHAR.findall(unicode_map) for gid in _GLYPH.findall(block)}


def _tag(name: str, data: bytes) -> str:
    digest = hashlib.sha256(name.encode() + b"\0" + data).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


@dataclass(frozen=True)
class _Original:
    path: Path
    index: int


def _original(subset: bytes) -> _Original | None:
    """The installed font a subset was cut from: the same PostScript name and revision."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(io.BytesIO(subset), lazy=True)
        postscript = font["name"].getDebugName(6)
        revision = round(float(font["head"].fontRevision), 3)
    except (TTLibError, KeyError, AssertionError):
        return None
    if not postscript:
        return None
    return _installed(postscript, revision)


@functools.cache
def _installed(postscript: str, revision: float) -> _Original | None:
    from fontTools.ttLib import TTFont, TTLibError

    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listed = subprocess.run([fc_list, f":postscriptname={postscript}", "-f", "%{file}\t%{index}\n"],
                            capture_output=True, text=True, timeout=30, check=False).stdout  # fmt: skip
    for line in listed.splitlines():
        path, _, index = line.partition("\t")
        if not index.isdigit():
            continue
        try:
            font = TTFont(path, fontNumber=int(index), lazy=True)
            same = (font["name"].getDebugName(6) == postscript
                    and round(float(font["head"].fontRevision), 3) == revision)  # fmt: skip
        except (OSError, TTLibError, KeyError, AssertionError):
            continue
        if same:
            return _Original(Path(path), int(index))
    return None


def _subset(original: _Original, glyphs: list[int]) -> bytes:
    """``original`` cut to ``glyphs`` as WeasyPrint cuts it: glyph ids kept, the glyphs after the
    last one used dropped, no hinting, a drawn .notdef."""
    import uharfbuzz as hb

    face = _face(original)
    first = hb.SubsetInput()
    first.glyph_set.update(glyphs)
    common = (
        hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
        | hb.SubsetFlags.DESUBROUTINIZE
        | hb.SubsetFlags.NO_HINTING
    )
    first.flags = common | hb.SubsetFlags.RETAIN_GIDS | hb.SubsetFlags.NOTDEF_OUTLINE
    dropped = first.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    for table in DROPPED_TABLES:
        dropped.add(int.from_bytes(table.encode(), "big"))
    kept = hb.subset(face, first)
    second = hb.SubsetInput()
    second.glyph_set.update(range(max(glyphs) + 1))
    second.flags = common | hb.SubsetFlags.NOTDEF_OUTLINE
    trimmed = hb.subset(kept, second)
    return bytes(trimmed.blob.data)


@functools.cache
def _face(original: _Original) -> Any:
    import uharfbuzz as hb

    return hb.Face(hb.Blob.from_file_path(str(original.path)), original.index)
