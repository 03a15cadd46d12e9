"""The life of a material: a teacher shares it (a draft), submits it for review, a reviewer
approves it or sends it back with a comment; comments, download counts (counted in the database,
``downloads = downloads + 1``) and search.  Every change is audit-logged in the caller's
transaction (``material.upload``, ``material.submit``, ``material.approve``,
``material.return``, ``material.download``, ``material.comment``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.orm import Session

from itembank.accounts import audit
from itembank.bank.models import utcnow
from itembank.bank.schema import CognitiveProcess, Dimension, GradeBand
from itembank.errors import ItembankError
from itembank.orgs.models import School, SchoolClass
from itembank.orgs.scope import Viewer, taught_class_ids

from .models import KINDS, LICENCES, VISIBILITIES, Material, MaterialComment
from .scope import material_clause, reviewable_clause

__all__ = [
    "DIMENSIONS", "GRADE_BANDS", "LANGUAGES", "PROCESSES", "Fields", "Filters", "FieldError",
    "WorkflowError", "add_comment", "approve", "create", "count_download", "home_of",
    "materials_on", "refresh_search", "return_to_draft", "search", "submit",
]

DIMENSIONS = tuple(d.value for d in Dimension)
PROCESSES = tuple(p.value for p in CognitiveProcess)
GRADE_BANDS = tuple(g.value for g in GradeBand)
LANGUAGES = ("zh-TW", "en")
MAX_COMMENT = 4000


class FieldError(ItembankError):
    """A field of a material's metadata is wrong: ``field`` names it, ``code`` the reason."""

    def __init__(self, field: str, code: str, detail: str = "") -> None:
        self.field = field
        self.code = code
        super().__init__(f"{field}: {detail or code}")


class WorkflowError(ItembankError):
    """A step that the material's status or the user's role does not allow."""


@dataclass
class Fields:
    """A material's metadata, as a form or a JSON-LD entry gives it."""

    title: dict[str, str]
    summary: dict[str, str]
    licence: str
    author: str
    kind: str = "lesson_plan"
    sdgs: list[int] = field(default_factory=list)
    dimension: str | None = None
    process: str | None = None
    grade_bands: list[str] = field(default_factory=list)
    subject: str = ""
    languages: list[str] = field(default_factory=list)
    visibility: str = "school"
    url: str | None = None

    def check(self) -> None:
        """Raise :class:`FieldError` on the first wrong field."""
        for name in ("title", "summary"):
            value = getattr(self, name)
            for lang in LANGUAGES:
                text = (value.get(lang) or "").strip()
                if not text:
                    raise FieldError(f"{name}.{lang}", "required", f"write the {name} in {lang}")
                if len(text) > (300 if name == "title" else 4000):
                    raise FieldError(f"{name}.{lang}", "too_long")
        if not self.author.strip() or len(self.author) > 200:
            raise FieldError("author", "required")
        if self.licence not in LICENCES:
            raise FieldError("licence", "choice", f"one of {', '.join(LICENCES)}")
        if self.kind not in KINDS:
            raise FieldError("kind", "choice", f"one of {', '.join(KINDS)}")
        if any(not isinstance(s, int) or not 1 <= s <= 17 for s in self.sdgs):
            raise FieldError("sdgs", "choice", "SDGs are numbered 1 to 17")
        if self.dimension is not None and self.dimension not in DIMENSIONS:
            raise FieldError("dimension", "choice", f"one of {', '.join(DIMENSIONS)}")
        if self.process is not None and self.process not in PROCESSES:
            raise FieldError("process", "choice", f"one of {', '.join(PROCESSES)}")
        if any(g not in GRADE_BANDS for g in self.grade_bands):
            raise FieldError("grade_bands", "choice", f"one of {', '.join(GRADE_BANDS)}")
        if any(lang not in LANGUAGES for lang in self.languages):
            raise FieldError("languages", "choice", f"one of {', '.join(LANGUAGES)}")
        if self.visibility not in VISIBILITIES:
            raise FieldError("visibility", "choice", f"one of {', '.join(VISIBILITIES)}")
        if len(self.subject) > 80:
            raise FieldError("subject", "too_long")
        if self.url is not None and (
            not self.url.startswith(("https://", "http://")) or len(self.url) > 2000
            or any(c.isspace() for c in self.url)
        ):
            raise FieldError("url", "url", "an http:// or https:// address")


