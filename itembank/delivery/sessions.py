"""Deliver tests: start a session, compute its current item, record answers idempotently, keep the
server-side timer and finish with a reporting-scale result.  No web framework here: the API and
the delivery pages call these functions and map their typed errors to status codes.

A session's state is its stored responses.  The current item is chosen by the CAT engine, a pure
function of (bank, config, stored history, the session's seed), so that any worker, after any
crash or restart, serves the same next item; the item chosen is stored with a key of the history
it follows, so that the answer to it is checked without running the engine a second time.  Each call that writes is one
transaction; recording locks the session row (SELECT ... FOR UPDATE on PostgreSQL, the database
write lock on SQLite) and the responses' unique keys (session, sequence) and (session,
response_id) make a second recording of one answer impossible.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from irt.cat import CatConfig, CatConfigError, CatHistoryError, finish, next_step
from irt.reporting import from_dict as reporting_from_dict
from itembank import config as settings
from itembank.db import unit_of_work
from itembank.errors import ItembankError
from itembank.orgs.models import School, Student
from itembank.orgs.student_passwords import password_matches

from . import practice, pretest, session_rows
from .cat_bank import BankUnavailableError, DeliveryBank, DeliveryItem, delivery_bank
from .cat_config import DEFAULT_REPORTING
from .models import (
    FIXED_FORMS,
    OPEN_STATUSES,
    TEST_KINDS,
    AttemptGrant,
    CodeFailure,
    Response,
    Test,
    TestSession,
)
from .scoring import ResponseShapeError, check_response, is_blank, score_response

__all__ = [
    "AccessDenied",
    "AttemptsUsed",
    "CodeTaken",
    "PasswordRequired",
    "SessionInProgress",
    "StudentAmbiguous",
    "TooManyAttempts",
    "attempts_allowed",
    "code_locked",
    "generate_access_code",
    "note_wrong_code",
    "normalise_id",
    "precise_enough",
    "BankUnavailableError",
    "DeliveryError",
    "InvalidRequest",
    "ItemConflict",
    "NotOnRoster",
    "ResponseShapeError",
    "SessionClosed",
    "SessionNotFound",
    "SessionState",
    "SessionTakenOver",
    "already_recorded",
    "answer_counts",
    "deadline_of",
    "length_bound",
    "save_draft",
    "Started",
    "TestNotFound",
    "check_test_config",
    "create_test",
    "normalise_language",
    "record_response",
    "result_view",
    "session_state",
    "start_session",
    "tests_for_code",
    "time_left",
    "sessions_of_test",
]

LANGUAGES = ("zh-TW", "en")
MAX_KEY_LENGTH = 64
# Characters of generated codes: no 0/O, 1/I/L, so a code read aloud or off paper is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 9  # 31**9 > 2**44: at least 40 bits
MIN_ACCESS_CODE_LENGTH = 6  # a code a person chooses (the shared demo's DEMO predates this)
RESUME_CODE_LENGTH = 6
# A score is reported only with at least this many scored (calibrated) answers, unless the test
# says otherwise (``report_min_items``, ``report_max_se``).
DEFAULT_REPORT_MIN_ITEMS = 5
# An answer that arrives this long after the deadline is still recorded: the test page submits
# the answer being written when its countdown reaches zero, and the request takes a moment.
ANSWER_GRACE = timedelta(seconds=20)
# An answer sent because the page's countdown reached zero ends the session when the deadline is
# at most this far away (the browser's clock and the server's differ a little).
CLOCK_SLACK = timedelta(seconds=5)
MAX_DRAFT_CHARS = 20_000  # a draft's JSON; the longest answer (10,000 characters) fits


# -- errors -------------------------------------------------------------------------------------
class DeliveryError(ItembankError):
    """Base of the errors a delivery call raises on purpose; ``code`` names the kind."""

    code = "delivery_error"


class InvalidRequest(DeliveryError):
    """A missing or malformed field (student id, language, response id), or settings a test
    cannot be given with.  ``reason`` (with ``details``) names the kind of refusal for a caller
    that words it in the reader's language (the web pages); the message is the English one."""

    code = "invalid_request"

    def __init__(self, message: str, *, reason: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


class TestNotFound(DeliveryError):
    code = "test_not_found"
    __test__ = False


class AccessDenied(DeliveryError):
    """Wrong access code, outside the test's window, or not on the roster of an assigned test."""

    code = "access_denied"


class NotOnRoster(AccessDenied):
    """The test is assigned to classes (or schools) and this student id is on none of their
    rosters.  The message is in the language the student chose, for the join page and the API."""

    MESSAGES = {
        "zh-TW": "這個學號不在這份測驗的學生名單上。請檢查學號，或請老師協助。",
        "en": "This student ID is not on the list of students for this test. "
        "Please check your student ID or ask your teacher.",
    }

    def __init__(self, language: str) -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))
        self.language = language


class SessionNotFound(DeliveryError):
    """No session with this id for this token (an unknown id and a wrong token look the same)."""

    code = "session_not_found"


class SessionTakenOver(SessionNotFound):
    """The token was replaced: the student resumed the session on another device.  The old
    device is told so (and how to continue there) instead of seeing the front page."""

    code = "session_taken_over"


class ItemConflict(DeliveryError):
    """An answer to an item that is not the current one, or a response id reused for a
    different answer.  Nothing was recorded."""

    code = "item_conflict"


class SessionClosed(ItemConflict):
    """The session is finished or its time is up; nothing more is recorded."""

    code = "session_closed"


