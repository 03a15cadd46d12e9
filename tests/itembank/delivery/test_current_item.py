"""The current item stored with the history it follows (migration 0017): an answer runs the CAT
engine once (to choose the next item), not twice; a history changed behind the stored item (a
coded score) makes the engine choose again, and resumption gives the same items as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import Response, TestSession
from itembank.demo import create_demo_content
from tests.itembank.delivery.test_sessions import good


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as db, db.begin():
        create_demo_content(db)
    clear_cache()
    return demo_bank


def _count_engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []
    real = delivery.next_step

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "next_step", counted)
    return runs


def test_an_answer_runs_the_engine_once(factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _count_engine_runs(monkeypatch)
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "cur-1", "en")
        assert len(runs) == 1
        state = started.state
        for n in range(3):
            before = len(runs)
            state = delivery.record_response(db, state.session.id, started.token, state.item.item.id,
                                             good(state.item), f"r{n}")
            assert len(runs) - before == 1  # the next item only
        ts = db.get(TestSession, started.state.session.id)
        assert ts is not None and ts.current_item == state.item.item.id
        assert ts.current_key == delivery.history_key([(r.item_id, r.score) for r in db.scalars(
            select(Response).where(Response.session_id == ts.id).order_by(Response.sequence))])


def test_a_changed_history_makes_the_engine_choose_again(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "cur-2", "en")
        state = started.state
        first = state.item.item.id
        state = delivery.record_response(db, state.session.id, started.token, first, good(state.item), "r0")
        sid, shown = state.session.id, state.item.item.id
    with factory() as db, db.begin():  # the score of the first answer changes (a correction)
        db.execute(update(Response).where(Response.session_id == sid)
                   .values(score=1 - (db.scalar(select(Response.score).where(Response.session_id == sid)) or 0)))
    runs = _count_engine_runs(monkeypatch)
    with factory() as db:
        again = delivery.session_state(db, sid, started.token)
        assert len(runs) == 1  # not taken from the stored item: its history is not this one
        ts = db.get(TestSession, sid)
        assert ts is not None
        engine_choice = again.item.item.id if again.item is not None else None
        # the stored item stays as it was (a read writes nothing) and is not what is served if
        # the engine now chooses otherwise
        assert ts.current_item == shown
        assert engine_choice is not None


def test_a_stored_item_the_bank_no_longer_has_is_not_served(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "cur-3", "en")
        sid, token, item = started.state.session.id, started.token, started.state.item.item.id
    with factory() as db, db.begin():
        db.execute(update(TestSession).where(TestSession.id == sid).values(current_item="NO-SUCH-ITEM"))
    with factory() as db:
        state = delivery.session_state(db, sid, token)
        assert state.item is not None and state.item.item.id == item  # chosen again by the engine
