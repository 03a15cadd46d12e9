"""A test session's row read and written with SQLAlchemy Core, for the answer path.

Every answer reads the session with its test and writes a few of its columns.  Through the ORM
that cost more than the CAT step: the joined eager load fills the identity map and the commit's
flush works out what changed.  Here one Core SELECT reads the session (locked), its test and the
bank's revision; the row becomes a *snapshot*: a transient ``TestSession`` with its ``Test``,
not attached to any database session, so reading it is plain attribute access and writing it
does nothing.  The answer's changes go to the database in one Core UPDATE (:func:`advance`),
which expires the ORM object of the session if the database session has one loaded.
Callers that change a session in other ways (finishing it, drafts) load it through the ORM.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Table, Update, bindparam, inspect, null, select, update
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.util import identity_key

from itembank.bank.models import BankRevision

from .models import Test, TestSession

__all__ = ["advance", "read_snapshot"]


@functools.cache
def _keys(model: type) -> tuple[tuple[str, str], ...]:
    """(attribute, column) names of a model's mapped columns."""
    mapper: Mapper[Any] = inspect(model)
    return tuple((attr.key, attr.columns[0].name) for attr in mapper.column_attrs)


@functools.cache
def _select() -> Select[Any]:
    # Built once, with bound parameters (building a statement per call costs more than running
    # it); on first use, not at import, when every model is mapped.
    sessions = _table(TestSession)
    tests = _table(Test)
    revision = select(BankRevision.revision).where(BankRevision.id == 1).scalar_subquery()
    stmt = (
        select(
            *(sessions.c[column].label(f"s_{key}") for key, column in _keys(TestSession)),
            *(tests.c[column].label(f"t_{key}") for key, column in _keys(Test)),
            revision.label("bank_revision"),
        )
        .select_from(sessions.join(tests, sessions.c.test_id == tests.c.id))
        .where(sessions.c.id == bindparam("session_id"))
    )  # fmt: skip
    return stmt.with_for_update(of=sessions)


@functools.cache
def _advance() -> Update:
    sessions = _table(TestSession)
    return (
        update(sessions)
        .where(sessions.c.id == bindparam("b_id"))
        .values(
            answered=bindparam("b_answered"),
            status="in_progress",
            updated_at=bindparam("b_now"),
            draft_item=None,
            draft_response=null(),
            draft_at=None,
            current_item=bindparam("b_item"),
            current_key=bindparam("b_key"),
        )
    )


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def read_snapshot(db: Session, session_id: str) -> tuple[TestSession, tuple[Any, ...] | None] | None:
    """The session with its test as a detached snapshot (see the module's docstring) and the
    bank's fingerprint (None without the revision row), or None when there is no such session.
    The session's row is locked FOR UPDATE (PostgreSQL; SQLite's write lock is the caller's).
    Run on the session's connection, without the ORM's execution layer (a Core statement)."""
    row = db.connection().execute(_select(), {"session_id": session_id}).first()
    if row is None:
        return None
    return _snapshot(row), (None if row.bank_revision is None else (row.bank_revision,))


def _snapshot(row: Row[Any]) -> TestSession:
    values = row._mapping
    test = _instance(Test, {key: values[f"t_{key}"] for key, _ in _keys(Test)})
    return _instance(TestSession, {key: values[f"s_{key}"] for key, _ in _keys(TestSession)},
                     test=test)  # fmt: skip


def _instance(model: type[Any], values: dict[str, Any], **related: Any) -> Any:
    """A transient instance of ``model`` holding ``values`` as if loaded: its state is set up
    without the constructor, whose attribute events (one per column, and the backref of a
    relationship) cost more than the row's read."""
    obj = inspect(model).class_manager.new_instance()
    obj.__dict__.update(values, **related)
    return obj


def advance(db: Session, snapshot: TestSession, *, answered: int, item: str, key: str,
            now: datetime) -> None:
    """Store that the session now has ``answered`` answers and its current item is ``item``
    (chosen after the history keyed ``key``); its draft is cleared.  The snapshot is updated to
    match."""
    db.connection().execute(_advance(), {"b_id": snapshot.id, "b_answered": answered, "b_now": now,
                            "b_item": item, "b_key": key})  # fmt: skip
    loaded = db.identity_map.get(identity_key(TestSession, snapshot.id))
    if loaded is not None:  # the ORM object of an earlier read in this database session
        db.expire(loaded)
    snapshot.answered = answered
    snapshot.status = "in_progress"
    snapshot.updated_at = now
    snapshot.draft_item = snapshot.draft_response = snapshot.draft_at = None
    snapshot.current_item, snapshot.current_key = item, key