class SessionInProgress(DeliveryError):
    """The student has an open session and the request proved nothing (no resume code, no
    password, no teacher's unlock): no token is given, so nobody takes over another's session."""

    code = "session_in_progress"
    MESSAGES = {
        "zh-TW": "這個學號已經有一場進行中的測驗。請輸入畫面上顯示的接續碼，或請老師協助。",
        "en": "This student ID already has a test in progress. Enter the resume code shown on "
        "the student's screen, or ask your teacher.",
    }

    def __init__(self, language: str, *, guess: bool = False) -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))
        self.language = language
        self.guess = guess


class AttemptsUsed(DeliveryError):
    """The student has used every attempt the test allows (a teacher may grant one more)."""

    code = "attempts_used"
    MESSAGES = {
        "zh-TW": "你已經完成這份測驗，沒有剩下的作答次數。如需重測，請老師協助。",
        "en": "You have already taken this test and have no attempts left. "
        "Ask your teacher if you need another attempt.",
    }

    def __init__(self, language: str) -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))
        self.language = language


class PasswordRequired(AccessDenied):
    """A roster student with a password must give it (or it was wrong)."""

    code = "password_required"
    MESSAGES = {
        "zh-TW": "請輸入登入卡上的密碼。密碼不對時，請老師協助。",
        "en": "Enter the password on your login card. If it does not work, ask your teacher.",
    }

    def __init__(self, language: str, *, guess: bool = False) -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))
        self.language = language
        self.guess = guess


class StudentAmbiguous(InvalidRequest):
    """The student id is on the rosters of several schools of the test: the school or the
    student's password must say which."""

    code = "student_ambiguous"
    MESSAGES = {
        "zh-TW": "這個學號出現在不只一所學校。請輸入登入卡上的密碼，或請老師協助。",
        "en": "This student ID is on the lists of several schools. Enter the password on your "
        "login card, or ask your teacher.",
    }

    def __init__(self, language: str) -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))
        self.language = language


class TooManyAttempts(DeliveryError):
    """Too many wrong codes or passwords from this client address in a short time (429)."""

    code = "too_many_attempts"
    MESSAGES = {
        "zh-TW": "錯誤次數過多，請稍候一分鐘再試。",
        "en": "Too many wrong codes. Please wait a minute and try again.",
    }

    def __init__(self, language: str = "en") -> None:
        super().__init__(self.MESSAGES.get(language, self.MESSAGES["en"]))


class CodeTaken(InvalidRequest):
    """The access code is held by another test that is not archived."""

    code = "code_taken"

    def __init__(self, code: str, holder: str) -> None:
        super().__init__(f"the access code {code!r} is already used by test {holder!r}; "
                         "choose another (or archive that test)")
        self.holder = holder


# -- values -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionState:
    """Where a session stands: ``status`` (started, in_progress, finished, expired), the number of
    answers recorded, and the current item (None when finished)."""

    session: TestSession
    status: str
    answered: int
    item: DeliveryItem | None

    @property
    def finished(self) -> bool:
        return self.status not in OPEN_STATUSES


@dataclass(frozen=True)
class Started:
    """A started (or resumed) session and its bearer token, the only time the token is seen."""

    state: SessionState
    token: str
    resumed: bool


# -- small helpers ------------------------------------------------------------------------------
def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_language(value: Any) -> str:
    """Return "zh-TW" or "en" from the usual spellings (zh_TW, zh-Hant-TW, zh_Hant_TW, en-GB, ...)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest('language must be "zh-TW" or "en"')
    lowered = value.strip().lower().replace("_", "-")
    if lowered.startswith("zh"):
        return "zh-TW"
    if lowered == "en" or lowered.startswith("en-"):
        return "en"
    raise InvalidRequest(f'language {value!r} is not offered; use "zh-TW" or "en"')


def normalise_id(value: str) -> str:
    """A student id as compared: surrounding and repeated spaces dropped, case folded."""
    return " ".join(value.split()).lower()


def normalise_code(value: str) -> str:
    """An access or resume code as compared: spaces and dashes dropped, upper case."""
    return "".join(value.split()).replace("-", "").upper()


def generate_access_code() -> str:
    """A fresh access code: 9 unambiguous characters, 44 bits (and guesses are limited)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def new_session_id() -> str:
    """A random session id (128 bits) that starts with a letter or digit: ids go into CSV files,
    where a leading '-' would be taken for a formula and written with an apostrophe."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if candidate[0].isalnum():
            return candidate


def new_resume_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(RESUME_CODE_LENGTH))


def check_access_code(code: str) -> str:
    """A code a person chose, normalised; InvalidRequest when it is too short or has other
    characters than letters and digits."""
    value = normalise_code(code)
    if len(value) < MIN_ACCESS_CODE_LENGTH or len(value) > 64 or not value.isalnum():
        raise InvalidRequest(
            f"an access code has {MIN_ACCESS_CODE_LENGTH} to 64 letters or digits"
        )
    return value


def _student_key(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("student must be a non-empty string (the student's id)")
    key = " ".join(value.split())
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"student must be at most {MAX_KEY_LENGTH} characters")
    return key


def cat_config(test: Test) -> CatConfig:
    """The test's engine configuration, with the default reporting scale and levels if it has
    none of its own.  Parsed once per distinct configuration in a process (twice per answer
    otherwise); a CatConfig is immutable, and its ``reporting`` dict is only read."""
    return _parsed_config(json.dumps(test.cat_config or {}, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _parsed_config(text: str) -> CatConfig:
    data = json.loads(text)
    data.setdefault("reporting", copy.deepcopy(DEFAULT_REPORTING))
    return CatConfig.from_dict(data)


def _bank(db: Session, test: Test, fingerprint: tuple[Any, ...] | None = None) -> DeliveryBank:
    if practice.is_practice(test):
        return delivery_bank(db, kind="practice", items=test.items, fingerprint=fingerprint)
    return delivery_bank(db, kind=test.kind, item_filter=test.item_filter, items=test.items,
                         fingerprint=fingerprint)


def check_test_config(db: Session, test: Test) -> None:
    """InvalidRequest when the test's configuration cannot be delivered as it stands: a fixed or
    practice test without items, a practice test with items of units that are not released, a
    fixed (or practice) test that seeds pretest units, a CAT configuration the engine refuses."""
    if test.kind in FIXED_FORMS and not test.items:
        raise InvalidRequest(
            f"a {'practice' if practice.is_practice(test) else 'fixed'} test needs its list of items",
            reason="items_missing",
        )
    try:
        config = cat_config(test)
        reporting_from_dict(config.reporting)
    except (CatConfigError, ValueError) as exc:
        field = getattr(exc, "field", "reporting")
        raise InvalidRequest(f"cat_config: {exc}", reason="cat_config", field=field) from exc
    if test.kind in FIXED_FORMS and config.pretest.count:
        raise InvalidRequest(
            "cat_config.pretest.count: only adaptive tests seed pretest units; a fixed form is "
            "given as it is (put field-trial units in a booklet design, or seed them into an "
            "adaptive test)",
            reason="pretest_in_fixed_form",
        )
    if practice.is_practice(test) and test.questionnaire_id is not None:
        raise InvalidRequest(
            "a practice test has no questionnaire: practice answers are never research data "
            "(attach the questionnaire to a fixed or adaptive test)",
            reason="practice_questionnaire",
        )
    if practice.is_practice(test):
        problems = practice.unreleased_items(db, list(test.items or ()))
        if problems:
            raise InvalidRequest("; ".join(problems), reason="practice_items")


def _history(responses: Sequence[StoredAnswer]) -> list[tuple[str, int | None]]:
    # with the time of the last answer: pretest seeding counts responses as of then
    last = responses[-1].created_at if responses else None
    return pretest.SessionHistory(((r.item_id, r.score) for r in responses), last)


def _next_item(
    db: Session,
    bank: DeliveryBank,
    test: Test,
    config: CatConfig,
    history: list[tuple[str, int | None]],
    seed: int,
) -> str | None:
    """The item to deliver after ``history``, or None when the test is over.  Pretest units
    (``config.pretest``) are seeded between the engine's units; the engine never sees them."""
    if test.kind in FIXED_FORMS:
        order = list(test.items or ())
        return order[len(history)] if len(history) < len(order) else None
    seeding = config.pretest.count > 0
    try:
        step = next_step(
            bank.cat, config, pretest.operational(bank, history) if seeding else history, seed
        )
    except CatHistoryError as exc:
        raise BankUnavailableError(
            f"the bank changed under this session and its history no longer fits: {exc}"
        ) from exc
    if seeding:
        item = pretest.next_item(db, bank, config.pretest, history, step, seed)
        if item is not None:
            return item
    return None if step.finished else step.item


