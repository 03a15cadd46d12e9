"""The questionnaire section of a test: after the last cognitive item, a test that names a
questionnaire (``Test.questionnaire_id``) gives the student its statements, one page per scale,
in the session's language.  There is no right answer and every statement may be left blank.

The section starts when the cognitive part has ended (finished, time up, or ended by a teacher):
the session's score and θ are computed from the cognitive answers before and never change.  The
questionnaire's latest stored version is pinned to the session when the section is first shown.
Each page's answers are one transaction (the session row locked, as for responses), one row per
(session, statement) with the category chosen or None for a blank, so a page sent again (a retry,
the back button) overwrites with the same meaning and a crash loses nothing committed.  The
section is finished when every statement has a row, or when the student says so (``finish``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from itembank.bank.models import QuestionnaireVersion
from itembank.bank.questionnaire import Questionnaire, Scale
from itembank.bank.questionnaire_store import latest_version, questionnaire_of
from itembank.db import unit_of_work

from .models import OPEN_STATUSES, QuestionnaireAnswer, Test, TestSession
from .sessions import (
    DeliveryError,
    InvalidRequest,
    ItemConflict,
    _authorised,
    session_state,
    utcnow,
)

__all__ = [
    "NoQuestionnaire",
    "QuestionnaireClosed",
    "QuestionnaireNotYet",
    "QuestionnaireState",
    "check_questionnaire_id",
    "pending",
    "questionnaire_state",
    "questionnaire_view",
    "record_questionnaire_answers",
]


class NoQuestionnaire(DeliveryError):
    """The session's test has no questionnaire section (404 in the API)."""

    code = "no_questionnaire"


class QuestionnaireNotYet(ItemConflict):
    """The cognitive part of the session is still open: the questionnaire comes after it."""

    code = "questionnaire_not_yet"


class QuestionnaireClosed(ItemConflict):
    """The student finished the questionnaire; nothing more is recorded."""

    code = "questionnaire_finished"


@dataclass(frozen=True)
class QuestionnaireState:
    """The questionnaire section of a session: the version given, the answers recorded (item id →
    category, None for a statement left blank) and whether the student finished it."""

    session: TestSession
    version: QuestionnaireVersion
    questionnaire: Questionnaire
    answers: dict[str, int | None]
    finished: bool

    @property
    def pages(self) -> list[Scale]:
        return list(self.questionnaire.scales)

    @property
    def current_page(self) -> int | None:
        """The index of the first page with a statement not yet sent; None when finished."""
        if self.finished:
            return None
        for k, scale in enumerate(self.pages):
            if any(item.id not in self.answers for item in scale.items):
                return k
        return None

    @property
    def answered(self) -> int:
        return sum(v is not None for v in self.answers.values())


def pending(ts: TestSession) -> bool:
    """Whether the student still has the questionnaire section before the result page."""
    return (
        ts.test.questionnaire_id is not None
        and ts.status not in OPEN_STATUSES
        and ts.questionnaire_finished_at is None
    )


def check_questionnaire_id(db: Session, questionnaire_id: str | None) -> str | None:
    """A test's questionnaire as given (None or "" for none); InvalidRequest naming the
    questionnaires stored when it was never imported."""
    if questionnaire_id is None or not questionnaire_id.strip():
        return None
    value = questionnaire_id.strip()
    if latest_version(db, value) is None:
        from itembank.bank.questionnaire_store import questionnaire_ids

        known = questionnaire_ids(db)
        raise InvalidRequest(
            f"there is no questionnaire {value!r} in the bank; import its file "
            f"(items/questionnaires/{value}.yaml) first"
            + (f"; stored: {', '.join(known)}" if known else "")
        )
    return value


def _answers(db: Session, session_id: str) -> dict[str, int | None]:
    rows = db.execute(
        select(QuestionnaireAnswer.item_id, QuestionnaireAnswer.category).where(
            QuestionnaireAnswer.session_id == session_id
        )
    )
    return {item_id: category for item_id, category in rows}


def _version(db: Session, ts: TestSession, test: Test) -> QuestionnaireVersion:
    """The version pinned to the session (pinning the latest if none is yet); the caller holds
    the session's row lock when it may pin."""
    if ts.questionnaire_version_id is not None:
        version = db.get(QuestionnaireVersion, ts.questionnaire_version_id)
        assert version is not None  # a foreign key
        return version
    assert test.questionnaire_id is not None
    latest = latest_version(db, test.questionnaire_id)
    if latest is None:
        raise NoQuestionnaire(
            f"the questionnaire {test.questionnaire_id!r} of this test is not in the bank"
        )
    ts.questionnaire_version_id = latest.id
    return latest


def _check_section(ts: TestSession) -> None:
    if ts.test.questionnaire_id is None and ts.questionnaire_version_id is None:
        raise NoQuestionnaire("this test has no questionnaire")
    if ts.status in OPEN_STATUSES:
        raise QuestionnaireNotYet(
            "the questionnaire comes after the test's last question; answer the questions first"
        )


