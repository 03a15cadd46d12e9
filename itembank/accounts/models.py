"""Tables of accounts: the users who log in, and of the security layer: failed and successful logins (the login rate limit, shared by
every worker because it lives in the database) and the audit log of who changed, approved,
published, imported, exported or forgot what."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import utcnow
from itembank.db import Base

from .roles import ROLES

__all__ = ["ROLES", "AuditEntry", "LoginAttempt", "LoginSession", "User"]

if TYPE_CHECKING:
    from itembank.delivery.models import Test



class User(Base):
    """Someone who logs in.  ``city_id`` / ``school_id`` narrow what a user may see (None: all)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('student', 'teacher', 'reviewer', 'translator', 'researcher', "
            "'school_admin', 'admin')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(200))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tests: Mapped[list[Test]] = relationship(back_populates="owner")


class LoginSession(Base):
    """A signed-in browser: the cookie holds ``id``; logging out (or disabling the user) deletes
    the row, so a copied cookie stops working at once on every worker."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, URL-safe
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginAttempt(Base):
    """One login attempt by (username, client address); failures in the window lock the pair."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_address_created_at", "username", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who (``actor``: a username, or ``cli:<os user>``) did what (``action``, e.g.
    ``unit.approve``) to which object (``object``, e.g. ``unit:GC-001``), with details."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object_created_at", "object", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # users.id, kept if the user goes
    action: Mapped[str] = mapped_column(String(60), index=True)
    object: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
