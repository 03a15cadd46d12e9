"""The delivery service on SQLite and PostgreSQL: fixed forms in order, the server-side timer,
windows and rosters, resumption from stored history alone, and concurrent recording."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import Response, TestAssignment, TestSession
from itembank.demo import create_demo_content
from itembank.orgs.models import City, School, SchoolClass, Student


def good(entry: delivery.DeliveryItem | Any) -> Any:
    item = entry.item
    if item.type == "single_choice":
        return item.options[0].id
    if item.type == "multiple_choice":
        return [item.options[0].id]
    if item.type == "complex_choice":
        return {s.id: item.choices[0].id for s in item.statements}
    return "an answer"


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as db, db.begin():
        create_demo_content(db)
        delivery.create_test(
            db, id="fixed", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIX",
            kind="fixed", items=["T-03-Q2", "T-01-Q1", "T-01-Q3"], time_limit_minutes=30,
        )  # fmt: skip
    clear_cache()
    return demo_bank


def test_a_fixed_test_delivers_its_list_in_order(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "fixed", "fix", "F-1", "zh-TW")
        order = []
        state = started.state
        while not state.finished:
            order.append(state.item.item.id)
            state = delivery.record_response(
                db, state.session.id, started.token, state.item.item.id, good(state.item),
                f"r{len(order)}",
            )  # fmt: skip
        assert order == ["T-03-Q2", "T-01-Q1", "T-01-Q3"]
        assert state.status == "finished" and state.answered == 3
        assert state.session.deadline is not None


def test_the_next_item_comes_from_stored_history_alone(factory: sessionmaker[Session]) -> None:
    """A new process (empty caches, new session objects) computes the same next items."""
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "R-1", "en")
        sid, token = started.state.session.id, started.token
        expected = []
        state = started.state
        for n in range(8):
            expected.append(state.item.item.id)
            state = delivery.record_response(
                db, sid, token, state.item.item.id, good(state.item), f"r{n}"
            )
    clear_cache()
    with factory() as db:
        responses = db.scalars(
            select(Response).where(Response.session_id == sid).order_by(Response.sequence)
        ).all()
        assert [r.item_id for r in responses] == expected
        resumed = delivery.session_state(db, sid, token)
        assert resumed.item.item.id == state.item.item.id
        assert resumed.answered == 8


def test_time_up_finishes_the_session_and_refuses_answers(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "E-1", "en")
        sid, token = started.state.session.id, started.token
        item = started.state.item
    later = delivery.utcnow() + timedelta(minutes=61)
    with factory() as db:
        with pytest.raises(delivery.SessionClosed):
            delivery.record_response(db, sid, token, item.item.id, good(item), "late", now=later)
    with factory() as db:
        ts = db.get(TestSession, sid)
        assert ts.status == "expired" and ts.finished_at is not None
        assert db.scalars(select(Response).where(Response.session_id == sid)).all() == []
        state = delivery.session_state(db, sid, token)
        assert state.finished and state.item is None
        # joining again shows the closed session on an assigned test, starts afresh on the demo
        again = delivery.start_session(db, "demo-cat", "DEMO", "E-1", "en", now=later)
        assert again.state.session.id != sid


def test_windows_access_codes_and_rosters(factory: sessionmaker[Session]) -> None:
    with factory() as db, db.begin():
        city = City(code="tp", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        school = School(city=city, code="s1", name={"zh-TW": "一中", "en": "School 1"})
        klass = SchoolClass(school=school, name="801", grade=8)
        db.add(
            Student(key="k1", school=school, school_class=klass, student_id="A01", language="zh-TW")
        )
        test = delivery.create_test(
            db, id="class-test", title={"zh-TW": "班", "en": "Class"}, access_code="CLS",
            kind="fixed", items=["T-01-Q1"],
            opens_at=delivery.utcnow() - timedelta(hours=1),
            closes_at=delivery.utcnow() + timedelta(minutes=10),
        )  # fmt: skip
        test.assignments.append(TestAssignment(school_class=klass))
    with factory() as db:
        with pytest.raises(delivery.AccessDenied):
            delivery.start_session(db, "class-test", "WRONG", "A01", "en")
        with pytest.raises(delivery.AccessDenied):
            delivery.start_session(db, "class-test", "CLS", "Z99", "en")  # not on the roster
        with pytest.raises(delivery.TestNotFound):
            delivery.start_session(db, "nope", "CLS", "A01", "en")
        with pytest.raises(delivery.InvalidRequest):
            delivery.start_session(db, "class-test", "CLS", "A01", "fr")
        started = delivery.start_session(db, "class-test", "cls", "A01", "zh_TW")
        ts = started.state.session
        assert ts.class_id is not None and ts.student_ref is not None and ts.language == "zh-TW"
        # the deadline never runs past the window's end
        assert delivery.time_left(ts) <= timedelta(minutes=10)
        with pytest.raises(delivery.AccessDenied):
            delivery.start_session(
                db, "class-test", "CLS", "A01", "en", now=delivery.utcnow() + timedelta(hours=1)
            )


def test_the_token_is_stored_only_as_a_hash(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "H-1", "en")
        ts = db.get(TestSession, started.state.session.id)
        assert started.token not in (ts.token_hash, ts.id)
        assert ts.token_hash == delivery.hash_token(started.token)


def _race(factory: sessionmaker[Session], calls: list[tuple[Any, ...]]) -> list[Any]:
    """Run record_response calls at the same moment in threads, each with its own session."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, args: tuple[Any, ...]) -> None:
        with factory() as db:
            barrier.wait()
            try:
                results[i] = delivery.record_response(db, *args).answered
            except delivery.DeliveryError as exc:
                results[i] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_requests_record_exactly_one_answer_per_sequence(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "C-1", "en")
    sid, token = started.state.session.id, started.token
    item = started.state.item
    for round_ in range(4):
        same = [(sid, token, item.item.id, good(item), f"same-{round_}")] * 3
        different = [(sid, token, item.item.id, good(item), f"diff-{round_}-{k}") for k in range(2)]
        results = _race(factory, same + different)
        answered = round_ + 1
        # the same response id: all get the same reply; different ids: one wins, others conflict
        winners = [r for r in results if r == answered]
        assert len(winners) >= 1 and all(r in (answered, "ItemConflict") for r in results), results
        with factory() as db:
            rows = db.scalars(
                select(Response).where(Response.session_id == sid).order_by(Response.sequence)
            ).all()
            assert [r.sequence for r in rows] == list(range(1, answered + 1))
            state = delivery.session_state(db, sid, token)
            assert state.answered == answered == db.get(TestSession, sid).answered
            item = state.item
        if item is None:
            break


def test_a_response_already_recorded_is_found_by_its_id_after_a_lost_reply(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "L-1", "en")
        sid, token, item = started.state.session.id, started.token, started.state.item
        first = delivery.record_response(db, sid, token, item.item.id, good(item), "lost")
        # the client never saw the reply; meanwhile the row is the same
        db.execute(
            update(TestSession).where(TestSession.id == sid).values(updated_at=delivery.utcnow())
        )
        db.commit()
        again = delivery.record_response(db, sid, token, item.item.id, good(item), "lost")
        assert (again.answered, again.item.item.id) == (first.answered, first.item.item.id)


def test_session_ids_never_start_like_a_formula() -> None:
    from itembank.delivery.sessions import new_session_id

    ids = {new_session_id() for _ in range(2000)}  # token_urlsafe starts with - or _ in 1 of 32
    assert len(ids) == 2000 and all(i[0].isalnum() and len(i) >= 22 for i in ids)
