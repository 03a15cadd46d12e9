"""Every boundary of the organisations, through the pages, the API and the exports: a teacher sees
their classes, a school administrator their school, a city researcher their city's rows and other
cities only as aggregates of large enough groups; names and student ids stay within the school."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from itembank.accounts.models import User
from itembank.delivery.models import TestAssignment, TestSession
from itembank.delivery.sessions import create_test, hash_token
from itembank.orgs.models import ClassTeacher, School, SchoolClass, Student
from itembank.orgs.roster import import_roster

from .conftest import csrf_token

PASSWORD = "pw-123456"
# city, school, class, how many students; student ids and names are unique strings to search for
CLASSES = [("taipei", "north", "801", 6), ("taipei", "north", "802", 1),
           ("taipei", "south", "801", 6), ("penang", "george", "8A", 6)]  # fmt: skip
LEVELS = ["1", "2", "3"]


def sid(school: str, klass: str, i: int) -> str:
    return f"id-{school}-{klass}-{i}"


def name(school: str, klass: str, i: int) -> str:
    return f"Name{school.title()}{klass}x{i}"


def roster_csv() -> bytes:
    lines = ["city,school,class,student_id,name,grade,language,gender"]
    for city, school, klass, n in CLASSES:
        for i in range(1, n + 1):
            lines.append(f"{city},{school},{klass},{sid(school, klass, i)},{name(school, klass, i)},8,"
                         f"{'en' if city == 'penang' else 'zh-TW'},")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


@dataclass
class World:
    sessions: dict[str, str]  # student id -> session id
    keys: dict[str, str]  # student id -> pseudonymous key


def add_user(
    db, username: str, role: str, *, school: str | None = None, city: str | None = None
) -> User:  # type: ignore[no-untyped-def]
    school_row = db.scalars(select(School).where(School.code == school)).first() if school else None
    city_id = school_row.city_id if school_row else None
    if city:
        from itembank.orgs.models import City

        city_id = db.scalars(select(City.id).where(City.code == city)).first()
    user = User(username=username, password_hash=generate_password_hash(PASSWORD), role=role,
                school_id=school_row.id if school_row else None, city_id=city_id)  # fmt: skip
    db.add(user)
    db.flush()
    return user


def class_of(db, school: str, klass: str) -> SchoolClass:  # type: ignore[no-untyped-def]
    return db.scalars(
        select(SchoolClass).join(School).where(School.code == school, SchoolClass.name == klass)
    ).one()


def build_world(app: Flask) -> World:
    """The roster above, users of each role, the test ``t-spring`` assigned to every class, and a
    finished, scored session for every student (written directly: scope does not care how)."""
    sessions: dict[str, str] = {}
    keys: dict[str, str] = {}
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        import_roster(db, roster_csv(), "roster.csv")
        t_north = add_user(db, "t-north", "teacher", school="north")
        t_south = add_user(db, "t-south", "teacher", school="south")
        add_user(db, "sa-north", "school_admin", school="north")
        add_user(db, "r-taipei", "researcher", city="taipei")
        add_user(db, "r-penang", "researcher", city="penang")
        add_user(db, "admin", "admin")
        db.add(ClassTeacher(class_id=class_of(db, "north", "801").id, user_id=t_north.id))
        db.add(ClassTeacher(class_id=class_of(db, "south", "801").id, user_id=t_south.id))
        test = create_test(db, id="t-spring", title={"zh-TW": "春季", "en": "Spring"},
                           access_code="SPRING")  # fmt: skip
        db.flush()
        for _city, school, klass, n in CLASSES:
            k = class_of(db, school, klass)
            db.add(TestAssignment(test_id=test.id, class_id=k.id))
            for i in range(1, n + 1):
                student = db.scalars(
                    select(Student).where(Student.student_id == sid(school, klass, i))
                ).one()
                session_id = secrets.token_urlsafe(12)
                score = 400 + 20 * i + (50 if school == "george" else 0)
                db.add(TestSession(
                    id=session_id, test_id=test.id, student_key=student.student_id, student_ref=student.id,
                    class_id=k.id, language=student.language, token_hash=hash_token("tok-" + session_id),
                    status="finished", seed=1, answered=10, theta=0.1 * i, se=0.3,
                    scale_score=float(score), scale_se=30.0, level=LEVELS[i % 3],
                ))  # fmt: skip
                sessions[student.student_id] = session_id
                keys[student.student_id] = student.key
    return World(sessions, keys)


def login(client: FlaskClient, username: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    reply = client.post("/auth/login", data={"csrf_token": csrf_token(page), "username": username,
                                             "password": PASSWORD})  # fmt: skip
    assert reply.status_code == 302, reply.get_data(as_text=True)


def ids_of(school: str, klass: str | None = None) -> list[str]:
    return [sid(s, k, i) for _c, s, k, n in CLASSES for i in range(1, n + 1)
            if s == school and (klass is None or k == klass)]  # fmt: skip


def names_of(school: str, klass: str | None = None) -> list[str]:
    return [name(s, k, i) for _c, s, k, n in CLASSES for i in range(1, n + 1)
            if s == school and (klass is None or k == klass)]  # fmt: skip


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


# -- teachers ------------------------------------------------------------------------------------
def test_a_teacher_sees_only_their_classes(app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "t-north")
    page = client.get("/teach/tests/t-spring").get_data(as_text=True)
    for student in ids_of("north", "801"):
        assert student in page
    for student in ids_of("north", "802") + ids_of("south") + ids_of("george"):
        assert student not in page
    for student in ids_of("south") + ids_of("george") + ids_of("north", "802"):
        assert (
            client.get(f"/teach/tests/t-spring/sessions/{world.sessions[student]}").status_code
            == 404
        )
    own = world.sessions[ids_of("north", "801")[0]]
    assert client.get(f"/teach/tests/t-spring/sessions/{own}").status_code == 200
    # the export: pseudonymous keys by default, only the teacher's class
    exported = rows(client.get("/manage/tests/t-spring/sessions.csv").get_data(as_text=True))
    assert sorted(r["student"] for r in exported) == sorted(
        world.keys[s] for s in ids_of("north", "801")
    )
    text = client.get("/manage/tests/t-spring/sessions.csv").get_data(as_text=True)
    assert not any(s in text for s in ids_of("north") + names_of("north"))
    identified = client.get("/manage/tests/t-spring/sessions.csv?identify=1").get_data(as_text=True)
    assert all(n in identified for n in names_of("north", "801"))
    assert not any(
        n in identified for n in names_of("south") + names_of("george") + names_of("north", "802")
    )


def test_a_teacher_of_another_school_cannot_reach_the_sessions(app: Flask, client: FlaskClient,
                                                                 world: World) -> None:  # fmt: skip
    login(client, "t-south")
    page = client.get("/teach/tests/t-spring").get_data(as_text=True)
    assert not any(s in page for s in ids_of("north") + ids_of("george"))
    for student in ids_of("north"):
        assert (
            client.get(f"/teach/tests/t-spring/sessions/{world.sessions[student]}").status_code
            == 404
        )
        # the API: a logged-in teacher without the session's token gets nothing
        api = client.get(f"/api/v1/sessions/{world.sessions[student]}")
        assert api.status_code == 401 and student not in api.get_data(as_text=True)
        api = client.get(
            f"/api/v1/sessions/{world.sessions[student]}",
            headers={"Authorization": "Bearer tok-" + world.sessions[ids_of("south")[0]]},
        )
        assert api.status_code == 404
    exported = client.get("/manage/tests/t-spring/sessions.csv?identify=1").get_data(as_text=True)
    assert not any(s in exported for s in ids_of("north") + names_of("north") + names_of("george"))
    assert all(s in exported for s in ids_of("south"))
    # the index counts only the teacher's own sessions
    index = client.get("/teach/").get_data(as_text=True)
    assert "<td>6</td><td>0</td>" in index  # six finished, none expired


def test_a_school_admin_sees_their_school(app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "sa-north")
    page = client.get("/teach/tests/t-spring").get_data(as_text=True)
    assert all(s in page for s in ids_of("north"))
    assert not any(s in page for s in ids_of("south") + ids_of("george"))
    manage = client.get("/manage/").get_data(as_text=True)
    assert "802" in manage and "george" not in manage.lower()
    with app.extensions["itembank_sessionmaker"]() as db:
        south = class_of(db, "south", "801").id
        north = class_of(db, "north", "802").id
    assert client.get(f"/manage/classes/{south}").status_code == 404
    klass = client.get(f"/manage/classes/{north}").get_data(as_text=True)
    assert name("north", "802", 1) in klass


# -- researchers ---------------------------------------------------------------------------------
def test_a_partner_city_researcher_gets_aggregates_only(app: Flask, client: FlaskClient,
                                                        world: World) -> None:  # fmt: skip
    login(client, "r-penang")
    taipei_ids = ids_of("north") + ids_of("south")
    taipei_secrets = (
        taipei_ids + names_of("north") + names_of("south") + [world.keys[s] for s in taipei_ids]
    )
    pages = {
        "list": client.get("/teach/tests/t-spring"),
        "summary": client.get("/manage/tests/t-spring/summary"),
        "summary.csv": client.get("/manage/tests/t-spring/summary.csv?by=class"),
        "sessions.csv": client.get("/manage/tests/t-spring/sessions.csv"),
        "index": client.get("/teach/"),
    }
    for label, reply in pages.items():
        assert reply.status_code == 200, label
        text = reply.get_data(as_text=True)
        assert not [s for s in taipei_secrets if s in text], label
    # their own city's rows are there, as pseudonyms: never the school's ids or names
    own = pages["list"].get_data(as_text=True)
    assert all(world.keys[s] in own for s in ids_of("george"))
    assert not any(s in own for s in ids_of("george") + names_of("george"))
    assert client.get("/manage/tests/t-spring/sessions.csv?identify=1").status_code == 403
    for student in taipei_ids:
        assert (
            client.get(f"/teach/tests/t-spring/sessions/{world.sessions[student]}").status_code
            == 404
        )
    # aggregates of the other city: the city, its large enough schools and classes, less north
    # 801, which would give the small class 802 by difference (north − 801; see test_disclosure)
    summary = rows(pages["summary.csv"].get_data(as_text=True))
    assert {(r["school"], r["class"]) for r in summary} == {("south", "801"), ("george", "8A")}
    by_city = {r["city"]: r for r in rows(client.get("/manage/tests/t-spring/summary.csv?by=city")
                                          .get_data(as_text=True))}  # fmt: skip
    assert by_city["taipei"]["n"] == "13" and by_city["penang"]["n"] == "6"
    assert float(by_city["penang"]["mean"]) == pytest.approx(400 + 50 + 20 * 3.5)
    shares = [float(by_city["penang"][f"level_{lv}"]) for lv in ("1", "2", "3", "4", "5", "6")
              if f"level_{lv}" in by_city["penang"]]  # fmt: skip
    assert sum(shares) == pytest.approx(1.0, abs=1e-3) and len(shares) == 6


def test_a_group_below_the_minimum_size_is_not_shown(app: Flask, client: FlaskClient,
                                                      world: World) -> None:  # fmt: skip
    login(client, "admin")
    by_class = rows(
        client.get("/manage/tests/t-spring/summary.csv?by=class").get_data(as_text=True)
    )
    assert ("north", "802") not in {(r["school"], r["class"]) for r in by_class}
    by_school = {r["school"]: r for r in rows(client.get("/manage/tests/t-spring/summary.csv?by=school")
                                              .get_data(as_text=True))}  # fmt: skip
    assert by_school["north"]["n"] == "7"  # the small class still counts in its school
    app.config["MIN_GROUP_SIZE"] = 7
    by_school = rows(
        client.get("/manage/tests/t-spring/summary.csv?by=school").get_data(as_text=True)
    )
    assert [r["school"] for r in by_school] == ["north"]
    page = client.get("/manage/tests/t-spring/summary").get_data(as_text=True)
    assert "north" in page and "south" not in page and "george" not in page


def test_a_city_researcher_sees_their_city_as_pseudonyms(app: Flask, client: FlaskClient,
                                                         world: World) -> None:  # fmt: skip
    login(client, "r-taipei")
    exported = client.get("/manage/tests/t-spring/sessions.csv").get_data(as_text=True)
    assert sorted(r["student"] for r in rows(exported)) == sorted(
        world.keys[s] for s in ids_of("north") + ids_of("south")
    )
    assert not any(s in exported for s in ids_of("north") + names_of("north") + ids_of("george"))


def test_roles_without_a_scope_see_nothing(app: Flask, client: FlaskClient, world: World) -> None:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        add_user(db, "r-nowhere", "researcher")
        add_user(db, "rev", "reviewer")
    login(client, "r-nowhere")
    page = client.get("/teach/tests/t-spring").get_data(as_text=True)
    assert not any(s in page for s in world.keys.values())
    assert client.get("/manage/tests/t-spring/sessions.csv").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "rev")
    assert client.get("/teach/").status_code == 403
    assert client.get("/manage/tests/t-spring/summary").status_code == 403
    assert client.get("/manage/").status_code == 403