def refresh_search(material: Material) -> None:
    """Fill the columns the search reads from the material's fields."""
    parts = [*material.title.values(), *material.summary.values(), material.author,
             material.subject]
    material.search_text = " ".join(p for p in parts if p).lower()
    tokens = [f"sdg:{s}" for s in sorted(material.sdgs)]
    tokens += [f"grade:{g}" for g in material.grade_bands]
    tokens += [f"lang:{lang}" for lang in material.languages]
    material.tags = (" " + " ".join(tokens) + " ") if tokens else ""


def apply_fields(material: Material, fields: Fields) -> None:
    fields.check()
    material.title = {lang: fields.title[lang].strip() for lang in LANGUAGES}
    material.summary = {lang: fields.summary[lang].strip() for lang in LANGUAGES}
    material.licence = fields.licence
    material.author = fields.author.strip()
    material.kind = fields.kind
    material.sdgs = sorted(set(fields.sdgs))
    material.dimension = fields.dimension
    material.process = fields.process
    material.grade_bands = [g for g in GRADE_BANDS if g in fields.grade_bands]
    material.subject = fields.subject.strip()
    material.languages = [lang for lang in LANGUAGES if lang in fields.languages]
    material.visibility = fields.visibility
    material.url = fields.url
    material.updated_at = utcnow()
    refresh_search(material)


def home_of(session: Session, user: Viewer) -> tuple[int | None, int | None]:
    """(school id, city id) a user shares from: their school, else the school of a class they
    teach; the city of that school, else ``User.city_id``."""
    school_id = user.school_id
    if school_id is None:
        school_id = session.scalars(
            select(SchoolClass.school_id).where(SchoolClass.id.in_(taught_class_ids(user)))
            .order_by(SchoolClass.school_id).limit(1)
        ).first()
    city_id = None
    if school_id is not None:
        city_id = session.scalars(select(School.city_id).where(School.id == school_id)).first()
    return school_id, city_id if city_id is not None else user.city_id


def create(
    session: Session, user: Any, fields: Fields, *, file: Any = None, file_name: str | None = None
) -> Material:
    """A new draft of ``user`` from ``fields``; ``file`` is a :class:`~.store.StoredFile`."""
    school_id, city_id = home_of(session, user)
    material = Material(uid=secrets.token_hex(8), owner_id=user.id, school_id=school_id,
                        city_id=city_id, status="draft", downloads=0)
    apply_fields(material, fields)
    if file is not None:
        material.file_sha256 = file.sha256
        material.media_type = file.media_type
        material.size = file.size
        material.file_name = (file_name or "material")[:255]
    elif fields.url is None:
        raise FieldError("file", "required", "upload a file or give a link")
    session.add(material)
    session.flush()
    audit.record(session, user, "material.upload", f"material:{material.uid}",
                 {"file": material.file_sha256, "url": material.url})
    return material


def submit(session: Session, user: Any, material: Material) -> None:
    if material.owner_id != user.id or material.status != "draft":
        raise WorkflowError("only the owner submits a draft")
    material.status = "review"
    material.updated_at = utcnow()
    audit.record(session, user, "material.submit", f"material:{material.uid}")


def _may_review(session: Session, user: Any, material: Material) -> bool:
    return session.scalar(
        select(Material.id).where(Material.id == material.id, reviewable_clause(user))
    ) is not None


def approve(session: Session, user: Any, material: Material) -> None:
    if material.status != "review" or not _may_review(session, user, material):
        raise WorkflowError("only a reviewer approves a material in review")
    if material.owner_id == user.id:
        raise WorkflowError("a material is approved by someone other than its owner")
    material.status = "approved"
    material.reviewed_by = user.username
    material.updated_at = utcnow()
    audit.record(session, user, "material.approve", f"material:{material.uid}")