def _finish(
    db: Session,
    ts: TestSession,
    bank: DeliveryBank,
    config: CatConfig,
    history: list[tuple[str, int | None]],
    status: str,
    now: datetime,
) -> None:
    result = finish(bank.cat, config, history)

    def finite(x: float) -> float | None:
        return x if x == x and abs(x) != float("inf") else None

    ts.status = status
    ts.finished_at = now
    ts.updated_at = now
    ts.theta = finite(result.theta)
    ts.se = finite(result.se)
    ts.scale_score = finite(result.scale_score)
    ts.scale_se = finite(result.scale_se)
    ts.level = (
        result.level.label if result.level is not None and ts.scale_score is not None else None
    )
    ts.scored_items = _scored_count(bank, history)


def _scored_count(bank: DeliveryBank, history: list[tuple[str, int | None]]) -> int:
    """The answers that count for θ: scored, of an item with (published) parameters."""
    cat = bank.cat
    count = 0
    for item_id, score in history:
        position = cat.item_position.get(item_id)
        if score is not None and position is not None and int(cat.routing[position]) >= 0:
            count += 1
    return count


def time_left(ts: TestSession, now: datetime | None = None) -> timedelta | None:
    """How long the session has until its deadline (never negative); None without a deadline."""
    deadline = _aware(ts.deadline)
    if deadline is None:
        return None
    return max(deadline - (now or utcnow()), timedelta(0))


def _expired(ts: TestSession, now: datetime) -> bool:
    deadline = _aware(ts.deadline)
    return ts.status in OPEN_STATUSES and deadline is not None and now >= deadline


@dataclass(frozen=True)
class StoredAnswer:
    """What a session's state needs of one stored response (read as plain rows, not ORM
    objects: the whole history is read on every answer)."""

    sequence: int
    response_id: str
    item_id: str
    response: Any
    score: int | None
    created_at: datetime


# The answer path's statements are built once, with bound parameters: building a statement and
# its cache key on every call cost more than running it.  The Core ones run on the session's
# connection (``db.connection().execute``): through ``Session.execute`` they pay for the ORM's
# execution layer as well.  Built on first use, not at import: an
# ORM option configures every mapper, which needs every model imported.
@functools.cache
def _answers_statement() -> Select[Any]:
    return (
        select(Response.sequence, Response.response_id, Response.item_id, Response.response,
               Response.score, Response.created_at)
        .where(Response.session_id == bindparam("session_id"))
        .order_by(Response.sequence)
    )  # fmt: skip


@functools.cache
def _insert_answer_statement() -> Insert:
    return insert(cast(Table, Response.__table__))  # Core: no ORM unit of work


@functools.cache
def _session_statement(lock: bool) -> Select[Any]:
    stmt = (
        select(TestSession)
        .where(TestSession.id == bindparam("session_id"))
        .options(joinedload(TestSession.test))  # one round trip for the session and its test
    )
    if lock:
        stmt = stmt.with_for_update(of=TestSession).execution_options(populate_existing=True)
    return stmt


