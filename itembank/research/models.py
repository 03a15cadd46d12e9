"""ORM models of research work: response data sets, codes given to open responses, background
jobs, calibration runs and the publications of their parameters.

Responses of a data set are stored one row per (person, item), so that any selection (a school,
an item, a window) is an ordinary query.  A job is a row that a worker claims; a calibration run is
keyed by its job, so a retried job overwrites rather than duplicates its result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import utcnow
from itembank.db import Base

BACKGROUND = ("city", "school", "class", "grade", "language", "gender")
REPLICATE_METHODS = ("jk2", "brr-fay", "given")
JOB_STATUSES = ("queued", "running", "done", "failed")
CODE_KINDS = ("first", "second", "final")


# -- data sets ----------------------------------------------------------------------------------
class Dataset(Base):
    """A set of scored responses: an uploaded file (paper tests, other systems) or a snapshot of
    a test's online sessions.  ``window`` labels the test window (e.g. ``2026-05``) for trends.

    A data set with a survey design has ``replicate_method`` ("jk2", "brr-fay" built by the app
    from stratum and school, or "given": uploaded replicate weights), the G variance factors c_g
    in ``replicate_factors`` and how the design was given in ``survey_design``; the weights are
    on its persons.  ``printed_design_id``: the printed booklet design of a paper data set."""

    __tablename__ = "datasets"
    __table_args__ = (
        CheckConstraint("source IN ('upload', 'sessions')", name="source"),
        CheckConstraint("replicate_method IN ('jk2', 'brr-fay', 'given')", name="replicate_method"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    test_id: Mapped[str | None] = mapped_column(ForeignKey("tests.id"), index=True)
    window: Mapped[str | None] = mapped_column(String(32))
    item_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    n_persons: Mapped[int] = mapped_column(Integer, default=0)
    n_responses: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    printed_design_id: Mapped[int | None] = mapped_column(ForeignKey("printed_designs.id"), index=True)
    replicate_method: Mapped[str | None] = mapped_column(String(16))
    replicate_factors: Mapped[list[float] | None] = mapped_column(JSON)
    survey_design: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    persons: Mapped[list[DatasetPerson]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", passive_deletes=True
    )


class DatasetPerson(Base):
    """One person of a data set with the background columns of the file (codes as given) and,
    when the data set has a survey design, the final weight, stratum, school (``psu``) and the
    replicate weights as one list (one row per person keeps a 5,000 × 80 matrix one query)."""

    __tablename__ = "dataset_persons"
    __table_args__ = (UniqueConstraint("dataset_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(64), index=True)
    school: Mapped[str | None] = mapped_column(String(64), index=True)
    class_name: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    gender: Mapped[str | None] = mapped_column(String(16))
    window: Mapped[str | None] = mapped_column(String(32))
    weight: Mapped[float | None] = mapped_column(Float)
    stratum: Mapped[str | None] = mapped_column(String(64))
    psu: Mapped[str | None] = mapped_column(String(64))
    replicate_weights: Mapped[list[float] | None] = mapped_column(JSON)

    dataset: Mapped[Dataset] = relationship(back_populates="persons")


class DatasetResponse(Base):
    """One score of one person on one item (blank cells are not stored)."""

    __tablename__ = "dataset_responses"
    __table_args__ = (UniqueConstraint("person_ref", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    person_ref: Mapped[int] = mapped_column(
        ForeignKey("dataset_persons.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    item_version_id: Mapped[int | None] = mapped_column(ForeignKey("item_versions.id"))
    score: Mapped[int] = mapped_column(Integer)


# -- coding of open responses -------------------------------------------------------------------
class ResponseCode(Base):
    """A code given to an open response: the first coder's, a blind second coder's, and the
    final one (agreed, or resolved by a lead coder) whose score goes into ``responses.score``."""

    __tablename__ = "response_codes"
    __table_args__ = (
        UniqueConstraint("response_id", "kind"),
        CheckConstraint("kind IN ('first', 'second', 'final')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ResearchSetting(Base):
    """Small settings researchers change in the app (e.g. the share coded twice)."""

    __tablename__ = "research_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# -- jobs ---------------------------------------------------------------------------------------
class Job(Base):
    """A unit of background work.  A worker claims a queued job (or one whose heartbeat is
    stale) by setting ``lease``; progress and the result are written only under that lease."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    # why a failed job failed, as a key (jobs.FAILURES); ``message`` holds the English detail
    failure: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobFile(Base):
    """A file a job produced (e.g. the ZIP of a booklet set), kept in the database so that every
    web host serves it, whichever worker wrote it; one per (job, name), a retry replaces it.
    The worker deletes files older than ``Settings.job_file_days`` (:func:`.jobs.purge_files`)."""

    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


# -- calibration runs and publications ----------------------------------------------------------
class CalibrationRun(Base):
    """A calibration asked for in the web app: its settings, and the result its job wrote
    (PARAMS.json-like document with fit, DIF and the persons' EAP θ)."""

    __tablename__ = "calibration_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job: Mapped[Job] = relationship()


class Publication(Base):
    """One change of the bank's parameters: a run published as a new calibration, or an earlier
    calibration restored.  ``number`` counts publications (the version of the bank's scale);
    ``previous`` keeps the pointers it replaced (item version id → item_parameters id)."""

    __tablename__ = "publications"
    __table_args__ = (
        CheckConstraint("action IN ('publish', 'restore')", name="action"),
        UniqueConstraint("number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    calibration_id: Mapped[str] = mapped_column(ForeignKey("calibrations.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("calibration_runs.id"))
    linking: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    previous: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlotCache(Base):
    """Rendered SVG charts of a finished run (rendered on first request, by the web process)."""

    __tablename__ = "plot_cache"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("calibration_runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    svg: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "BACKGROUND",
    "CalibrationRun",
    "Dataset",
    "DatasetPerson",
    "DatasetResponse",
    "Job",
    "PlotCache",
    "Publication",
    "REPLICATE_METHODS",
    "ResearchSetting",
    "ResponseCode",
]
