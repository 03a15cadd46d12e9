"""ORM models of the bank's content: units and items with their versions, media, calibrations and
item parameters.  Tables of delivery (tests, sessions, responses) and of people live beside this.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unit(Base):
    """A unit's identity; its content lives in its versions."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[UnitVersion]] = relationship(
        back_populates="unit", order_by="UnitVersion.version", cascade="all, delete-orphan"
    )
    items: Mapped[list[Item]] = relationship(back_populates="unit")

    @property
    def latest(self) -> UnitVersion:
        return self.versions[-1]


class UnitVersion(Base):
    """One version of a unit's content, kept forever: responses refer to the version a student saw."""

    __tablename__ = "unit_versions"
    __table_args__ = (UniqueConstraint("unit_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Unit as validated, without irt blocks
    content_hash: Mapped[str] = mapped_column(String(64))
    media: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # src -> sha256 of MediaFile
    dimension: Mapped[str] = mapped_column(String(40), index=True)
    content_domain: Mapped[str] = mapped_column(String(40), index=True)
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(120))

    unit: Mapped[Unit] = relationship(back_populates="versions")
    item_versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="unit_version", order_by="ItemVersion.position", cascade="all, delete-orphan"
    )


class Item(Base):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)

    unit: Mapped[Unit] = relationship(back_populates="items")
    versions: Mapped[list[ItemVersion]] = relationship(back_populates="item")
    parameter_sets: Mapped[list[ItemParameters]] = relationship(back_populates="item")


class ItemVersion(Base):
    """An item as it is in one unit version, with the parameters currently attached to it."""

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "unit_version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    unit_version_id: Mapped[int] = mapped_column(ForeignKey("unit_versions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32), index=True)
    max_score: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the item as validated, without irt
    parameters_id: Mapped[int | None] = mapped_column(ForeignKey("item_parameters.id"), index=True)

    item: Mapped[Item] = relationship(back_populates="versions")
    unit_version: Mapped[UnitVersion] = relationship(back_populates="item_versions")
    parameters: Mapped[ItemParameters | None] = relationship()


class Calibration(Base):
    """Provenance of a set of item parameters (a field trial, a recalibration)."""

    __tablename__ = "calibrations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(300))
    software: Mapped[str] = mapped_column(String(120))
    data: Mapped[str] = mapped_column(String(300))
    persons: Mapped[int] = mapped_column(Integer)
    population_mean: Mapped[float] = mapped_column(Float)
    population_sd: Mapped[float] = mapped_column(Float)
    description: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parameter_sets: Mapped[list[ItemParameters]] = relationship(back_populates="calibration")


class ItemParameters(Base):
    """One item's parameters from one calibration (logistic metric, no 1.7)."""

    __tablename__ = "item_parameters"
    __table_args__ = (UniqueConstraint("item_id", "calibration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    calibration_id: Mapped[str] = mapped_column(ForeignKey("calibrations.id"), index=True)
    model: Mapped[str] = mapped_column(String(8))
    a: Mapped[float | None] = mapped_column(Float)
    b: Mapped[Any] = mapped_column(JSON)  # a number, or a list for GRM / GPCM
    c: Mapped[float | None] = mapped_column(Float)
    se: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fit: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    item: Mapped[Item] = relationship(back_populates="parameter_sets")
    calibration: Mapped[Calibration] = relationship(back_populates="parameter_sets")

    def irt_block(self) -> dict[str, Any]:
        block: dict[str, Any] = {"model": self.model}
        if self.model != "rasch":
            block["a"] = self.a
        block["b"] = self.b
        if self.model == "3pl":
            block["c"] = self.c
        block["calibration"] = self.calibration_id
        return block


class MediaFile(Base):
    """An image used by a stimulus, stored once by its content hash."""

    __tablename__ = "media_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class QuestionnaireVersion(Base):
    """One version of a student questionnaire (itembank/bank/questionnaire.py), stored when
    ``items/questionnaires/*.yaml`` is imported: ``definition`` is the validated questionnaire
    (its YAML keys), a changed file makes the next version; sessions pin the version they deliver."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BankRevision(Base):
    """One row whose ``revision`` grows with every change to ``unit_versions``, ``item_versions``
    or ``item_parameters``, counted by database triggers (migration 0016), so that every writer is
    counted, whatever its path.  Delivery keys its per-process cache of built banks by it: one
    primary-key read per answer instead of aggregates over the bank."""

    __tablename__ = "bank_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