def return_to_draft(session: Session, user: Any, material: Material, comment: str) -> None:
    if material.status not in ("review", "approved") or not _may_review(session, user, material):
        raise WorkflowError("only a reviewer sends a material back")
    material.status = "draft"
    material.reviewed_by = user.username
    material.updated_at = utcnow()
    if comment.strip():
        add_comment(session, user, material, comment)
    audit.record(session, user, "material.return", f"material:{material.uid}")


def add_comment(session: Session, user: Any, material: Material, text: str) -> MaterialComment:
    text = text.strip()
    if not text or len(text) > MAX_COMMENT:
        raise FieldError("comment", "required" if not text else "too_long")
    comment = MaterialComment(material_id=material.id, user_id=user.id,
                              author=str(user.display_name or user.username)[:120], text=text)
    session.add(comment)
    audit.record(session, user, "material.comment", f"material:{material.uid}")
    return comment


def count_download(session: Session, user: Any, material: Material) -> None:
    """One more download, counted by the database (concurrent workers add up), audit-logged."""
    session.execute(
        update(Material).where(Material.id == material.id)
        .values(downloads=Material.downloads + 1)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, user, "material.download", f"material:{material.uid}")


@dataclass
class Filters:
    q: str = ""
    sdg: int | None = None
    dimension: str = ""
    process: str = ""
    grade_band: str = ""
    subject: str = ""
    language: str = ""
    licence: str = ""
    kind: str = ""
    visibility: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        def text(name: str) -> str:
            return (args.get(name) or "").strip()[:200]

        sdg = text("sdg")
        return cls(q=text("q"), sdg=int(sdg) if sdg.isdigit() else None,
                   dimension=text("dimension"), process=text("process"),
                   grade_band=text("grade_band"), subject=text("subject"),
                   language=text("language"), licence=text("licence"), kind=text("kind"),
                   visibility=text("visibility"), status=text("status"))

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for word in self.q.lower().split()[:10]:
            out.append(Material.search_text.contains(word, autoescape=True))
        if self.sdg is not None:
            out.append(Material.tags.contains(f" sdg:{self.sdg} "))
        if self.grade_band:
            out.append(Material.tags.contains(f" grade:{self.grade_band} ", autoescape=True))
        if self.language:
            out.append(Material.tags.contains(f" lang:{self.language} ", autoescape=True))
        if self.subject:
            out.append(Material.subject.contains(self.subject, autoescape=True))
        for name in ("dimension", "process", "licence", "kind", "visibility", "status"):
            value = getattr(self, name)
            if value:
                out.append(getattr(Material, name) == value)
        return out


def search(user: Viewer, filters: Filters, *, limit: int = 200) -> Select[Material]:
    """The materials ``user`` may see that match ``filters``, newest first."""
    return (
        select(Material).where(material_clause(user), *filters.clauses())
        .order_by(Material.updated_at.desc(), Material.id.desc()).limit(limit)
    )


def materials_on(
    user: Viewer, *, dimension: str | None = None, process: str | None = None,
    sdgs: list[int] | None = None, limit: int = 10,
) -> Select[Material]:
    """Approved materials ``user`` may see on a dimension, a process, or any of some SDGs."""
    topic: list[ColumnElement[bool]] = []
    if dimension:
        topic.append(Material.dimension == dimension)
    if process:
        topic.append(Material.process == process)
    for sdg in sdgs or []:
        topic.append(Material.tags.contains(f" sdg:{int(sdg)} "))
    if not topic:
        topic.append(Material.id.is_(None))  # nothing asked: nothing found
    return (
        select(Material)
        .where(and_(material_clause(user), Material.status == "approved", or_(*topic)))
        .order_by(Material.downloads.desc(), Material.id.desc()).limit(limit)
    )
