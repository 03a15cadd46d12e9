"""Check files against the official QTI 3.0.1 XSDs, loaded offline from a local folder.

The schemas are not part of this package; pass their folder (the project's tests use
../shared/qti-samples/xsd/qti-v3p0p1).  Imports inside them are resolved from that folder only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from itembank.errors import Problem

from .package import parse_xml

ASI_XSD = "imsqti_asiv3p0p1_v1p0.xsd"
CP_XSD = "imsqtiv3p0_imscpv1p2_v1p0.xsd"


class _LocalOnly(etree.Resolver):
    """Resolve schema imports to files in the schema folder; refuse anything else (no network)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
        name = Path(str(url).split("?")[0]).name
        candidate = self.folder / name
        if candidate.is_file():
            return self.resolve_filename(str(candidate), context)
        raise OSError(f"schema import {url!r} is not in {self.folder}")


@lru_cache(maxsize=8)
def load_schema(path: str) -> etree.XMLSchema:
    folder = Path(path).parent
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    parser.resolvers.add(_LocalOnly(folder))
    return etree.XMLSchema(etree.parse(path, parser))


def schema_for(root: etree._Element, folder: Path) -> etree.XMLSchema:
    name = CP_XSD if etree.QName(root).localname == "manifest" else ASI_XSD
    return load_schema(str(folder / name))


def validate_file(data: bytes, where: str, folder: Path) -> list[Problem]:
    """Problems of one XML file (item, stimulus or manifest) against the QTI 3.0.1 schemas."""
    root = parse_xml(data, where)
    schema = schema_for(root, folder)
    if schema.validate(root):
        return []
    return [Problem(where, e.line, e.column, e.message) for e in schema.error_log]


def validate_files(files: dict[str, bytes], folder: Path) -> list[Problem]:
    """Problems of every XML file of a package (path -> bytes)."""
    problems: list[Problem] = []
    for path, data in sorted(files.items()):
        if path.endswith(".xml"):
            problems.extend(validate_file(data, path, folder))
    return problems
