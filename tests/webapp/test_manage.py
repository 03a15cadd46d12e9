"""Tests and classes: a teacher creates a test and assigns it to their classes, a school
administrator uploads the school's roster (errors by row and column, nothing stored) and links
teachers, students of the assigned classes join and others are refused in their language, an
administrator forgets a student."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itembank.bank.models import Item
from itembank.delivery.models import Test, TestSession
from itembank.orgs.models import ClassTeacher, Student
from itembank.orgs.roster import roster_totals

from .conftest import csrf_token
from .test_scope import World, build_world, class_of, ids_of, login, name


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


ROSTER_HEADER = "city,school,class,student_id,name,grade,language,gender\n"


def db_of(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["itembank_sessionmaker"]()


def upload(client: FlaskClient, text: str, filename: str = "ROSTER.csv"):  # type: ignore[no-untyped-def]
    page = client.get("/manage/roster").get_data(as_text=True)
    return client.post("/manage/roster", data={"csrf_token": csrf_token(page),
                                               "roster": (io.BytesIO(text.encode()), filename)},
                       content_type="multipart/form-data")  # fmt: skip


def test_every_manage_route_checks_a_role(app: Flask, client: FlaskClient) -> None:
    views = {n: f for n, f in app.view_functions.items() if n.startswith("manage.")}
    assert len(views) >= 10
    assert [n for n, f in views.items() if not getattr(f, "required_roles", None)] == []
    for url in (
        "/manage/",
        "/manage/tests/new",
        "/manage/roster",
        "/manage/tests/demo-cat/summary",
    ):
        reply = client.get(url)
        assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"], url


def test_a_bad_roster_upload_names_rows_and_columns_and_stores_nothing(app: Flask, client: FlaskClient,
                                                                       world: World) -> None:  # fmt: skip
    with db_of(app) as db:
        before = roster_totals(db).as_dict()
    login(client, "sa-north")
    bad = (ROSTER_HEADER + "taipei,north,803,new-1,New One,8,zh-TW,\n"
           "taipei,north,803,new-2,New Two,8,fr,\n" "taipei,north,803,new-1,Again,8,en,\n")  # fmt: skip
    reply = upload(client, bad)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "ROSTER.csv:3:7:" in page and "ROSTER.csv:4:4:" in page
    # another school's row is refused too
    reply = upload(client, ROSTER_HEADER + "taipei,south,801,new-3,Three,8,en,\n")
    assert reply.status_code == 422 and "ROSTER.csv:2:1:" in reply.get_data(as_text=True)
    with db_of(app) as db:
        assert roster_totals(db).as_dict() == before
        assert (
            db.scalar(
                select(func.count()).select_from(Student).where(Student.student_id.like("new-%"))
            )
            == 0
        )
    reply = upload(client, ROSTER_HEADER + "taipei,north,803,new-1,New One,8,zh-TW,\n")
    assert reply.status_code == 302
    with db_of(app) as db:
        assert roster_totals(db).classes == before["classes"] + 1
    # teachers cannot upload rosters
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "t-north")
    assert client.get("/manage/roster").status_code == 403


def test_a_school_admin_links_a_teacher_to_a_class(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with db_of(app) as db:
        k802 = class_of(db, "north", "802").id
    login(client, "t-north")
    assert client.get(f"/manage/classes/{k802}").status_code == 404
    client.post(
        "/auth/logout",
        data={"csrf_token": csrf_token(client.get("/manage/").get_data(as_text=True))},
    )
    login(client, "sa-north")
    page = client.get(f"/manage/classes/{k802}").get_data(as_text=True)
    assert "t-north" in page and "t-south" not in page  # only this school's teachers are offered
    teacher_id = re.search(r'<option value="(\d+)">t-north</option>', page).group(1)  # type: ignore[union-attr]
    reply = client.post(
        f"/manage/classes/{k802}/teachers",
        data={"csrf_token": csrf_token(page), "teacher": teacher_id},
    )
    assert reply.status_code == 302
    with db_of(app) as db:
        south_teacher = db.scalars(
            select(ClassTeacher.user_id)
            .join(ClassTeacher.user)
            .where(ClassTeacher.class_id != k802)
        ).all()
    # a teacher of another school cannot be linked by posting their id
    reply = client.post(
        f"/manage/classes/{k802}/teachers",
        data={"csrf_token": csrf_token(page), "teacher": str(max(south_teacher))},
    )
    assert reply.status_code == 400
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "t-north")
    assert name("north", "802", 1) in client.get(f"/manage/classes/{k802}").get_data(as_text=True)
    assert ids_of("north", "802")[0] in client.get("/teach/tests/t-spring").get_data(as_text=True)


def new_test_form(client: FlaskClient, **fields: object):  # type: ignore[no-untyped-def]
    page = client.get("/manage/tests/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "test_id": "class-801", "title_zh": "八年一班測驗",
            "title_en": "Class 801 test", "kind": "adaptive", "access_code": "C801AB",
            "time_limit": "40", "show_score": "y"}  # fmt: skip
    data.update(fields)  # type: ignore[arg-type]
    return page, client.post("/manage/tests/new", data=data)


def test_a_teacher_creates_a_test_for_their_class_and_only_its_students_join(
    app: Flask, client: FlaskClient, world: World
) -> None:
    with db_of(app) as db:
        mine, other = class_of(db, "north", "801").id, class_of(db, "south", "801").id
    login(client, "t-north")
    page, reply = new_test_form(client, classes=str(other))
    assert reply.status_code == 422  # not the teacher's class
    assert f'value="{other}"' not in page and f'value="{mine}"' in page
    _page, reply = new_test_form(client, classes=str(mine))
    assert reply.status_code == 302
    with db_of(app) as db:
        test = db.get(Test, "class-801")
        assert test is not None and test.kind == "adaptive" and test.time_limit_minutes == 40
        assert [a.class_id for a in test.assignments] == [mine] and test.cat_config["stopping"][
            "se"
        ] == 0.35
    # the shared demo cannot be assigned by a teacher (it would close it to everyone)
    assert client.get("/manage/tests/demo-cat/assign").status_code == 404
    student = app.test_client()
    on_roster = ids_of("north", "801")[0]
    reply = student.post("/api/v1/sessions", json={"test": "class-801", "access_code": "c801ab",
                                                   "student": on_roster, "language": "zh-TW"})  # fmt: skip
    assert reply.status_code == 201
    with db_of(app) as db:
        ts = db.get(TestSession, reply.get_json()["session"])
        assert ts.class_id == mine and ts.student.student_id == on_roster
    for language, words in (("zh-TW", "學生名單"), ("en", "not on the list of students")):
        reply = student.post("/api/v1/sessions", json={"test": "class-801", "access_code": "C801AB",
                                                       "student": ids_of("south")[0], "language": language})  # fmt: skip
        assert reply.status_code == 403 and words in reply.get_json()["message"]
    # the join page says so too, in the language chosen for the test
    join = student.get("/").get_data(as_text=True)
    reply = student.post("/", data={"csrf_token": csrf_token(join), "access_code": "C801AB",
                                    "student": "nobody-7", "language": "en", "test": ""})  # fmt: skip
    assert reply.status_code == 403 and "not on the list of students" in reply.get_data(
        as_text=True
    )
    # a test with no class stays open to any student id
    reply = student.post("/api/v1/sessions", json={"test": "demo-cat", "access_code": "DEMO",
                                                   "student": "anyone-1", "language": "en"})  # fmt: skip
    assert reply.status_code == 201
    # the teacher un-assigns the class: the test is open again
    page = client.get("/manage/tests/class-801/assign").get_data(as_text=True)
    assert (
        client.post(
            "/manage/tests/class-801/assign", data={"csrf_token": csrf_token(page)}
        ).status_code
        == 302
    )
    reply = student.post("/api/v1/sessions", json={"test": "class-801", "access_code": "C801AB",
                                                   "student": "nobody-7", "language": "en"})  # fmt: skip
    assert reply.status_code == 201


def test_a_fixed_test_needs_items_that_exist(app: Flask, client: FlaskClient, world: World) -> None:
    login(client, "t-north")
    _page, reply = new_test_form(client, kind="fixed", items="")
    assert reply.status_code == 422
    client.set_cookie("lang", "en")
    _page, reply = new_test_form(client, kind="fixed", items="no-such-item")
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert "These items are not in an approved unit of the bank: no-such-item" in text
    client.set_cookie("lang", "zh_Hant_TW")  # the service's English reason never reaches the page
    _page, reply = new_test_form(client, kind="fixed", items="no-such-item")
    text = reply.get_data(as_text=True)
    assert "這些題目不在題庫已核准的題組中：no-such-item" in text and "approved unit" not in text
    with db_of(app) as db:
        ids = db.scalars(select(Item.id).order_by(Item.id).limit(2)).all()
    _page, reply = new_test_form(client, kind="fixed", items=", ".join(ids), test_id="fixed-1")
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with db_of(app) as db:
        assert db.get(Test, "fixed-1").items == list(ids)


def test_an_administrator_forgets_a_student(app: Flask, client: FlaskClient, world: World) -> None:
    target = ids_of("north", "801")[0]
    with db_of(app) as db:
        student_id = db.scalars(select(Student.id).where(Student.student_id == target)).one()
    login(client, "sa-north")
    assert client.get(f"/manage/students/{student_id}/forget").status_code == 403
    client.post(
        "/auth/logout",
        data={"csrf_token": csrf_token(client.get("/manage/").get_data(as_text=True))},
    )
    login(client, "admin")
    page = client.get(f"/manage/students/{student_id}/forget").get_data(as_text=True)
    assert name("north", "801", 1) in page
    reply = client.post(
        f"/manage/students/{student_id}/forget", data={"csrf_token": csrf_token(page)}
    )
    assert reply.status_code == 302
    with db_of(app) as db:
        student = db.get(Student, student_id)
        assert student.name is None and student.student_id.startswith("forgotten-")
        ts = db.get(TestSession, world.sessions[target])
        assert ts.student_key == world.keys[target]


def test_a_duplicate_access_code_is_refused_naming_the_holder(
    app: Flask, client: FlaskClient, world: World
) -> None:
    login(client, "t-north")
    _page, reply = new_test_form(client, access_code="demo")  # too short to be safe
    assert reply.status_code == 422
    _page, reply = new_test_form(client)
    assert reply.status_code == 302
    _page, reply = new_test_form(client, test_id="class-801-b", access_code="c801ab")
    assert reply.status_code == 422 and "class-801" in reply.get_data(as_text=True)
    _page, reply = new_test_form(client, test_id="class-801-c", access_code="")
    assert reply.status_code == 302
    with db_of(app) as db:
        generated = db.get(Test, "class-801-c").access_code
        assert len(generated) == 9 and db.get(Test, "class-801-b") is None
