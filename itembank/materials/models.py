"""Tables of the teaching-materials exchange: ``materials`` (metadata, workflow status, visibility,
who shared it from which school and city), ``material_files`` (the bytes, keyed by their SHA-256,
so that every web host serves them from the database) and ``material_comments``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import utcnow
from itembank.db import Base

__all__ = [
    "KINDS", "LICENCES", "STATUSES", "VISIBILITIES", "Material", "MaterialComment", "MaterialFile",
]

STATUSES = ("draft", "review", "approved")
VISIBILITIES = ("school", "city", "partners", "public")
KINDS = ("lesson_plan", "slides", "document", "image", "link", "other")
# Creative Commons choices, with the licence deed each stands for (schema.org ``license``)
LICENCES = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC-BY-NC-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "CC-BY-NC-SA-4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "CC-BY-ND-4.0": "https://creativecommons.org/licenses/by-nd/4.0/",
    "CC-BY-NC-ND-4.0": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


class MaterialFile(Base):
    """The bytes of an uploaded file, stored once per content (``sha256`` hex)."""

    __tablename__ = "material_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Material(Base):
    """One teaching material.  ``uid`` is its lasting identifier (the JSON-LD ``identifier``);
    a file is named by ``file_sha256`` (its bytes in ``material_files``, absent after an import of
    metadata only), a link by ``url``."""

    __tablename__ = "materials"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'review', 'approved')", name="status"),
        CheckConstraint(
            "visibility IN ('school', 'city', 'partners', 'public')", name="visibility"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="lesson_plan")
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # {"zh-TW": ..., "en": ...}
    summary: Mapped[dict[str, str]] = mapped_column(JSON)
    sdgs: Mapped[list[int]] = mapped_column(JSON, default=list)
    dimension: Mapped[str | None] = mapped_column(String(40), index=True)
    process: Mapped[str | None] = mapped_column(String(40), index=True)
    grade_bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(80), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    licence: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    file_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16), default="school")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    # what the search reads: lower-cased titles, summaries, author and subject (JSON columns are
    # stored with \u escapes on SQLite), and " sdg:4 grade:junior_high lang:en " tokens
    search_text: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    comments: Mapped[list[MaterialComment]] = relationship(
        back_populates="material", order_by="MaterialComment.id", cascade="all, delete-orphan"
    )


class MaterialComment(Base):
    __tablename__ = "material_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    material: Mapped[Material] = relationship(back_populates="comments")
