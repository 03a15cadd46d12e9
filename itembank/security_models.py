"""Tables of the security layer: failed and successful logins (the login rate limit, shared by
every worker because it lives in the database) and the audit log of who changed, approved,
published, imported, exported or forgot what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base
from .models import utcnow


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
