"""The QTI package as bytes: safe zip reading (size limits, no zip slip) and hardened XML parsing.

Every XML file of a package is parsed here, with entities unresolved, no network and no huge trees,
and every member of a zip is read here, with its path checked and its size capped while reading
(the sizes a zip declares are not trusted).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from lxml import etree

from itembank import config
from itembank.errors import Problem, ProblemsError

MAX_PACKAGE_BYTES = 100 * 1024 * 1024  # the zip file itself
MAX_MEMBER_BYTES = 20 * 1024 * 1024  # one file inside, uncompressed
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # all files inside, uncompressed
MAX_MEMBERS = 5000
MAX_RATIO = 200  # uncompressed / compressed size of one member; more is a zip bomb
MAX_ELEMENTS = 200_000  # elements in one XML file


@dataclass(frozen=True)
class Limits:
    package: int = MAX_PACKAGE_BYTES
    member: int = MAX_MEMBER_BYTES
    total: int = MAX_TOTAL_BYTES
    members: int = MAX_MEMBERS
    ratio: int = MAX_RATIO


def xml_parser() -> etree.XMLParser:
    """The one parser for untrusted XML: no entities, no DTD loading, no network, no huge trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Parse ``data``; a syntax error becomes a ProblemsError naming ``where`` and the line.

    Bounded while parsing: at most :data:`MAX_ELEMENTS` elements and ``ITEMBANK_MAX_XML_DEPTH``
    levels; past either the parse stops at once with a problem at that line."""
    max_depth = config.load().max_xml_depth
    depth = count = 0
    root: etree._Element | None = None
    try:
        for event, element in etree.iterparse(
                io.BytesIO(data), events=("start", "end"), resolve_entities=False, no_network=True,
                huge_tree=False, load_dtd=False, dtd_validation=False, remove_comments=True, remove_pis=True):
            if event == "end":
                depth -= 1
                root = element
                continue
            depth += 1
            count += 1
            if depth > max_depth:
                raise ProblemsError([Problem(where, element.sourceline or 0, 0,
                                             f"elements nested more than {max_depth} levels deep")])
            if count > MAX_ELEMENTS:
                raise ProblemsError([Problem(where, element.sourceline or 0, 0,
                                             f"more than {MAX_ELEMENTS} elements in one file")])
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        if "depth" in (exc.msg or "").lower():  # libxml2's own nesting limit (256) met first
            raise ProblemsError([Problem(where, line, 0,
                                         f"elements nested more than {max_depth} levels deep")]) from None
        raise ProblemsError([Problem(where, line, 0, f"not well-formed XML: {exc.msg}")]) from None
    if root is None:
        raise ProblemsError([Problem(where, 0, 0, "not well-formed XML: no element")])
    return root


def safe_member_name(name: str) -> str | None:
    """The member's path, normalised, or None when it would leave the package (zip slip)."""
    if "\\" in name or name.startswith("/") or ":" in name.split("/")[0]:
        return None
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or path.is_absolute():
        return None
    return path.as_posix()


def read_zip(data: bytes, name: str, limits: Limits | None = None) -> dict[str, bytes]:
    """Every file of the zip ``data`` by its path; raise ProblemsError on an unsafe or oversized zip."""
    limits = limits or Limits()
    def fail(message: str, member: str | None = None) -> ProblemsError:
        return ProblemsError([Problem(f"{name}:{member}" if member else name, 0, 0, message)])

    if len(data) > limits.package:
        raise fail(f"the package is {len(data) // (1024 * 1024)} MB; the limit is "
                   f"{limits.package // (1024 * 1024)} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise fail("not a zip file (a QTI content package is a zip with imsmanifest.xml)") from None
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.members:
        raise fail(f"the package holds {len(infos)} files; the limit is {limits.members}")
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        path = safe_member_name(info.filename)
        if path is None:
            raise fail("unsafe path: a member of a package must stay inside it (no '..', no absolute "
                       "paths); nothing was read", info.filename)
        if info.flag_bits & 0x1:
            raise fail("encrypted members are not supported", path)
        content = _read_capped(archive, info, limits, fail, path)
        total += len(content)
        if total > limits.total:
            raise fail(f"the package unpacks to more than {limits.total // (1024 * 1024)} MB; "
                       "this looks like a zip bomb, nothing was read")
        files[path] = content
    return files


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, fail, path: str) -> bytes:
    cap = min(limits.member, max(info.compress_size, 1) * limits.ratio, limits.total)
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(64 * 1024):
                out += chunk
                if len(out) > cap:
                    if len(out) > limits.member:
                        raise fail(f"the file unpacks to more than {limits.member // (1024 * 1024)} MB; "
                                   "nothing was read", path)
                    raise fail(f"the file unpacks to more than {limits.ratio} times its compressed size; "
                               "this looks like a zip bomb, nothing was read", path)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise fail(f"damaged zip member: {exc}", path) from None
    return bytes(out)


def write_zip(files: dict[str, bytes], out: BinaryIO) -> None:
    """Write ``files`` (path -> bytes) as a deflated zip, manifest first, in a stable order."""
    order = sorted(files, key=lambda p: (p != "imsmanifest.xml", p))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in order:
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