def questionnaire_state(
    db: Session, session_id: Any, token: str | None, *, now: datetime | None = None
) -> QuestionnaireState:
    """The session's questionnaire section (one transaction; pins the version on first sight).
    Raises SessionNotFound (SessionTakenOver), NoQuestionnaire, QuestionnaireNotYet."""
    now = now or utcnow()
    session_state(db, session_id, token, now=now)  # finishes a session whose time is up
    with unit_of_work(db):
        ts = _authorised(db, session_id, token, lock=False)
        _check_section(ts)
        if ts.questionnaire_version_id is None:
            ts = _authorised(db, session_id, token, lock=True)
        version = _version(db, ts, ts.test)
        return QuestionnaireState(
            ts, version, questionnaire_of(version), _answers(db, ts.id),
            ts.questionnaire_finished_at is not None,
        )


def _checked(q: Questionnaire, answers: Any) -> dict[str, int | None]:
    """The answers of a request as {item id: category or None}; InvalidRequest naming the first
    statement that is not in the questionnaire or a category its response scale does not have."""
    if not isinstance(answers, Mapping):
        raise InvalidRequest("answers must be an object: statement id → category (or null)")
    tops = {item.id: q.n_categories(scale) - 1 for scale in q.scales for item in scale.items}
    out: dict[str, int | None] = {}
    for item_id, value in answers.items():
        if item_id not in tops:
            raise InvalidRequest(f"answers: {item_id!r} is not a statement of questionnaire {q.id}")
        if value is None:
            out[item_id] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= tops[item_id]:
            raise InvalidRequest(
                f"answers.{item_id}: {value!r} is not a category of its response scale "
                f"(a whole number 0..{tops[item_id]}, or null for no answer)"
            )
        out[item_id] = value
    return out


def record_questionnaire_answers(
    db: Session,
    session_id: Any,
    token: str | None,
    answers: Any,
    *,
    finish: bool = False,
    now: datetime | None = None,
) -> QuestionnaireState:
    """Record a page of answers (item id → category, None for a statement left blank) in one
    transaction and return the state after it.  The section is finished when every statement
    has been sent, or with ``finish`` (the rest stays missing).  Sending answers that are
    already stored again after the end changes nothing and is no error.  Raises InvalidRequest,
    NoQuestionnaire, QuestionnaireNotYet, QuestionnaireClosed, SessionNotFound."""
    now = now or utcnow()
    session_state(db, session_id, token, now=now)  # finishes a session whose time is up
    for attempt in range(2):
        try:
            return _record(db, session_id, token, answers, finish, now)
        except IntegrityError:
            db.rollback()  # a concurrent page inserted a row first: the retry updates it
            if attempt:
                raise
    raise AssertionError("unreachable")


def _record(
    db: Session, session_id: Any, token: str | None, answers: Any, finish: bool, now: datetime
) -> QuestionnaireState:
    with unit_of_work(db):
        ts = _authorised(db, session_id, token, lock=True)
        _check_section(ts)
        version = _version(db, ts, ts.test)
        q = questionnaire_of(version)
        given = _checked(q, answers)
        rows = {
            row.item_id: row
            for row in db.scalars(
                select(QuestionnaireAnswer).where(QuestionnaireAnswer.session_id == ts.id)
            )
        }
        if ts.questionnaire_finished_at is not None:
            if all(k in rows and rows[k].category == v for k, v in given.items()):
                stored = {k: r.category for k, r in rows.items()}
                return QuestionnaireState(ts, version, q, stored, True)
            raise QuestionnaireClosed(
                "the questionnaire is finished; no more answers are recorded"
            )
        for item_id, category in given.items():
            row = rows.get(item_id)
            if row is None:
                row = QuestionnaireAnswer(session_id=ts.id, item_id=item_id)
                db.add(row)
                rows[item_id] = row
            row.category = category
            row.answered_at = now
        db.flush()
        stored = {k: r.category for k, r in rows.items()}
        if finish or all(item_id in stored for item_id in q.item_ids):
            ts.questionnaire_finished_at = now
        ts.updated_at = now
        return QuestionnaireState(ts, version, q, stored, ts.questionnaire_finished_at is not None)


def questionnaire_view(state: QuestionnaireState, language: str) -> dict[str, Any]:
    """What a student (page or API client) receives: the questionnaire's texts in ``language``,
    its pages (one per scale: the question, the categories with their values, the statements),
    the answers recorded and the current page (1-based; None when finished).  Never the scales'
    names, constructs or which statements are reverse-coded."""
    q = state.questionnaire

    def text(value: Any) -> str:
        return str(value.zh_TW if language == "zh-TW" else value.en)

    pages = []
    for number, scale in enumerate(q.scales, start=1):
        rs = q.response_scale(scale)
        pages.append({
            "id": scale.id,
            "number": number,
            "prompt": text(scale.prompt),
            "kind": str(rs.kind),
            "categories": [{"value": k, "text": text(c)} for k, c in enumerate(rs.categories)],
            "items": [{"id": item.id, "stem": text(item.stem)} for item in scale.items],
        })
    current = state.current_page
    return {
        "kind": "questionnaire",
        "id": q.id,
        "version": state.version.version,
        "title": text(q.title),
        "introduction": text(q.introduction) if q.introduction is not None else None,
        "status": "finished" if state.finished else "in_progress",
        "pages": pages,
        "answers": dict(state.answers),
        "current_page": current + 1 if current is not None else None,
    }