def _load_responses(db: Session, session_id: str) -> list[StoredAnswer]:
    rows = db.connection().execute(_answers_statement(), {"session_id": session_id})
    return [StoredAnswer(*row) for row in rows]


def _state(
    db: Session,
    ts: TestSession,
    now: datetime,
    responses: list[StoredAnswer] | None = None,
    bank: DeliveryBank | None = None,
    grace: timedelta = timedelta(0),
    remember: bool = False,
) -> SessionState:
    """The session's state from its stored responses; an open session whose time is up (more
    than ``grace`` ago), or whose test is over, is finished here (the caller's transaction
    commits that), and a draft of the current item is recorded as its answer first.  ``bank``
    saves a second fingerprint query when the caller already has the test's bank.  The current
    item is the one stored with this history if there is one; ``remember`` (a caller that holds
    the session's lock and writes it anyway) stores a newly chosen one."""
    test = ts.test
    if ts.status not in OPEN_STATUSES:
        return SessionState(ts, ts.status, ts.answered, None)
    responses = _load_responses(db, ts.id) if responses is None else responses
    bank = _bank(db, test) if bank is None else bank
    config = cat_config(test)
    history = _history(responses)
    if _expired(ts, now - grace):
        history = _record_draft(db, ts, bank, config, responses, now)
        _finish(db, ts, bank, config, history, "expired", now)
        return SessionState(ts, ts.status, len(history), None)
    item_id, key, chosen = _current_item(db, ts, bank, config, history)
    if remember and chosen and item_id is not None:
        ts.current_item, ts.current_key = item_id, key
    if item_id is None:
        _finish(db, ts, bank, config, history, "finished", now)
        return SessionState(ts, ts.status, len(history), None)
    return SessionState(ts, ts.status, len(history), bank.items[item_id])


def _current_item(
    db: Session,
    ts: TestSession,
    bank: DeliveryBank,
    config: CatConfig,
    history: list[tuple[str, int | None]],
) -> tuple[str | None, str, bool]:
    """(the item to deliver after ``history``, the history's key, whether the engine chose it
    now): the item stored with this very history if there is one, else the engine's choice."""
    key = history_key(history)
    if ts.current_key == key and ts.current_item in bank.items:
        return ts.current_item, key, False
    return _next_item(db, bank, ts.test, config, history, ts.seed), key, True


def history_key(history: Sequence[tuple[str, int | None]]) -> str:
    """A key of a session's (item, score) history: the stored current item belongs to it."""
    text = ";".join(f"{item}:{'' if score is None else score}" for item, score in history)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _record_draft(
    db: Session,
    ts: TestSession,
    bank: DeliveryBank,
    config: CatConfig,
    responses: list[StoredAnswer],
    now: datetime,
) -> list[tuple[str, int | None]]:
    """Record the session's draft as the answer to the current item (the time ran out while
    the student was writing it) and return the history with it.  A draft of another item, a
    blank one or one its item does not take is dropped."""
    history = _history(responses)
    draft, item_id = ts.draft_response, ts.draft_item
    ts.draft_item = ts.draft_response = ts.draft_at = None
    if item_id is None or is_blank(draft):
        return history
    current = _next_item(db, bank, ts.test, config, history, ts.seed)
    if current != item_id:
        return history
    entry = bank.items[current]
    try:
        score = score_response(entry.item, draft)
    except ResponseShapeError:
        return history
    db.add(
        Response(
            session_id=ts.id,
            sequence=len(responses) + 1,
            response_id=f"draft-{secrets.token_urlsafe(12)}",
            item_id=item_id,
            item_version_id=entry.item_version_id,
            response=draft,
            score=score,
            created_at=now,
        )
    )
    db.flush()
    ts.answered = len(responses) + 1
    return [*history, (item_id, score)]


def _authorised(db: Session, session_id: str, token: str | None, *, lock: bool) -> TestSession:
    """The session (locked if ``lock``) with its test, loaded through the ORM."""
    if not isinstance(session_id, str) or not token:
        raise SessionNotFound("no session with this id for this token")
    if lock:
        _sqlite_write_lock(db, session_id)
    ts = db.scalars(_session_statement(lock), {"session_id": session_id}).first()
    if ts is None:
        raise SessionNotFound("no session with this id for this token")
    _check_token(ts, token)
    return ts


def _authorised_snapshot(
    db: Session, session_id: str, token: str | None
) -> tuple[TestSession, tuple[Any, ...] | None]:
    """As :func:`_authorised` with ``lock``, the session read as a detached snapshot
    (:mod:`.session_rows`) with the bank's fingerprint: the answer path's read."""
    if not isinstance(session_id, str) or not token:
        raise SessionNotFound("no session with this id for this token")
    _sqlite_write_lock(db, session_id)
    found = session_rows.read_snapshot(db, session_id)
    if found is None:
        raise SessionNotFound("no session with this id for this token")
    _check_token(found[0], token)
    return found


def _sqlite_write_lock(db: Session, session_id: str) -> None:
    """Take SQLite's write lock before reading: concurrent recorders queue here (busy timeout)
    instead of failing when they upgrade a read to a write.  (PostgreSQL locks the row.)"""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(
            update(TestSession).where(TestSession.id == session_id).values(updated_at=utcnow())
        )


def _check_token(ts: TestSession, token: str) -> None:
    hashed = hash_token(token)
    if not hmac.compare_digest(ts.token_hash, hashed):
        if ts.previous_token_hash and hmac.compare_digest(ts.previous_token_hash, hashed):
            raise SessionTakenOver("this session was resumed on another device")
        raise SessionNotFound("no session with this id for this token")


