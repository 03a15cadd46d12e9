"""ORM model of paper forms: a booklet design as it was printed, frozen with the unit versions
(and item parameters) its booklets were printed from, so that paper answers are scored against
what the students saw, whatever is approved later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from itembank.bank.models import utcnow
from itembank.db import Base


class PrintedDesign(Base):
    """One version of a printed design: its id is printed on every booklet cover and answer key.

    ``design``: the DESIGN.yaml document (clusters and booklets).  ``pins``: unit id →
    ``{"unit_version": id, "version": n, "parameters": {item id: item_parameters id or null}}``.
    ``fingerprint``: SHA-256 of both, so printing the same design from the same versions again
    finds this row instead of making a new one."""

    __tablename__ = "printed_designs"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    design: Mapped[dict[str, Any]] = mapped_column(JSON)
    pins: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
