"""The teacher's live view as rows (itembank.delivery.live) and who may act on a session
(itembank.delivery.scope.control_clause, passed to itembank.delivery.control as ``where``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.models import User
from itembank.delivery import control
from itembank.delivery import scope as session_scope
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.live import live_rows
from itembank.delivery.models import Test, TestAssignment
from itembank.orgs import scope
from itembank.orgs.models import City, ClassTeacher, School, SchoolClass, Student


@pytest.fixture
def world(demo_bank: sessionmaker[Session]) -> dict[str, int]:
    with demo_bank() as db, db.begin():
        city = City(code="tp", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        school = School(city=city, code="s1", name={"zh-TW": "一中", "en": "School 1"})
        a = SchoolClass(school=school, name="801", grade=8)
        b = SchoolClass(school=school, name="802", grade=8)
        db.add_all([
            Student(key="k1", school=school, school_class=a, student_id="A01", name="甲"),
            Student(key="k2", school=school, school_class=a, student_id="A02", name="乙"),
            Student(key="k3", school=school, school_class=b, student_id="B01", name="丙"),
        ])  # fmt: skip
        t_a = User(username="t-a", role="teacher", password_hash="x")
        t_b = User(username="t-b", role="teacher", password_hash="x")
        db.add_all([t_a, t_b])
        db.flush()
        db.add_all([ClassTeacher(class_id=a.id, user_id=t_a.id),
                    ClassTeacher(class_id=b.id, user_id=t_b.id)])
        test = delivery.create_test(
            db, id="live", title={"zh-TW": "班", "en": "Class"}, access_code="LIVE-ONE",
            kind="fixed", items=["T-01-Q1", "T-01-Q2"], time_limit_minutes=20, owner_id=t_a.id,
        )  # fmt: skip
        test.assignments.append(TestAssignment(school_class=a))
        test.assignments.append(TestAssignment(school_class=b))
        ids = {"t-a": t_a.id, "t-b": t_b.id}
    clear_cache()
    return ids


def _user(db: Session, uid: int) -> User:
    user = db.get(User, uid)
    assert user is not None
    return user


def test_rows_are_the_whole_roster_in_the_viewers_scope(
    demo_bank: sessionmaker[Session], world: dict[str, int]
) -> None:
    with demo_bank() as db:
        started = delivery.start_session(db, "live", "LIVE-ONE", "a01", "en")
        teacher = _user(db, world["t-a"])
        test = db.get(Test, "live")
        assert test is not None
        rows = live_rows(db, test, students_where=scope.student_clause(teacher),
                         sessions_where=session_scope.session_clause(teacher))
        assert [(r.student_id, r.status) for r in rows] == [("A01", "started"), ("A02", "not_started")]
        assert rows[0].session is not None and rows[0].session.id == started.state.session.id
        assert rows[0].minutes_left == 20 and rows[1].minutes_left is None
        other = _user(db, world["t-b"])
        rows = live_rows(db, test, students_where=scope.student_clause(other),
                         sessions_where=session_scope.session_clause(other))
        assert [(r.student_id, r.status) for r in rows] == [("B01", "not_started")]


def test_a_teacher_acts_only_on_their_classes_sessions(
    demo_bank: sessionmaker[Session], world: dict[str, int]
) -> None:
    with demo_bank() as db:
        sid = delivery.start_session(db, "live", "LIVE-ONE", "A01", "en").state.session.id
        other = _user(db, world["t-b"])
        where = session_scope.control_clause(other)
        for act in (
            lambda: control.add_time(db, "live", sid, 5, other, where=where),
            lambda: control.end_session(db, "live", sid, other, where=where),
            lambda: control.unlock_session(db, "live", sid, other, where=where),
            lambda: control.reset_session(db, "live", sid, other, where=where),
            lambda: control.grant_attempt(db, "live", sid, other, where=where),
        ):
            with pytest.raises(delivery.SessionNotFound):
                act()
        teacher = _user(db, world["t-a"])
        ts = control.add_time(db, "live", sid, 5, teacher, where=session_scope.control_clause(teacher))
        left = delivery.time_left(ts)
        assert left is not None and left > timedelta(minutes=24)
        researcher = User(username="r", role="researcher", password_hash="x")
        assert str(session_scope.control_clause(researcher)) == "false"