# -- tests --------------------------------------------------------------------------------------
def create_test(
    db: Session,
    *,
    id: str,
    title: Mapping[str, str],
    access_code: str,
    kind: str = "adaptive",
    practice_mode: bool = False,
    cat_config_data: Mapping[str, Any] | None = None,
    item_filter: Mapping[str, Any] | None = None,
    items: Sequence[str] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    time_limit_minutes: int | None = None,
    show_score: bool = True,
    owner_id: int | None = None,
    max_attempts: int | None = 1,
    report_max_se: float | None = None,
    report_min_items: int | None = None,
    questionnaire_id: str | None = None,
) -> Test:
    """Add a test (in the caller's transaction) after checking its configuration.  The access
    code must not be held by another test that is not archived (CodeTaken).  ``practice_mode``
    (kind "fixed" or "practice"): a practice test of released units (:mod:`.practice`).
    ``questionnaire_id``: a questionnaire stored in the bank, given after the last item."""
    from .questionnaire import check_questionnaire_id  # it imports this module

    questionnaire_id = check_questionnaire_id(db, questionnaire_id)
    if max_attempts is not None and max_attempts < 1:
        raise InvalidRequest("attempts must be at least 1 (or unlimited)")
    check_code_free(db, access_code)
    if practice_mode:
        if kind == "adaptive":
            raise InvalidRequest("a practice test is a fixed form of released units, not adaptive")
        kind = "practice"
    if kind not in TEST_KINDS:
        raise InvalidRequest(f"kind must be adaptive, fixed or practice, not {kind!r}")
    if kind == "practice":
        item_filter = None
    test = Test(
        id=id,
        title=dict(title),
        kind=kind,
        cat_config=dict(cat_config_data or {}),
        item_filter=dict(item_filter) if item_filter else None,
        items=list(items) if items else None,
        access_code=access_code,
        opens_at=opens_at,
        closes_at=closes_at,
        time_limit_minutes=time_limit_minutes,
        show_score=show_score,
        owner_id=owner_id,
        status="open",
        max_attempts=max_attempts,
        code_key=normalise_code(access_code),
        report_max_se=report_max_se,
        report_min_items=report_min_items,
        questionnaire_id=questionnaire_id,
    )
    check_test_config(db, test)
    db.add(test)
    return test


def check_code_free(db: Session, access_code: str, *, test_id: str | None = None) -> None:
    """CodeTaken when a test other than ``test_id`` that is not archived has this code."""
    key = normalise_code(access_code)
    if not key:
        raise InvalidRequest("the access code must not be empty")
    holder = db.scalars(select(Test.id).where(Test.code_key == key)).first()
    if holder is not None and holder != test_id:
        raise CodeTaken(access_code, holder)


def tests_for_code(db: Session, access_code: str) -> list[Test]:
    """The test whose access code is ``access_code`` (case, spaces and dashes ignored) and that is
    not archived, so that students need to type only the code: at most one (codes are unique)."""
    code = normalise_code(access_code)
    if not code:
        return []
    return list(db.scalars(select(Test).where(Test.code_key == code).order_by(Test.id)))


# -- sessions -----------------------------------------------------------------------------------
def _address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


def code_locked(db: Session, address: str | None, now: datetime | None = None) -> bool:
    """True when this client address gave too many wrong codes or passwords in the window
    (counted in the database, so every worker sees the same)."""
    conf = settings.load()
    since = (now or utcnow()) - timedelta(seconds=conf.code_window_seconds)
    failures = db.scalar(
        select(func.count())
        .select_from(CodeFailure)
        .where(CodeFailure.address == _address_key(address), CodeFailure.created_at >= since)
    )
    return (failures or 0) >= conf.code_max_failures


def note_wrong_code(db: Session, address: str | None, now: datetime | None = None) -> None:
    """Count one wrong guess (its own transaction); old rows are cleared on the way."""
    conf = settings.load()
    now = now or utcnow()
    with unit_of_work(db):
        db.execute(
            delete(CodeFailure).where(
                CodeFailure.created_at < now - timedelta(seconds=10 * conf.code_window_seconds)
            )
        )
        db.add(CodeFailure(address=_address_key(address), created_at=now))


def attempts_allowed(db: Session, test: Test, identity: str) -> int | None:
    """How many attempts this student has (the test's, plus those a teacher granted); None:
    unlimited."""
    if test.max_attempts is None:
        return None
    granted = db.scalar(
        select(func.count())
        .select_from(AttemptGrant)
        .where(AttemptGrant.test_id == test.id, AttemptGrant.identity == identity)
    )
    return test.max_attempts + (granted or 0)


def start_session(
    db: Session,
    test_id: Any,
    access_code: Any,
    student: Any,
    language: Any,
    *,
    resume_code: Any = None,
    password: Any = None,
    school: Any = None,
    address: str | None = None,
    now: datetime | None = None,
) -> Started:
    """Start a session (one transaction), or resume the student's open session with a new token
    (the old token stops working) when the request proves it is the student: the session's
    ``resume_code``, the student's roster password, or a teacher's unlock.  Otherwise the open
    session stays the student's and SessionInProgress is raised.  A student identity is
    (roster entry) on an assigned test and (test, id trimmed and case-folded) on an open one;
    one session per (test, identity, attempt) is a unique key, so concurrent starts make one.

    Raises TestNotFound, AccessDenied (PasswordRequired, NotOnRoster), SessionInProgress,
    AttemptsUsed, StudentAmbiguous, InvalidRequest, TooManyAttempts (``address`` gave too many
    wrong codes, resume codes or passwords in the window)."""
    now = now or utcnow()
    if not isinstance(test_id, str) or not test_id:
        raise InvalidRequest("test must be the test's id (a string)")
    if not isinstance(access_code, str):
        raise InvalidRequest("access_code must be a string")
    for name, value in (("resume_code", resume_code), ("password", password), ("school", school)):
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"{name} must be a string")
    key = _student_key(student)
    lang = normalise_language(language)
    if code_locked(db, address, now):
        db.rollback()
        raise TooManyAttempts(lang)
    for retry in range(3):
        try:
            return _start(
                db, test_id, access_code, key, lang, resume_code or None, password or None,
                school or None, now,
            )  # fmt: skip
        except IntegrityError:
            # Another start for this student committed first (the unique key): look again.
            db.rollback()
            if retry == 2:
                raise
        except DeliveryError as exc:
            if getattr(exc, "guess", False):
                note_wrong_code(db, address, now)
            raise
    raise AssertionError("unreachable")


