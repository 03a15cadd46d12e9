"""ORM models of the authoring workflow: the events of a unit's life (edits, submissions, reviews,
approvals, comments), the texts each version changed per language, and the translation checks
(PISA's translation verification) that a change to one language raises for the other.

A unit version's status lives on :class:`itembank.bank.models.UnitVersion`; these tables record who
moved it, when and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import UnitVersion, utcnow
from itembank.db import Base

ACTIONS = ("create", "edit", "submit", "approve", "return", "retire", "comment", "verify", "import")
CHECK_STATUSES = ("open", "verified", "obsolete")


class WorkflowEvent(Base):
    """One step in a unit's workflow, with the comment that came with it."""

    __tablename__ = "workflow_events"
    __table_args__ = (
        CheckConstraint(
            "action IN ('create', 'edit', 'submit', 'approve', 'return', 'retire', 'release', "
            "'comment', 'verify', 'import')",
            name="action",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    unit_version_id: Mapped[int] = mapped_column(ForeignKey("unit_versions.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(120))  # kept when the account goes
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    unit_version: Mapped[UnitVersion] = relationship()


class TextChange(Base):
    """A text that a version changed in one language, compared with the version before it.

    ``path`` names the text by ids where there are ids: ``items[GC-001-Q2].options[B].text``."""

    __tablename__ = "text_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_version_id: Mapped[int] = mapped_column(ForeignKey("unit_versions.id"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8))


class TranslationCheck(Base):
    """A translation that must be verified because the other language's text changed.

    Open checks of a unit block the approval of its latest version until a translator verifies
    them (or edits the translation); a check whose text no longer exists becomes obsolete."""

    __tablename__ = "translation_checks"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'verified', 'obsolete')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    raised_in_version_id: Mapped[int] = mapped_column(ForeignKey("unit_versions.id"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8))  # the language to verify
    changed_language: Mapped[str] = mapped_column(String(8))  # the language that changed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_in_version_id: Mapped[int | None] = mapped_column(ForeignKey("unit_versions.id"))
    comment: Mapped[str | None] = mapped_column(Text)

    raised_in_version: Mapped[UnitVersion] = relationship(foreign_keys=[raised_in_version_id])
