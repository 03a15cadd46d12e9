"""Rosters as schools have them (gender codes, the column list, template CSVs, problems in the
reader's language), login cards and a new password for one student, and a test's life on the
manage pages (edit, CAT settings, close, reopen, archive) with the rules of the CLI."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.accounts.models import User
from itembank.delivery.models import Test, TestSession
from itembank.orgs.models import Student
from itembank.orgs.student_passwords import card_password

from .conftest import csrf_token
from .test_scope import build_world, class_of, login


def db_of(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["itembank_sessionmaker"]()


def upload(client: FlaskClient, text: str, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/manage/roster").get_data(as_text=True)
    return client.post("/manage/roster", data={"csrf_token": csrf_token(page), **extra,
                                               "roster": (io.BytesIO(text.encode()), "R.csv")},
                       content_type="multipart/form-data")  # fmt: skip


HEADER = "city,school,class,student_id,name,grade,language,gender\n"


def test_the_upload_page_lists_columns_offers_templates_and_speaks_the_readers_language(
    app: Flask, client: FlaskClient
) -> None:
    build_world(app)
    login(client, "sa-north")
    page = client.get("/manage/roster").get_data(as_text=True)
    assert "男" in page and "student_id" in page and "/manage/roster/template-en.csv" in page
    for language, example in (("zh-TW", "王小明"), ("en", "Amy Lin")):
        reply = client.get(f"/manage/roster/template-{language}.csv")
        text = reply.get_data().decode("utf-8-sig")
        assert reply.status_code == 200 and text.startswith(HEADER.strip()) and example in text
    assert client.get("/manage/roster/template-fr.csv").status_code == 404
    bad = HEADER + "taipei,north,801,nx-1,A,13,en,robot\n"
    client.set_cookie("lang", "zh_Hant_TW")
    page = upload(client, bad).get_data(as_text=True)
    assert "R.csv:2:6: 第 2 列，第 6 欄" in page and "年級" in page
    client.set_cookie("lang", "en")
    page = upload(client, bad).get_data(as_text=True)
    assert "R.csv:2:8: row 2, column 8: Gender “robot”" in page
    reply = upload(client, HEADER + "taipei,north,801,nx-1,A,8,en,F\ntaipei,north,801,nx-2,B,8,en,男\n",
                   passwords="y")
    assert reply.status_code == 302
    with db_of(app) as db:
        rows = {s.student_id: s for s in db.scalars(select(Student).where(Student.student_id.like("nx-%")))}
        assert rows["nx-1"].gender == "female" and rows["nx-2"].gender == "male"
        assert all(card_password(s) for s in rows.values())


def test_login_cards_and_a_new_password_for_one_student(app: Flask, client: FlaskClient) -> None:
    build_world(app)
    with db_of(app) as db:
        klass = class_of(db, "north", "801").id
        other = class_of(db, "south", "801").id
        student = db.scalars(select(Student).where(Student.class_id == klass)).first()
        assert student is not None and student.password_hash is None
        student_id = student.id
    login(client, "t-north")
    page = client.get(f"/manage/classes/{klass}").get_data(as_text=True)
    assert "Print login cards" in page or "登入卡" in page
    reply = client.post(f"/manage/classes/{klass}/cards",
                        data={"csrf_token": csrf_token(page), "test": "t-spring", "language": "en"})
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert reply.get_data().startswith(b"%PDF")
    with db_of(app) as db:
        first = card_password(db.get(Student, student_id))
        assert first is not None
    assert client.post(f"/manage/classes/{klass}/cards", data={"test": ""}).status_code == 400
    assert client.post(f"/manage/classes/{other}/cards",
                       data={"csrf_token": csrf_token(page), "test": ""}).status_code == 404
    reply = client.post(f"/manage/students/{student_id}/password",
                        data={"csrf_token": csrf_token(page)})
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    with db_of(app) as db:
        second = card_password(db.get(Student, student_id))
    assert second is not None and second != first and second in text
    assert client.post(f"/manage/students/{student_id}/password", data={}).status_code == 400


def _edit(client: FlaskClient, test_id: str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/manage/tests/{test_id}/edit").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "title_zh": "春", "title_en": "Spring",
            "access_code": "SPRING-ONE", "attempts": "1", "time_limit": "40", "show_score": "y",
            "stop_se": "0.3", "min_items": "5", "max_items": "25", "exposure": "randomesque",
            "exposure_k": "3"}
    data.update(fields)
    return client.post(f"/manage/tests/{test_id}/edit", data=data)


def test_a_test_and_its_cat_settings_are_edited_closed_and_archived_like_the_cli(
    app: Flask, client: FlaskClient
) -> None:
    world = build_world(app)
    with db_of(app) as db, db.begin():
        test = db.get(Test, "t-spring")
        test.owner_id = db.scalars(select(User.id).where(User.username == "t-north")).one()
        db.add(Test(id="fresh", title={"zh-TW": "新", "en": "New"}, kind="adaptive",
                    access_code="FRESH-1", code_key="FRESH1", cat_config={}, status="open",
                    owner_id=test.owner_id, max_attempts=1))
    login(client, "t-north")
    assert client.get("/manage/tests/demo-cat/edit").status_code == 404  # not theirs
    other = app.test_client()
    login(other, "t-south")
    assert other.get("/manage/tests/fresh/edit").status_code == 404

    reply = _edit(client, "fresh", access_code="FRESH-2", max_items="25", target_take_action="0.5")
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with db_of(app) as db:
        fresh = db.get(Test, "fresh")
        assert fresh.access_code == "FRESH-2" and fresh.time_limit_minutes == 40
        assert fresh.cat_config["stopping"] == {"se": 0.3, "min_items": 5, "max_items": 25}
        assert fresh.cat_config["exposure"] == {"method": "randomesque", "k": 3}
        assert fresh.cat_config["content"]["dimension"] == {"take_action": 0.5}
    taken = _edit(client, "fresh", access_code="spring")  # t-spring holds SPRING
    assert taken.status_code == 422 and "t-spring" in taken.get_data(as_text=True)

    # t-spring has sessions: only window, time and attempts change
    assert world.sessions
    page = client.get("/manage/tests/t-spring/edit").get_data(as_text=True)
    assert 'disabled' in page
    reply = _edit(client, "t-spring", attempts="2", time_limit="50", title_en="Renamed",
                  access_code="OTHER-CODE")
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with db_of(app) as db:
        spring = db.get(Test, "t-spring")
        assert spring.max_attempts == 2 and spring.time_limit_minutes == 50
        assert spring.title["en"] == "Spring" and spring.access_code == "SPRING"

    def status(value: str):  # type: ignore[no-untyped-def]
        page = client.get("/manage/tests/fresh/edit").get_data(as_text=True)
        return client.post("/manage/tests/fresh/status",
                           data={"csrf_token": csrf_token(page), "status": value, "reason": "why"})

    assert status("closed").status_code == 302
    with db_of(app) as db:
        assert db.get(Test, "fresh").status == "closed"
    assert status("archived").status_code == 302
    with db_of(app) as db:
        assert db.get(Test, "fresh").code_key is None
    assert status("open").status_code == 302
    with db_of(app) as db:
        assert db.get(Test, "fresh").status == "open" and db.get(Test, "fresh").code_key == "FRESH2"
    assert client.post("/manage/tests/fresh/status", data={"status": "closed"}).status_code == 400
    assert other.post("/manage/tests/fresh/status", data={"status": "closed"}).status_code in (400, 404)
    with db_of(app) as db:
        assert db.scalar(select(TestSession.id).where(TestSession.test_id == "fresh")) is None


def test_settings_the_service_refuses_are_named_in_the_readers_language(
    app: Flask, client: FlaskClient
) -> None:
    # The delivery layer's refusal (a window that closes before it opens, a CAT setting the engine
    # refuses) reaches the page in the reader's language, never as the service's English.
    build_world(app)
    with db_of(app) as db, db.begin():
        owner = db.scalars(select(User.id).where(User.username == "t-north")).one()
        db.add(Test(id="fresh", title={"zh-TW": "新", "en": "New"}, kind="adaptive",
                    access_code="FRESH-1", code_key="FRESH1", cat_config={}, status="open",
                    owner_id=owner, max_attempts=1))
    login(client, "t-north")
    window = {"access_code": "FRESH-1", "opens_at": "2027-03-02T09:00",
              "closes_at": "2027-03-01T09:00"}
    client.set_cookie("lang", "zh_Hant_TW")
    text = _edit(client, "fresh", **window).get_data(as_text=True)
    assert "結束時間必須晚於開始時間。" in text
    assert "the test must close after it opens" not in text
    assert "cannot be saved" not in text
    client.set_cookie("lang", "en")
    reply = _edit(client, "fresh", **window)
    assert reply.status_code == 422
    assert "The test must close after it opens." in reply.get_data(as_text=True)
    with db_of(app) as db:
        assert db.get(Test, "fresh").closes_at is None  # nothing was saved