def _start(
    db: Session,
    test_id: str,
    access_code: str,
    key: str,
    lang: str,
    resume_code: str | None,
    password: str | None,
    school: str | None,
    now: datetime,
) -> Started:
    with unit_of_work(db):
        if db.get_bind().dialect.name == "sqlite":
            # Take SQLite's write lock first: concurrent starts queue here (busy timeout).
            db.execute(update(Test).where(Test.id == test_id).values(status=Test.status))
        test = db.get(Test, test_id, populate_existing=True)
        if test is None:
            raise TestNotFound(f"there is no test {test_id!r}")
        if not hmac.compare_digest(
            normalise_code(access_code).encode(), normalise_code(test.access_code).encode()
        ):
            denied = AccessDenied("the access code is not right for this test")
            denied.guess = True  # type: ignore[attr-defined]
            raise denied
        opens, closes = _aware(test.opens_at), _aware(test.closes_at)
        if test.status != "open":
            raise AccessDenied("this test is closed")
        if opens is not None and now < opens:
            raise AccessDenied("this test is not open yet")
        if closes is not None and now >= closes:
            raise AccessDenied("this test is closed")
        student_row = _roster_student(db, test, key, lang, school, password)
        proven = False
        if student_row is not None and student_row.password_hash:
            if password is None:
                raise PasswordRequired(lang)
            if not password_matches(student_row.password_hash, password):
                raise PasswordRequired(lang, guess=True)
            proven = True
        identity = f"r:{student_row.id}" if student_row is not None else f"o:{normalise_id(key)}"
        token = secrets.token_urlsafe(32)
        existing = db.scalars(
            select(TestSession)
            .where(TestSession.test_id == test.id, TestSession.identity == identity)
            .order_by(TestSession.attempt.desc())
            .limit(1)
            .with_for_update()
        ).first()
        attempt = 1
        if existing is not None:
            state = _state(db, existing, now)  # finishes it if its time is up
            code_ok = resume_code is not None and existing.resume_code is not None and (
                hmac.compare_digest(
                    normalise_code(resume_code).encode(), existing.resume_code.encode()
                )
            )
            proof = proven or code_ok or existing.unlocked
            allowed = attempts_allowed(db, test, identity)
            if not state.finished or (allowed is not None and existing.attempt >= allowed):
                if not proof:
                    if not state.finished:
                        raise SessionInProgress(lang, guess=resume_code is not None)
                    raise AttemptsUsed(lang)
                # The student (or a teacher's unlock): resume, or see the result again.  The
                # device that held the session is told that it goes on elsewhere.
                existing.previous_token_hash = existing.token_hash
                existing.taken_over_at = now
                existing.token_hash = hash_token(token)
                existing.updated_at = now
                existing.unlocked = False
                if not state.finished:
                    existing.language = lang
                return Started(state, token, resumed=True)
            attempt = existing.attempt + 1
        deadline = None
        if test.time_limit_minutes:
            deadline = now + timedelta(minutes=test.time_limit_minutes)
        if closes is not None:
            deadline = min(deadline, closes) if deadline is not None else closes
        ts = TestSession(
            id=new_session_id(),
            test=test,
            student_key=student_row.student_id if student_row is not None else key,
            identity=identity,
            attempt=attempt,
            resume_code=new_resume_code(),
            unlocked=False,
            student_ref=student_row.id if student_row is not None else None,
            class_id=student_row.class_id if student_row is not None else None,
            language=lang,
            token_hash=hash_token(token),
            status="started",
            seed=secrets.randbelow(2**31 - 1),
            answered=0,
            started_at=now,
            updated_at=now,
            deadline=deadline,
        )
        db.add(ts)
        db.flush()
        state = _state(db, ts, now, responses=[], remember=True)
    return Started(state, token, resumed=False)


def _roster_student(
    db: Session, test: Test, key: str, language: str, school: str | None, password: str | None
) -> Student | None:
    """The roster entry of ``key`` (trimmed, case-folded) when the test is assigned; NotOnRoster
    if not on it.  The same id in several schools of the test is told apart by ``school`` (a
    school code) or by the student's password; else StudentAmbiguous."""
    if not test.assignments:
        return None
    schools = {a.school_id for a in test.assignments if a.school_id is not None}
    classes = {a.class_id for a in test.assignments if a.class_id is not None}
    stmt = select(Student).where(
        func.lower(func.trim(Student.student_id)) == normalise_id(key),
        or_(Student.school_id.in_(schools), Student.class_id.in_(classes)),
    )
    if school is not None:
        stmt = stmt.join(School, School.id == Student.school_id).where(
            func.lower(School.code) == school.strip().lower()
        )
    found = list(db.scalars(stmt.order_by(Student.id)))
    if not found:
        raise NotOnRoster(language)
    if len(found) > 1 and password is not None:
        found = [s for s in found if s.password_hash and password_matches(s.password_hash, password)] or found
    if len(found) > 1:
        raise StudentAmbiguous(language)
    return found[0]


