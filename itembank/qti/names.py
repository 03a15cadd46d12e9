"""Namespaces, file layout and identifier rules shared by QTI export and import."""

from __future__ import annotations

import re

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI2 = ("http://www.imsglobal.org/xsd/imsqti_v2p1", "http://www.imsglobal.org/xsd/imsqti_v2p2",
        "http://www.imsglobal.org/xsd/imsqti_v2p0")
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
LOM = "http://ltsc.ieee.org/xsd/LOM"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Our extension inside LOM metadata (LOM allows elements of other namespaces there, laxly validated):
# the fields of a unit that neither QTI nor LOM has a place for.
GC = "https://gc-itembank.invalid/qti-extension/1"

ITEM_TYPE = "imsqti_item_xmlv3p0"
STIMULUS_TYPE = "imsqti_stimulus_xmlv3p0"
TEST_TYPE = "imsqti_test_xmlv3p0"
ASI_SCHEMA_URL = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0p1_v1p0.xsd"
CP_SCHEMA_URL = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
LOM_SCHEMA_URL = "https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd"
RP_TEMPLATES = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"

_NCNAME_START = re.compile(r"^[A-Za-z_]")
_BANK_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def qti_id(bank_id: str) -> str:
    """A bank id as a QTI identifier (an NCName): ids starting with a digit get a leading '_'."""
    return bank_id if _NCNAME_START.match(bank_id) else f"_{bank_id}"


def bank_id(identifier: str) -> str:
    """A QTI identifier as a bank id: the inverse of :func:`qti_id` for our ids; third-party
    identifiers lose leading underscores and characters the bank does not allow."""
    cleaned = _BANK_ID.sub("-", identifier.strip()).lstrip("_.-")
    return cleaned[:64] or "item"


def language_code(xml_lang: str | None) -> str | None:
    """'en', 'en-GB' -> 'en'; 'zh-TW', 'zh-Hant', 'zh' -> 'zh-TW'; anything else -> None."""
    if not xml_lang:
        return None
    lang = xml_lang.strip().lower()
    if lang == "en" or lang.startswith("en-"):
        return "en"
    if lang in ("zh", "zh-tw", "zh-hant", "zh-hant-tw") or lang.startswith("zh-hant"):
        return "zh-TW"
    return None
