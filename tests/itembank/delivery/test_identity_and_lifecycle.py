"""A testing programme on SQLite and PostgreSQL: who a student is (normalised ids, the same id in
two schools, no takeover without the resume code), one session per attempt under concurrent
starts, attempts and grants, the wrong-code limit, a test's life (unique codes, edit, close,
archive), a teacher's hand on a session, and scores reported only when precise enough."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from itembank.accounts.models import AuditEntry
from itembank.db import unit_of_work
from itembank.delivery import control
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import TestAssignment, TestSession
from itembank.demo import create_demo_content
from itembank.orgs.models import City, School, SchoolClass, Student

from .test_sessions import good


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as db, db.begin():
        create_demo_content(db)
        delivery.create_test(
            db, id="fixed", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIXED1",
            kind="fixed", items=["T-03-Q2", "T-01-Q1", "T-01-Q3"], time_limit_minutes=30,
        )  # fmt: skip
        city = City(code="tp", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        one = School(city=city, code="s1", name={"zh-TW": "一中", "en": "School 1"})
        two = School(city=city, code="s2", name={"zh-TW": "二中", "en": "School 2"})
        class_one = SchoolClass(school=one, name="801", grade=8)
        class_two = SchoolClass(school=two, name="801", grade=8)
        db.add_all([
            Student(key="k1", school=one, school_class=class_one, student_id="A01", name="甲"),
            Student(key="k2", school=two, school_class=class_two, student_id="A01", name="乙",
                    password_hash=generate_password_hash("pw-two")),
        ])  # fmt: skip
        test = delivery.create_test(
            db, id="roster", title={"zh-TW": "班", "en": "Class"}, access_code="ROSTER1",
            kind="fixed", items=["T-01-Q1"],
        )  # fmt: skip
        test.assignments.append(TestAssignment(school=one))
        test.assignments.append(TestAssignment(school=two))
    clear_cache()
    return demo_bank


def test_a_second_start_without_the_resume_code_gets_no_token(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        first = delivery.start_session(db, "demo-cat", "DEMO", "S-001", "en")
        code = first.state.session.resume_code
        assert code and len(code) == delivery.RESUME_CODE_LENGTH
        # someone who knows only the student id: refused, the victim's token still works
        with pytest.raises(delivery.SessionInProgress):
            delivery.start_session(db, "demo-cat", "DEMO", "S-001", "en")
        with pytest.raises(delivery.SessionInProgress):
            delivery.start_session(db, "demo-cat", "DEMO", "S-001", "en", resume_code="WRONG9")
        sid = first.state.session.id
        assert delivery.session_state(db, sid, first.token).answered == 0
        # the student with the code (any case, spaces) resumes; the old token stops working
        again = delivery.start_session(
            db, "demo-cat", "DEMO", " s-001 ", "en", resume_code=f" {code.lower()} "
        )
        assert again.resumed and again.state.session.id == sid
        with pytest.raises(delivery.SessionNotFound):
            delivery.session_state(db, sid, first.token)
        assert db.scalar(select(func.count()).select_from(TestSession)) == 1


def test_the_same_id_in_two_schools_is_two_students(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        with pytest.raises(delivery.StudentAmbiguous):
            delivery.start_session(db, "roster", "ROSTER1", "A01", "en")
        one = delivery.start_session(db, "roster", "ROSTER1", "a01 ", "en", school="S1")
        # the student of school 2 has a password: it is needed, and it tells them apart
        with pytest.raises(delivery.PasswordRequired):
            delivery.start_session(db, "roster", "ROSTER1", "A01", "en", school="s2")
        two = delivery.start_session(db, "roster", "ROSTER1", "A01", "en", password="pw-two")
        assert one.state.session.id != two.state.session.id
        assert one.state.session.student_key == "A01"  # as the roster says
        # the password also resumes without the resume code
        again = delivery.start_session(db, "roster", "ROSTER1", "A01", "en", password="pw-two")
        assert again.state.session.id == two.state.session.id


def test_concurrent_starts_for_one_student_make_one_session(
    factory: sessionmaker[Session],
) -> None:
    n = 20
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with factory() as db:
            barrier.wait()
            try:
                results[i] = delivery.start_session(db, "fixed", "FIXED1", "race-1", "en").token
            except delivery.DeliveryError as exc:
                results[i] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    tokens = [r for r in results if r not in ("SessionInProgress",)]
    assert len(tokens) == 1, results
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(TestSession)) == 1


def _finish(db: Session, started: delivery.Started) -> None:
    state = started.state
    n = 0
    while not state.finished:
        n += 1
        state = delivery.record_response(
            db, state.session.id, started.token, state.item.item.id, good(state.item), f"r{n}"
        )


def test_a_second_attempt_is_refused_until_granted(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        first = delivery.start_session(db, "fixed", "FIXED1", "T-1", "en")
        _finish(db, first)
        with pytest.raises(delivery.AttemptsUsed):
            delivery.start_session(db, "fixed", "FIXED1", "t-1", "en")
        # with the resume code the student sees the finished session again
        seen = delivery.start_session(
            db, "fixed", "FIXED1", "T-1", "en", resume_code=first.state.session.resume_code
        )
        assert seen.state.finished and seen.state.session.id == first.state.session.id
        control.grant_attempt(db, "fixed", first.state.session.id, "teacher-1", "was ill")
        second = delivery.start_session(db, "fixed", "FIXED1", "T-1", "en")
        assert second.state.session.attempt == 2 and not second.state.finished
        _finish(db, second)
        with pytest.raises(delivery.AttemptsUsed):
            delivery.start_session(db, "fixed", "FIXED1", "T-1", "en")
        assert db.scalars(select(AuditEntry.action)).all() == ["session.grant_attempt"]


def test_the_eleventh_wrong_code_in_a_minute_is_refused(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        for _ in range(10):
            with pytest.raises(delivery.AccessDenied):
                delivery.start_session(db, "fixed", "WRONG", "G-1", "en", address="10.0.0.9")
        with pytest.raises(delivery.TooManyAttempts):
            delivery.start_session(db, "fixed", "FIXED1", "G-1", "en", address="10.0.0.9")
        # another address is not locked; after the window this one is not either
        delivery.start_session(db, "fixed", "FIXED1", "G-2", "en", address="10.0.0.10")
        later = delivery.utcnow() + timedelta(seconds=61)
        delivery.start_session(db, "fixed", "FIXED1", "G-1", "en", address="10.0.0.9", now=later)


def test_codes_are_unique_among_live_tests_and_tests_have_a_life(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        with unit_of_work(db), pytest.raises(delivery.CodeTaken, match="fixed"):
            delivery.create_test(db, id="other", title={"en": "O"}, access_code=" fixed1 ",
                                 kind="fixed", items=["T-01-Q1"])
        code = delivery.generate_access_code()
        assert len(code) == 9 and not set(code) & set("0O1IL")
        control.edit_test(db, "fixed", "admin", {"time_limit_minutes": 45, "max_attempts": 2})
        delivery.start_session(db, "fixed", "FIXED1", "L-1", "en")
        with pytest.raises(control.TestLocked):
            control.edit_test(db, "fixed", "admin", {"items": ["T-01-Q1"]})
        control.edit_test(db, "fixed", "admin", {"max_attempts": 3})  # still allowed
        control.set_test_status(db, "fixed", "closed", "admin", reason="fire drill")
        with pytest.raises(delivery.AccessDenied):
            delivery.start_session(db, "fixed", "FIXED1", "L-2", "en")
        control.set_test_status(db, "fixed", "open", "admin")
        delivery.start_session(db, "fixed", "FIXED1", "L-2", "en")
        control.set_test_status(db, "fixed", "archived", "admin")
        assert delivery.tests_for_code(db, "FIXED1") == []
        with unit_of_work(db):  # the archived test's code is free again
            delivery.create_test(db, id="other", title={"en": "O"}, access_code="FIXED1",
                                 kind="fixed", items=["T-01-Q1"])
        with pytest.raises(delivery.CodeTaken):
            control.set_test_status(db, "fixed", "open", "admin")
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["test.edit", "test.edit", "test.close", "test.open", "test.archive"]


def test_a_teacher_adds_time_unlocks_resets_and_ends(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "fixed", "FIXED1", "K-1", "en")
        ts = started.state.session
        sid, before = ts.id, delivery.time_left(ts)
        control.add_time(db, "fixed", sid, 5, "teacher-1", "slow reader")
        after = delivery.time_left(db.get(TestSession, sid))
        assert after - before >= timedelta(minutes=4, seconds=59)
        # unlocked: the student resumes once without the code
        control.unlock_session(db, "fixed", sid, "teacher-1", "lost the code")
        resumed = delivery.start_session(db, "fixed", "FIXED1", "K-1", "en")
        assert resumed.state.session.id == sid
        with pytest.raises(delivery.SessionInProgress):
            delivery.start_session(db, "fixed", "FIXED1", "K-1", "en")
        delivery.record_response(db, sid, resumed.token, resumed.state.item.item.id,
                                 good(resumed.state.item), "x1")
        control.reset_session(db, "fixed", sid, "teacher-1", "wrong student")
        again = delivery.start_session(db, "fixed", "FIXED1", "K-1", "en")
        assert again.state.session.id == sid and again.state.answered == 0
        control.end_session(db, "fixed", sid, "teacher-1", "left the room")
        assert db.get(TestSession, sid).status == "expired"
        entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == [
            "session.add_time", "session.unlock", "session.reset", "session.end"]
        assert entries[0].detail["reason"] == "slow reader"


def test_a_timed_out_session_with_one_answer_shows_no_score(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "demo-cat", "DEMO", "P-1", "en")
        sid, token, item = started.state.session.id, started.token, started.state.item
        delivery.record_response(db, sid, token, item.item.id, good(item), "one")
        later = delivery.utcnow() + timedelta(minutes=61)
        state = delivery.session_state(db, sid, token, now=later)
        assert state.status == "expired"
        ts = db.get(TestSession, sid)
        assert ts.scale_score is not None and ts.scored_items == 1
        view = delivery.result_view(ts, "en")
        assert view["reported"] is False and view["score"] is None and view["level"] is None
        assert view["estimate"] == round(ts.scale_score)
        # a test that asks for one scored answer reports it
        ts.test.report_min_items = 1
        assert delivery.result_view(ts, "en")["reported"] is True
        ts.test.report_max_se = 0.01
        assert delivery.result_view(ts, "en")["reported"] is False
        db.rollback()