def session_state(
    db: Session, session_id: Any, token: str | None, *, now: datetime | None = None
) -> SessionState:
    """The session's current state (one transaction: an expired session is finished here)."""
    now = now or utcnow()
    with unit_of_work(db):
        ts = _authorised(db, session_id, token, lock=False)
        if _expired(ts, now):
            ts = _authorised(db, session_id, token, lock=True)
        return _state(db, ts, now)


def record_response(
    db: Session,
    session_id: Any,
    token: str | None,
    item_id: Any,
    response: Any,
    response_id: Any,
    *,
    now: datetime | None = None,
    allow_blank: bool = False,
    closing: bool = False,
) -> SessionState:
    """Record one answer and return the state after it, idempotently by ``response_id``.

    A retry with the same response id returns the state as it was right after that answer and
    records nothing.  ``allow_blank`` (the student confirmed "submit without an answer") also
    takes ``None`` as the blank answer of any type; it scores 0.  An answer that arrives within
    ANSWER_GRACE after the deadline is recorded and the session then ends; so does one sent
    ``closing`` (the page's countdown reached zero) up to CLOCK_SLACK before it.  Raises ItemConflict
    (another item than the current one, or the response id reused for a different answer),
    SessionClosed, ResponseShapeError, SessionNotFound (SessionTakenOver)."""
    now = now or utcnow()
    if not isinstance(item_id, str) or not item_id:
        raise InvalidRequest("item must be the current item's id (a string)")
    if not isinstance(response_id, str) or not 1 <= len(response_id) <= 64:
        raise InvalidRequest("response_id must be a string of 1 to 64 characters")
    for attempt in range(2):
        try:
            return _record(
                db, session_id, token, item_id, response, response_id, now, allow_blank, closing
            )
        except IntegrityError:
            # Only reachable if two recorders got past the lock at once; the unique keys
            # refused the second, and the retry sees the first one's answer.
            db.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _record(
    db: Session,
    session_id: str,
    token: str | None,
    item_id: str,
    response: Any,
    response_id: str,
    now: datetime,
    allow_blank: bool = False,
    closing: bool = False,
) -> SessionState:
    # The session is read as a detached snapshot and the answer written with Core (the common
    # case: one answer, one next item).  A session that closes here (time up, test over) is
    # loaded through the ORM and closed by _state, as everywhere else.
    closed: str | None = None
    with unit_of_work(db):
        ts, fingerprint = _authorised_snapshot(db, session_id, token)
        responses = _load_responses(db, ts.id)
        previous = next((r for r in responses if r.response_id == response_id), None)
        if previous is not None:
            if previous.item_id != item_id or previous.response != response:
                raise ItemConflict(
                    f"response_id {response_id!r} was already used for another answer"
                )
            return _replay(db, ts, responses[: previous.sequence])
        if ts.status not in OPEN_STATUSES:
            raise SessionClosed("this session is finished; no more answers are recorded")
        bank = _bank(db, ts.test, fingerprint)
        config = cat_config(ts.test)
        current_id = None
        if not _expired(ts, now - ANSWER_GRACE):
            current_id = _current_item(db, ts, bank, config, _history(responses))[0]
        if current_id is None:
            # Time ran out (or the test ended) before this answer: the session's closing is
            # committed, the answer is not.
            state = _state(db, _attached(db, ts), now, responses, bank, grace=ANSWER_GRACE)
            closed = state.status
        else:
            current = bank.items[current_id]
            if item_id != current_id:
                raise ItemConflict(
                    f"item {item_id!r} is not the current item of this session "
                    f"(the current item is {current_id!r})"
                )
            if allow_blank and response is None:
                score: int | None = 0
            else:
                check_response(current.item, response)
                score = 0 if is_blank(response) else score_response(current.item, response)
            recorded = StoredAnswer(len(responses) + 1, response_id, item_id, response, score, now)
            db.connection().execute(
                _insert_answer_statement(),
                {
                    "session_id": ts.id,
                    "sequence": recorded.sequence,
                    "response_id": response_id,
                    "item_id": item_id,
                    "item_version_id": current.item_version_id,
                    "response": response,
                    "score": score,
                    "created_at": now,
                },
            )
            # The row lock holds: the history is what was read plus this answer (no re-read).
            responses = [*responses, recorded]
            slack = -CLOCK_SLACK if closing else timedelta(0)
            next_id, key = None, ""
            if not _expired(ts, now - slack):
                next_id, key, _ = _current_item(db, ts, bank, config, _history(responses))
            if next_id is not None:
                session_rows.advance(db, ts, answered=len(responses), item=next_id, key=key,
                                     now=now)  # fmt: skip
                state = SessionState(ts, ts.status, len(responses), bank.items[next_id])
            else:
                ts = _attached(db, ts)
                ts.answered = len(responses)
                ts.status = "in_progress"
                ts.updated_at = now
                ts.draft_item = ts.draft_response = ts.draft_at = None
                state = _state(db, ts, now, responses, bank, grace=slack, remember=True)
    if closed == "expired":
        raise SessionClosed("the time for this test is up; the answer was not recorded")
    if closed is not None:
        raise SessionClosed("this session is finished; no more answers are recorded")
    return state


def _attached(db: Session, snapshot: TestSession) -> TestSession:
    """The session of ``snapshot`` loaded through the ORM (its row is already locked), to be
    changed in ways the answer path's Core UPDATE does not cover."""
    ts = db.get(TestSession, snapshot.id, populate_existing=True)  # not one read before
    assert ts is not None, "the locked session row disappeared"
    return ts


