"""Materials' metadata as schema.org ``LearningResource`` JSON-LD, the form open educational
resource repositories read, and back.  Writing and reading are inverse: export → import → export
gives the same document.  The file's bytes are not in the document (``associatedMedia`` names
them by SHA-256); after an import into another installation a material whose bytes are not stored
there lists its file without a download.

Import is all or nothing: every problem names the entry (its number and ``identifier``) and the
field, and nothing is written.

How fields map (the ``inDefinedTermSet`` URNs are this project's own vocabularies):

| material | JSON-LD |
|---|---|
| uid | ``identifier`` (and ``@id`` ``urn:itembank:material:<uid>``) |
| title, summary | ``name``, ``description``: ``[{"@language": "zh-TW", "@value": ...}, ...]`` |
| kind | ``learningResourceType`` |
| SDGs | ``about``: ``DefinedTerm`` ``SDG13`` in https://sdgs.un.org/goals |
| dimension, process | ``teaches``: ``DefinedTerm`` in ``urn:itembank:dimension`` / ``urn:itembank:process`` |
| grade bands | ``educationalLevel``: ``DefinedTerm`` in ``urn:itembank:grade-band`` |
| subject | ``educationalAlignment``: ``AlignmentObject`` ``educationalSubject`` |
| languages | ``inLanguage`` |
| licence | ``license`` (the Creative Commons deed's address) |
| author | ``author``: ``Person`` |
| link | ``url`` |
| file | ``associatedMedia``: ``MediaObject`` (name, encodingFormat, contentSize, sha256) |
| visibility | ``conditionsOfAccess``: school, city, partners, public |
| status | ``creativeWorkStatus``: draft, review, approved |
| school and city | ``sourceOrganization``: ``identifier`` ``city`` or ``city/school`` codes |
| downloads | ``interactionStatistic``: ``InteractionCounter`` of ``DownloadAction`` |
| created, updated | ``dateCreated``, ``dateModified`` |
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.errors import ItembankError
from itembank.orgs.models import City, School

from .models import KINDS, LICENCES, STATUSES, Material
from .workflow import LANGUAGES, FieldError, Fields, apply_fields

__all__ = ["JsonLdError", "from_jsonld", "import_document", "to_jsonld"]

SDG_SET = "https://sdgs.un.org/goals"
DIMENSION_SET = "urn:itembank:dimension"
PROCESS_SET = "urn:itembank:process"
GRADE_SET = "urn:itembank:grade-band"
DOWNLOAD = "https://schema.org/DownloadAction"
ID_PREFIX = "urn:itembank:material:"
UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LICENCE_OF_URL = {url: name for name, url in LICENCES.items()}


@dataclass(frozen=True)
class EntryProblem:
    entry: int  # 1-based
    identifier: str
    field: str
    message: str

    def __str__(self) -> str:
        who = f" ({self.identifier})" if self.identifier else ""
        return f"entry {self.entry}{who}: {self.field}: {self.message}"


class JsonLdError(ItembankError):
    def __init__(self, source: str, problems: list[EntryProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def _lang_values(text: dict[str, str]) -> list[dict[str, str]]:
    return [{"@language": lang, "@value": text[lang]} for lang in LANGUAGES if text.get(lang)]


def _term(code: str, term_set: str) -> dict[str, str]:
    return {"@type": "DefinedTerm", "termCode": code, "inDefinedTermSet": term_set}


def _date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_jsonld(session: Session, materials: Iterable[Material]) -> dict[str, Any]:
    """One JSON-LD document (``@graph``) of ``materials``, in the order given."""
    cities = {c.id: c.code for c in session.scalars(select(City))}
    schools = {s.id: (s.city_id, s.code) for s in session.scalars(select(School))}
    graph = []
    for m in materials:
        entry: dict[str, Any] = {
            "@type": "LearningResource",
            "@id": ID_PREFIX + m.uid,
            "identifier": m.uid,
            "name": _lang_values(m.title),
            "description": _lang_values(m.summary),
            "learningResourceType": m.kind,
            "about": [_term(f"SDG{s}", SDG_SET) for s in sorted(m.sdgs)],
            "teaches": [t for t in (
                _term(m.dimension, DIMENSION_SET) if m.dimension else None,
                _term(m.process, PROCESS_SET) if m.process else None,
            ) if t],
            "educationalLevel": [_term(g, GRADE_SET) for g in m.grade_bands],
            "inLanguage": list(m.languages),
            "license": LICENCES[m.licence],
            "author": {"@type": "Person", "name": m.author},
            "conditionsOfAccess": m.visibility,
            "creativeWorkStatus": m.status,
            "interactionStatistic": {"@type": "InteractionCounter", "interactionType": DOWNLOAD,
                                     "userInteractionCount": m.downloads},
            "dateCreated": _date(m.created_at),
            "dateModified": _date(m.updated_at),
        }
        if m.subject:
            entry["educationalAlignment"] = [{"@type": "AlignmentObject",
                                              "alignmentType": "educationalSubject",
                                              "targetName": m.subject}]
        if m.url:
            entry["url"] = m.url
        if m.file_sha256:
            entry["associatedMedia"] = {"@type": "MediaObject", "name": m.file_name or "",
                                        "encodingFormat": m.media_type or "",
                                        "contentSize": str(m.size or 0), "sha256": m.file_sha256}
        if m.school_id is not None and m.school_id in schools:
            city_id, code = schools[m.school_id]
            entry["sourceOrganization"] = {"@type": "EducationalOrganization",
                                           "identifier": f"{cities[city_id]}/{code}"}
        elif m.city_id is not None:
            entry["sourceOrganization"] = {"@type": "EducationalOrganization",
                                           "identifier": cities[m.city_id]}
        graph.append(entry)
    return {"@context": "https://schema.org", "@graph": graph}


# -- reading ------------------------------------------------------------------------------------
class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(entry: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = entry.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _Bad(name, "a text is required")
    return value


def _langs(entry: dict[str, Any], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in _list(entry.get(name)):
        if not isinstance(value, dict) or not isinstance(value.get("@value"), str):
            raise _Bad(name, 'each value is {"@language": ..., "@value": ...}')
        lang = value.get("@language")
        if lang not in LANGUAGES:
            raise _Bad(name, f"language {lang!r} is not zh-TW or en")
        out[lang] = value["@value"]
    for lang in LANGUAGES:
        if not out.get(lang, "").strip():
            raise _Bad(name, f"the {lang} text is missing")
    return out


def _terms(entry: dict[str, Any], name: str) -> list[tuple[str, str]]:
    out = []
    for value in _list(entry.get(name)):
        if not isinstance(value, dict) or not isinstance(value.get("termCode"), str):
            raise _Bad(name, "each value is a DefinedTerm with a termCode")
        out.append((str(value.get("inDefinedTermSet", "")), value["termCode"]))
    return out


def _parse_date(entry: dict[str, Any], name: str) -> datetime | None:
    value = entry.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(name, "an ISO 8601 date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Entry:
    uid: str
    fields: Fields
    status: str
    source: str | None
    media: dict[str, Any] | None
    downloads: int
    created: datetime | None
    modified: datetime | None


def _entry(raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise _Bad("@type", "an entry is a JSON object")
    kinds = _list(raw.get("@type"))
    if "LearningResource" not in kinds:
        raise _Bad("@type", "must be LearningResource")
    uid = _text(raw, "identifier")
    if not UID.match(uid):
        raise _Bad("identifier", "letters, digits, '.', '_' and '-', at most 64")
    sdgs, dimension, process, grades = [], None, None, []
    for term_set, code in _terms(raw, "about"):
        match = re.fullmatch(r"SDG([0-9]{1,2})", code)
        if term_set != SDG_SET or not match:
            raise _Bad("about", f"{code!r}: SDGs are DefinedTerms SDG1 … SDG17 in {SDG_SET}")
        sdgs.append(int(match.group(1)))
    for term_set, code in _terms(raw, "teaches"):
        if term_set == DIMENSION_SET:
            dimension = code
        elif term_set == PROCESS_SET:
            process = code
        else:
            raise _Bad("teaches", f"{code!r}: not in {DIMENSION_SET} or {PROCESS_SET}")
    for term_set, code in _terms(raw, "educationalLevel"):
        if term_set != GRADE_SET:
            raise _Bad("educationalLevel", f"{code!r}: not in {GRADE_SET}")
        grades.append(code)
    subject = ""
    for value in _list(raw.get("educationalAlignment")):
        if isinstance(value, dict) and value.get("alignmentType") == "educationalSubject":
            subject = str(value.get("targetName") or "")
    licence_url = _text(raw, "license")
    if licence_url not in LICENCE_OF_URL:
        raise _Bad("license", f"{licence_url!r} is not one of the Creative Commons licences")
    author = raw.get("author")
    name = author.get("name") if isinstance(author, dict) else author
    if not isinstance(name, str) or not name.strip():
        raise _Bad("author", "a Person with a name")
    languages = _list(raw.get("inLanguage"))
    if not all(isinstance(x, str) for x in languages):
        raise _Bad("inLanguage", "language codes")
    kind = raw.get("learningResourceType", "other")
    if kind not in KINDS:
        raise _Bad("learningResourceType", f"{kind!r} is not one of {', '.join(KINDS)}")
    status = raw.get("creativeWorkStatus", "draft")
    if status not in STATUSES:
        raise _Bad("creativeWorkStatus", f"{status!r} is not one of {', '.join(STATUSES)}")
    media = raw.get("associatedMedia")
    if media is not None:
        if not isinstance(media, dict) or not SHA256.match(str(media.get("sha256", ""))):
            raise _Bad("associatedMedia", "a MediaObject with a sha256 of 64 hex digits")
        if not str(media.get("contentSize", "0")).isdigit():
            raise _Bad("associatedMedia", "contentSize is a number of bytes")
    url = raw.get("url")
    if url is not None and not isinstance(url, str):
        raise _Bad("url", "an address")
    if url is None and media is None:
        raise _Bad("url", "an entry has a url or an associatedMedia")
    source = raw.get("sourceOrganization")
    source_id = source.get("identifier") if isinstance(source, dict) else None
    if source is not None and not isinstance(source_id, str):
        raise _Bad("sourceOrganization", "an organisation with an identifier city or city/school")
    downloads = 0
    stat = raw.get("interactionStatistic")
    if isinstance(stat, dict):
        count = stat.get("userInteractionCount", 0)
        if not isinstance(count, int) or count < 0:
            raise _Bad("interactionStatistic", "userInteractionCount is a whole number")
        downloads = count
    fields = Fields(
        title=_langs(raw, "name"), summary=_langs(raw, "description"),
        licence=LICENCE_OF_URL[licence_url], author=name, kind=str(kind), sdgs=sdgs,
        dimension=dimension, process=process, grade_bands=grades, subject=subject,
        languages=[str(x) for x in languages],
        visibility=str(raw.get("conditionsOfAccess", "school")), url=url,
    )
    try:
        fields.check()
    except FieldError as exc:
        names = {"title": "name", "summary": "description", "licence": "license",
                 "sdgs": "about", "dimension": "teaches", "process": "teaches",
                 "grade_bands": "educationalLevel", "languages": "inLanguage",
                 "visibility": "conditionsOfAccess", "subject": "educationalAlignment",
                 "kind": "learningResourceType"}
        field = exc.field.split(".")[0]
        raise _Bad(names.get(field, field), str(exc).split(": ", 1)[-1]) from None
    return Entry(uid, fields, str(status), source_id, media, downloads,
                 _parse_date(raw, "dateCreated"), _parse_date(raw, "dateModified"))


def from_jsonld(document: Any, source: str = "document") -> list[Entry]:
    """The entries of ``document`` (``@graph``, a list, or one object); raises
    :class:`JsonLdError` with every entry's problem."""
    if isinstance(document, dict) and "@graph" in document:
        raw_entries = document["@graph"]
    elif isinstance(document, list):
        raw_entries = document
    else:
        raw_entries = [document]
    if not isinstance(raw_entries, list):
        raise JsonLdError(source, [EntryProblem(0, "", "@graph", "a list of entries")])
    entries, problems = [], []
    seen: set[str] = set()
    for number, raw in enumerate(raw_entries, start=1):
        ident = str(raw.get("identifier", "")) if isinstance(raw, dict) else ""
        try:
            entry = _entry(raw)
        except _Bad as bad:
            problems.append(EntryProblem(number, ident[:80], bad.field, bad.message))
            continue
        if entry.uid in seen:
            problems.append(EntryProblem(number, ident, "identifier", "appears twice"))
        seen.add(entry.uid)
        entries.append(entry)
    if problems:
        raise JsonLdError(source, problems)
    return entries


