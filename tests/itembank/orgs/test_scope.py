"""The scope module: each role's where-clause selects exactly its rows, aggregates keep small
groups inside the database, and migration 0005 creates the table the model describes."""

from __future__ import annotations

import math
import secrets
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from itembank.db import Base
from itembank.delivery import scope as session_scope
from itembank.delivery.models import Test, TestSession
from itembank.delivery.sessions import hash_token
from itembank.orgs import scope
from itembank.orgs.models import City, ClassTeacher, School, SchoolClass, Student
from itembank.orgs.roster import import_roster

ROSTER = (
    "city,school,class,student_id,name,grade,language,gender\n"
    + "".join(f"home,a,1,a{i},A {i},8,zh-TW,\n" for i in range(4))
    + "".join(f"home,a,2,b{i},B {i},8,zh-TW,\n" for i in range(2))
    + "".join(f"away,z,1,z{i},Z {i},8,en,\n" for i in range(3))
).encode()


def viewer(role: str, id: int = 999, school_id: int | None = None, city_id: int | None = None):  # type: ignore[no-untyped-def]
    return SimpleNamespace(id=id, role=role, school_id=school_id, city_id=city_id)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with session_factory() as db, db.begin():
        import_roster(db, ROSTER, "r.csv")
        db.add(Test(id="t", title={"zh-TW": "t", "en": "t"}, access_code="T", cat_config={}))
        db.add(Test(id="open", title={"zh-TW": "o", "en": "o"}, access_code="O", cat_config={}))
        db.flush()
        for n, student in enumerate(db.scalars(select(Student).order_by(Student.student_id))):
            db.add(TestSession(id=f"s-{student.student_id}", test_id="t", student_key=student.student_id,
                               student_ref=student.id, class_id=student.class_id, language="en",
                               token_hash=hash_token(secrets.token_hex(4)), status="finished", seed=1,
                               scale_score=400.0 + 10 * n, level="2"))  # fmt: skip
        db.add(TestSession(id="s-anyone", test_id="open", student_key="anyone", language="en",
                           token_hash=hash_token("x"), status="started", seed=1))  # fmt: skip
        ids = {
            "a": db.scalars(select(School.id).where(School.code == "a")).one(),
            "home": db.scalars(select(City.id).where(City.code == "home")).one(),
            "away": db.scalars(select(City.id).where(City.code == "away")).one(),
            "a2": db.scalars(
                select(SchoolClass.id)
                .join(School)
                .where(School.code == "a", SchoolClass.name == "2")
            ).one(),  # fmt: skip
        }
        db.add(ClassTeacher(class_id=ids["a2"], user_id=_user(db, "teacher")))
    return ids


def _user(db: Session, role: str) -> int:
    from itembank.accounts.models import User

    user = User(username=f"u-{role}", password_hash="x", role=role)
    db.add(user)
    db.flush()
    return user.id


def visible(session_factory: sessionmaker[Session], who) -> set[str]:  # type: ignore[no-untyped-def]
    with session_factory() as db:
        return set(db.scalars(select(TestSession.id).where(session_scope.session_clause(who))))


def test_each_role_sees_its_rows(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with session_factory() as db:
        teacher_id = db.scalars(select(ClassTeacher.user_id)).one()
    a_all = {f"s-a{i}" for i in range(4)} | {"s-b0", "s-b1"}
    assert visible(session_factory, viewer("admin")) == a_all | {"s-z0", "s-z1", "s-z2", "s-anyone"}
    assert visible(session_factory, viewer("teacher", id=teacher_id)) == {
        "s-b0",
        "s-b1",
        "s-anyone",
    }
    assert visible(session_factory, viewer("school_admin", school_id=world["a"])) == a_all | {
        "s-anyone"
    }
    assert visible(session_factory, viewer("researcher", city_id=world["away"])) == {
        "s-z0",
        "s-z1",
        "s-z2",
    }
    assert visible(session_factory, viewer("researcher")) == set()
    assert visible(session_factory, viewer("reviewer")) == set()
    with session_factory() as db:
        classes = db.scalars(scope.classes_visible_to(viewer("teacher", id=teacher_id))).all()
        assert [c.id for c in classes] == [world["a2"]]
        students = db.scalars(
            scope.students_visible_to(viewer("researcher", city_id=world["away"]))
        ).all()
        assert sorted(s.student_id for s in students) == ["z0", "z1", "z2"]


def test_aggregates_hide_small_groups_in_the_query(session_factory: sessionmaker[Session],
                                                   world: dict[str, int]) -> None:  # fmt: skip
    partner = viewer("researcher", city_id=world["away"])
    with session_factory() as db:
        by_class = session_scope.group_summaries(db, partner, test_id="t", by="class", min_group_size=3)
        # class a/2 has two sessions: below the minimum, not shown (sorted by city code)
        assert [(g.school_code, g.class_name, g.n) for g in by_class] == [
            ("z", "1", 3),
            ("a", "1", 4),
        ]
        by_city = {g.city_code: g for g in session_scope.group_summaries(db, partner, test_id="t", by="city",
                                                                 min_group_size=3)}  # fmt: skip
        scores = [400.0 + 10 * n for n in range(6)]  # a0..a3, b0, b1 in student-id order
        mean = sum(scores) / 6
        sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / 5)
        assert by_city["home"].n == 6 and by_city["home"].mean == pytest.approx(mean)
        assert by_city["home"].se == pytest.approx(sd / math.sqrt(6))
        assert by_city["home"].levels == {"2": 1.0}
        assert session_scope.group_summaries(db, partner, test_id="t", by="city", min_group_size=7) == []
        # a teacher's aggregates never reach beyond their own rows
        teacher = viewer("teacher", id=db.scalars(select(ClassTeacher.user_id)).one())
        assert (
            session_scope.group_summaries(db, teacher, test_id="t", by="school", min_group_size=1)[0].n == 2
        )


def test_migration_creates_class_teachers_as_modelled(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "class_teachers" in repr(d)] == []


def test_rows_with_codes_follow_the_same_scope(session_factory: sessionmaker[Session],
                                               world: dict[str, int]) -> None:  # fmt: skip
    from sqlalchemy import literal, union_all

    rows = union_all(
        *[
            select(literal(c).label("city"), literal(s).label("school"), literal(n).label("n"))
            for n, (c, s) in enumerate([("home", "a"), ("away", "z"), ("away", "a")])
        ]
    ).subquery()
    with session_factory() as db:
        teacher = viewer("teacher", id=db.scalars(select(ClassTeacher.user_id)).one())

        def seen(who) -> list[int]:  # type: ignore[no-untyped-def]
            clause = scope.coded_rows_clause(who, rows.c.city, rows.c.school)
            return sorted(db.scalars(select(rows.c.n).where(clause)))

        assert seen(viewer("admin")) == [0, 1, 2]
        assert seen(viewer("researcher", city_id=world["away"])) == [1, 2]
        assert seen(viewer("school_admin", school_id=world["a"])) == [0]
        assert seen(teacher) == [0]
        assert seen(viewer("researcher")) == [] and seen(viewer("translator")) == []