def save_draft(
    db: Session,
    session_id: Any,
    token: str | None,
    item_id: Any,
    response: Any,
    *,
    now: datetime | None = None,
) -> None:
    """Keep the answer being written to ``item_id`` (one row update, no CAT step: the test page
    sends it every few seconds).  When the time runs out, a draft of the item then current is
    recorded as its answer.  Raises InvalidRequest, SessionClosed, SessionNotFound
    (SessionTakenOver)."""
    now = now or utcnow()
    if not isinstance(item_id, str) or not 1 <= len(item_id) <= 64:
        raise InvalidRequest("item must be the current item's id (a string)")
    if len(json.dumps(response, ensure_ascii=False)) > MAX_DRAFT_CHARS:
        raise InvalidRequest(f"a draft is at most {MAX_DRAFT_CHARS} characters")
    with unit_of_work(db):
        ts = _authorised(db, session_id, token, lock=False)
        if ts.status not in OPEN_STATUSES or _expired(ts, now):
            raise SessionClosed("this session is finished; no more answers are recorded")
        ts.draft_item = item_id
        ts.draft_response = response
        ts.draft_at = now


def already_recorded(db: Session, session_id: Any, token: str | None, response_id: Any) -> bool:
    """Whether an answer with ``response_id`` is stored in the session (a retry of an answer
    whose confirmation was lost).  Raises SessionNotFound (SessionTakenOver)."""
    if not isinstance(response_id, str):
        return False
    with unit_of_work(db):
        ts = _authorised(db, session_id, token, lock=False)
        found = db.scalar(
            select(Response.id).where(
                Response.session_id == ts.id, Response.response_id == response_id
            )
        )
    return found is not None


def length_bound(db: Session, test: Test) -> int:
    """The most items a session of ``test`` can have, for the student's progress bar: the fixed
    form's length, or the adaptive test's maximum plus its pretest units (at their longest), so
    the bar never tells a pretest unit apart and never says when the test will stop."""
    if test.kind in FIXED_FORMS:
        return len(test.items or ())
    config = cat_config(test)
    extra = 0
    if config.pretest.count:
        bank = _bank(db, test)
        sizes = [len(bank.cat.unit_items(u)) for u in pretest.pretest_units(bank, config.pretest)]
        extra = config.pretest.count * max(sizes, default=0)
    return config.stopping.max_items + extra


def deadline_of(ts: TestSession) -> datetime | None:
    """The session's deadline as an aware UTC datetime (None without a time limit)."""
    return _aware(ts.deadline)


def answer_counts(db: Session, session_id: str) -> tuple[int, int]:
    """(answered, skipped): how many items got an answer and how many were left blank."""
    responses = db.scalars(select(Response.response).where(Response.session_id == session_id))
    blank = [is_blank(r) for r in responses]
    return len(blank) - sum(blank), sum(blank)


def _replay(db: Session, ts: TestSession, prefix: list[StoredAnswer]) -> SessionState:
    """The state right after the last response of ``prefix`` (for an idempotent retry)."""
    test = ts.test
    bank = _bank(db, test)
    item_id = _next_item(db, bank, test, cat_config(test), _history(prefix), ts.seed)
    if item_id is None or (len(prefix) == ts.answered and ts.status not in OPEN_STATUSES):
        status = ts.status if ts.status not in OPEN_STATUSES else "finished"
        return SessionState(ts, status, len(prefix), None)
    return SessionState(ts, "in_progress", len(prefix), bank.items[item_id])


# -- results and teachers' views ------------------------------------------------------------------
def precise_enough(ts: TestSession) -> bool:
    """Whether the finished session's score is precise enough to report: at least the test's
    ``report_min_items`` (default DEFAULT_REPORT_MIN_ITEMS) scored answers of calibrated items,
    and θ's SE at most ``report_max_se`` when the test sets one."""
    test = ts.test
    if ts.scale_score is None or ts.se is None:
        return False
    minimum = test.report_min_items if test.report_min_items is not None else DEFAULT_REPORT_MIN_ITEMS
    scored = ts.scored_items if ts.scored_items is not None else ts.answered
    if scored < minimum:
        return False
    return test.report_max_se is None or ts.se <= test.report_max_se


def result_view(ts: TestSession, language: str) -> dict[str, Any] | None:
    """The finished session's score and level, with the level's descriptor in ``language``; None
    while the session is open or when it has no estimate.  Below the test's precision rule the
    view says ``reported: False`` and has no score, level or descriptor (a student sees "not
    enough answers for a score"); ``estimate`` and ``se`` are the estimate for teachers."""
    if ts.status in OPEN_STATUSES or ts.scale_score is None:
        return None
    estimate = {
        "estimate": int(round(ts.scale_score)),
        "se": int(round(ts.scale_se)) if ts.scale_se is not None else None,
        "scored_items": ts.scored_items,
    }
    if not precise_enough(ts):
        return {"reported": False, "score": None, "level": None, "descriptor": None, **estimate}
    _, levels = reporting_from_dict(cat_config(ts.test).reporting)
    level = levels.level(ts.scale_score) if levels is not None else None
    return {
        "reported": True,
        "score": int(round(ts.scale_score)),
        "level": level.label if level is not None else None,
        "descriptor": (level.descriptor.get(language) if level is not None else None),
        **estimate,
    }


def sessions_of_test(
    db: Session,
    test_id: str,
    *,
    now: datetime | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[TestSession]:
    """Every session of a test (narrowed by ``where``, a viewer's scope from
    :mod:`itembank.orgs.scope`), newest first; open sessions past their deadline are finished as
    expired first (one transaction)."""
    now = now or utcnow()
    with unit_of_work(db):
        overdue = db.scalars(
            select(TestSession).where(
                TestSession.test_id == test_id,
                TestSession.status.in_(OPEN_STATUSES),
                TestSession.deadline.is_not(None),
            )
        ).all()
        for ts in overdue:
            if _expired(ts, now):
                _state(db, ts, now)
    return list(
        db.scalars(
            select(TestSession)
            .where(TestSession.test_id == test_id, true() if where is None else where)
            .order_by(TestSession.started_at.desc())
        )
    )