def import_document(session: Session, document: Any, source: str = "document") -> tuple[int, int]:
    """Create or update (by ``identifier``) every entry in the caller's transaction; all or
    nothing: any problem raises :class:`JsonLdError` before anything is written.
    Returns (created, updated)."""
    entries = from_jsonld(document, source)
    cities = {c.code: c.id for c in session.scalars(select(City))}
    schools = {(s.city_id, s.code): s.id for s in session.scalars(select(School))}
    placed: list[tuple[Entry, int | None, int | None]] = []
    problems = []
    for number, entry in enumerate(entries, start=1):
        city_id = school_id = None
        if entry.source:
            city_code, _, school_code = entry.source.partition("/")
            city_id = cities.get(city_code)
            if city_id is None:
                problems.append(EntryProblem(number, entry.uid, "sourceOrganization",
                                             f"no city {city_code!r} in this installation"))
                continue
            if school_code:
                school_id = schools.get((city_id, school_code))
                if school_id is None:
                    problems.append(EntryProblem(number, entry.uid, "sourceOrganization",
                                                 f"no school {school_code!r} in {city_code!r}"))
                    continue
        placed.append((entry, school_id, city_id))
    if problems:
        raise JsonLdError(source, problems)
    existing = {m.uid: m for m in session.scalars(
        select(Material).where(Material.uid.in_([e.uid for e in entries])))}
    created = updated = 0
    for entry, school_id, city_id in placed:
        material = existing.get(entry.uid)
        if material is None:
            material = Material(uid=entry.uid, owner_id=None)
            session.add(material)
            created += 1
        else:
            updated += 1
        apply_fields(material, entry.fields)
        material.status = entry.status
        material.school_id, material.city_id = school_id, city_id
        material.downloads = entry.downloads
        if entry.media is not None:
            material.file_sha256 = str(entry.media["sha256"])
            material.file_name = str(entry.media.get("name") or "")[:255] or None
            material.media_type = str(entry.media.get("encodingFormat") or "")[:100] or None
            material.size = int(str(entry.media.get("contentSize", "0")))
        else:
            material.file_sha256 = material.file_name = material.media_type = None
            material.size = None
        if entry.created:
            material.created_at = entry.created
        if entry.modified:
            material.updated_at = entry.modified
    session.flush()
    return created, updated
