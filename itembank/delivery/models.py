"""ORM models of delivery: tests with their assignments, test sessions and the responses recorded
in them.  The people they refer to are in :mod:`itembank.orgs.models` and :mod:`itembank.accounts.models`.

A session's bearer token is stored only as its SHA-256 hash.  Responses are unique per
(session, sequence) and per (session, response_id): a retried or concurrent request can neither
record an answer twice nor leave a gap.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import utcnow
from itembank.db import Base

if TYPE_CHECKING:
    from itembank.accounts.models import User
    from itembank.orgs.models import School, SchoolClass, Student

TEST_KINDS = ("adaptive", "fixed", "practice")
FIXED_FORMS = ("fixed", "practice")  # kinds whose items are a list given in order
SESSION_STATUSES = ("started", "in_progress", "finished", "expired")
OPEN_STATUSES = ("started", "in_progress")
TEST_STATUSES = ("open", "closed", "archived")


# -- tests --------------------------------------------------------------------------------------
class Test(Base):
    """A test students can take: adaptive (a CAT over a filtered bank), fixed (an item list) or
    practice (an item list of released units whose end page shows the keys: :mod:`.practice`).

    ``cat_config`` is the plain dict of :class:`irt.cat.CatConfig` (reporting included);
    ``item_filter`` narrows an adaptive test's bank (``units``, ``dimensions``, ``domains``);
    ``items`` is a fixed test's item ids in delivery order."""

    __tablename__ = "tests"
    __test__ = False  # not a pytest test class
    __table_args__ = (
        CheckConstraint("kind IN ('adaptive', 'fixed', 'practice')", name="kind"),
        CheckConstraint("status IN ('open', 'closed', 'archived')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # {"zh-TW": ..., "en": ...}
    kind: Mapped[str] = mapped_column(String(16), default="adaptive")
    cat_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    item_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    items: Mapped[list[str] | None] = mapped_column(JSON)
    access_code: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    show_score: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # open (students may start within the window), closed (by a person), archived (kept, its code
    # free for another test)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # attempts per student; None: unlimited (the shared demo)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    # the access code upper-cased and trimmed while the test is not archived: unique, so that no
    # two live tests share a code
    code_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # the precision a reported score needs: at most this SE of theta, at least this many scored
    # (calibrated) answers; None: the defaults of itembank.delivery.sessions
    report_max_se: Mapped[float | None] = mapped_column(Float)
    report_min_items: Mapped[int | None] = mapped_column(Integer)
    # the student questionnaire that follows the cognitive items (its latest stored version is
    # delivered; itembank.delivery.questionnaire); None: the test ends with its last item
    questionnaire_id: Mapped[str | None] = mapped_column(String(64))

    owner: Mapped[User | None] = relationship(back_populates="tests")
    assignments: Mapped[list[TestAssignment]] = relationship(
        back_populates="test", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[TestSession]] = relationship(back_populates="test")


class TestAssignment(Base):
    """A test given to a whole school or to one class.  A test with no assignment is open to any
    student id (like the demo)."""

    __tablename__ = "test_assignments"
    __test__ = False
    __table_args__ = (
        CheckConstraint(
            "(school_id IS NULL) <> (class_id IS NULL)", name="school_or_class"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("tests.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)

    test: Mapped[Test] = relationship(back_populates="assignments")
    school: Mapped[School | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()


def _default_identity(context: Any) -> str:
    """The identity of a session made without one (direct inserts): as start_session makes it."""
    params = context.get_current_parameters()
    if params.get("student_ref") is not None:
        return f"r:{params['student_ref']}"
    return "o:" + " ".join(str(params.get("student_key") or "").split()).lower()


class TestSession(Base):
    """One student's sitting of a test.  Its state is its stored responses: the next item is
    recomputed from them (and ``seed``) on every request, so any worker can serve it and a crash
    loses nothing."""

    __tablename__ = "test_sessions"
    __test__ = False
    __table_args__ = (
        CheckConstraint(
            "status IN ('started', 'in_progress', 'finished', 'expired')", name="status"
        ),
        Index("ix_test_sessions_test_id_student_key", "test_id", "student_key"),
        UniqueConstraint("test_id", "identity", "attempt"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, URL-safe
    test_id: Mapped[str] = mapped_column(ForeignKey("tests.id"), index=True)
    student_key: Mapped[str] = mapped_column(String(64))  # the student id as shown
    # who the student is: "r:<students.id>" on a roster test (city, school, student id), else
    # "o:<the id trimmed and lower-cased>"; with ``attempt`` unique per test
    identity: Mapped[str] = mapped_column(String(200), default=_default_identity)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # the short code a student needs to resume an open session elsewhere (shown to the student
    # and to the teacher's live view)
    resume_code: Mapped[str | None] = mapped_column(String(16))
    # a teacher unlocked the session: the next start resumes it without the code
    unlocked: Mapped[bool] = mapped_column(Boolean, default=False)
    scored_items: Mapped[int | None] = mapped_column(Integer)  # calibrated answers at the end
    student_ref: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the bearer token
    status: Mapped[str] = mapped_column(String(16), default="started", index=True)
    seed: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    theta: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    scale_score: Mapped[float | None] = mapped_column(Float)
    scale_se: Mapped[float | None] = mapped_column(Float)
    level: Mapped[str | None] = mapped_column(String(16))
    # the answer being written to the current item (the test page saves it every few seconds);
    # recorded as the answer when the time runs out
    draft_item: Mapped[str | None] = mapped_column(String(64))
    draft_response: Mapped[Any] = mapped_column(JSON, nullable=True)
    draft_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the item the engine chose after the history whose key (:func:`sessions.history_key`) is
    # ``current_key``: an answer checks it without running the engine again; any other history
    # (a coded score, a bank that lost the item) runs the engine as before
    current_item: Mapped[str | None] = mapped_column(String(64))
    current_key: Mapped[str | None] = mapped_column(String(32))
    # the token another device replaced (it is told that the session goes on elsewhere)
    previous_token_hash: Mapped[str | None] = mapped_column(String(64))
    taken_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the questionnaire section after the cognitive part: the version delivered (pinned when the
    # section is first shown) and when the student finished it
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_versions.id"), index=True
    )
    questionnaire_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    test: Mapped[Test] = relationship(back_populates="sessions")
    student: Mapped[Student | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    responses: Mapped[list[Response]] = relationship(
        back_populates="session", order_by="Response.sequence", cascade="all, delete-orphan"
    )
    questionnaire_answers: Mapped[list[QuestionnaireAnswer]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class Response(Base):
    """One answer, in the order given (``sequence`` from 1).  ``score`` is None until an open
    response is coded by a person."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("session_id", "sequence"),
        UniqueConstraint("session_id", "response_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    response_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    response: Mapped[Any] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[TestSession] = relationship(back_populates="responses")


class QuestionnaireAnswer(Base):
    """A student's answer to one questionnaire statement: the category chosen, 0 for the first of
    its response scale (as written, before reverse coding), or None when the statement was shown
    and left blank (missing).  One row per (session, item): a page sent again overwrites it."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[TestSession] = relationship(back_populates="questionnaire_answers")


class AttemptGrant(Base):
    """One more attempt at a test, granted by a teacher to one student (``identity`` as in
    :class:`TestSession`)."""

    __tablename__ = "attempt_grants"
    __table_args__ = (Index("ix_attempt_grants_test_id_identity", "test_id", "identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("tests.id"))
    identity: Mapped[str] = mapped_column(String(200), default=_default_identity)
    granted_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CodeFailure(Base):
    """A wrong access code, resume code or student password from one client address; too many
    in a minute refuse that address for a while (shared by every worker: it is in the database)."""

    __tablename__ = "code_failures"
    __table_args__ = (Index("ix_code_failures_address_created_at", "address", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
