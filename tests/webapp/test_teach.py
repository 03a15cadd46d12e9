"""Teachers log in and follow their tests' sessions live."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from itembank.accounts.models import AuditEntry, User
from itembank.delivery.models import TestAssignment, TestSession
from itembank.delivery.sessions import _aware, create_test
from itembank.orgs.models import ClassTeacher, SchoolClass
from itembank.orgs.roster import import_roster

from .conftest import csrf_token


def add_user(app: Flask, username: str, role: str) -> None:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        db.add(
            User(username=username, password_hash=generate_password_hash("pw-123456"), role=role)
        )


def login(client: FlaskClient, username: str, password: str = "pw-123456"):  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    return client.post(
        "/auth/login",
        data={"csrf_token": csrf_token(page), "username": username, "password": password},
    )


def test_teachers_see_sessions_and_results(app: Flask, client: FlaskClient) -> None:
    add_user(app, "teacher1", "teacher")
    assert client.get("/teach/").status_code == 302  # must log in
    assert login(client, "teacher1", "wrong").status_code == 200
    reply = login(client, "teacher1")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/teach/")
    student = app.test_client()
    started = student.post(
        "/api/v1/sessions",
        json={"test": "demo-cat", "access_code": "DEMO", "student": "T-42", "language": "en"},
    ).get_json()
    index = client.get("/teach/").get_data(as_text=True)
    assert "demo-cat" in index
    page = client.get("/teach/tests/demo-cat").get_data(as_text=True)
    assert "T-42" in page and 'http-equiv="refresh"' not in page and "teach.js" in page
    assert "status-started" in page
    detail = client.get(f"/teach/tests/demo-cat/sessions/{started['session']}")
    assert detail.status_code == 200
    page = client.get("/teach/").get_data(as_text=True)
    logout = client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    assert logout.status_code == 302
    assert client.get("/teach/").status_code == 302


def test_students_cannot_see_the_teacher_pages(app: Flask, client: FlaskClient) -> None:
    add_user(app, "pupil", "student")
    login(client, "pupil")
    assert client.get("/teach/").status_code == 403


ROSTER = (
    "city,school,class,student_id,name,grade,language,gender\n"
    "taipei,north,801,80101,Wang Xiaoming,8,zh-TW,M\n"
    "taipei,north,801,80102,Amy Lin,8,en,F\n"
    "taipei,north,801,80103,Not Yet Started,8,en,\n"
    "taipei,north,801,80104,<img src=x onerror=alert(1)>,8,en,\n"
    "taipei,north,802,80201,Other Class,8,zh-TW,\n"
)


def roster_world(app: Flask) -> None:
    """Class 801 (teacher t-801, owner of the test ``live``) and 802 (teacher t-802); the test is
    assigned to both; researcher r-1 has no city."""
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        import_roster(db, ROSTER.encode(), "roster.csv")
        users = {}
        for username, role in (("t-801", "teacher"), ("t-802", "teacher"), ("r-1", "researcher")):
            users[username] = User(username=username, role=role,
                                   password_hash=generate_password_hash("pw-123456"))
            db.add(users[username])
        db.flush()
        classes = {k.name: k for k in db.scalars(select(SchoolClass))}
        db.add(ClassTeacher(class_id=classes["801"].id, user_id=users["t-801"].id))
        db.add(ClassTeacher(class_id=classes["802"].id, user_id=users["t-802"].id))
        test = create_test(db, id="live", title={"zh-TW": "即時", "en": "Live"},
                           access_code="LIVE-801", time_limit_minutes=30,
                           owner_id=users["t-801"].id)
        db.flush()
        for k in classes.values():
            db.add(TestAssignment(test_id=test.id, class_id=k.id))


def start(app: Flask, student: str) -> dict:  # type: ignore[type-arg]
    reply = app.test_client().post(
        "/api/v1/sessions",
        json={"test": "live", "access_code": "live801", "student": student, "language": "en"},
    )
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()  # type: ignore[no-any-return]


def session_row(app: Flask, session_id: str) -> TestSession:
    with app.extensions["itembank_sessionmaker"]() as db:
        ts = db.get(TestSession, session_id)
        assert ts is not None
        db.expunge(ts)
        return ts


def test_the_live_view_lists_the_whole_roster_of_the_teachers_classes(
    app: Flask, client: FlaskClient
) -> None:
    roster_world(app)
    started = start(app, "80101")
    login(client, "t-801")
    _english(client)
    page = client.get("/teach/tests/live").get_data(as_text=True)
    assert "Wang Xiaoming" in page and "Amy Lin" in page and "Not Yet Started" in page
    assert "Other Class" not in page  # class 802 is another teacher's
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "not started" in page and "status-started" in page
    assert started["resume_code"] in page and "30 min" in page
    assert 'data-live-url="/teach/tests/live/live"' in page and "teach.js" in page
    assert 'http-equiv="refresh"' not in page and ">Refresh<" in page
    fragment = client.get("/teach/tests/live/live").get_data(as_text=True)
    assert "<html" not in fragment and "Wang Xiaoming" in fragment and "Other Class" not in fragment
    other = app.test_client()
    login(other, "t-802")
    page = other.get("/teach/tests/live").get_data(as_text=True)
    assert "Other Class" in page and "Wang Xiaoming" not in page


def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def _control(client: FlaskClient, session_id: str, action: str, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/teach/tests/live").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "action": action, **extra}
    return client.post(f"/teach/tests/live/sessions/{session_id}/control", data=data)


def test_a_teacher_adds_time_unlocks_ends_resets_and_grants(app: Flask, client: FlaskClient) -> None:
    roster_world(app)
    started = start(app, "80102")
    sid = started["session"]
    login(client, "t-801")
    _english(client)
    before = _aware(session_row(app, sid).deadline)
    assert before is not None
    reply = _control(client, sid, "add_time", minutes="5")
    assert reply.status_code == 302
    assert _aware(session_row(app, sid).deadline) == before + timedelta(minutes=5)
    assert "35 min" in client.get("/teach/tests/live").get_data(as_text=True)

    assert _control(client, sid, "unlock").status_code == 302
    assert session_row(app, sid).unlocked
    detail = client.get(f"/teach/tests/live/sessions/{sid}").get_data(as_text=True)
    assert "+5 min" in detail and "control" in detail and "Time left" in detail

    asked = _control(client, sid, "end")  # asked first, with a reason field
    assert asked.status_code == 200 and 'name="confirmed"' in asked.get_data(as_text=True)
    assert session_row(app, sid).status == "started"
    assert _control(client, sid, "end", confirmed="yes", reason="fire drill").status_code == 302
    ended = session_row(app, sid)
    assert ended.status == "expired"
    page = client.get("/teach/tests/live").get_data(as_text=True)
    assert "time up" in page and "Another attempt" in page

    assert _control(client, sid, "grant", confirmed="yes").status_code == 302
    assert _control(client, sid, "reset", confirmed="yes", reason="wrong student").status_code == 302
    reset = session_row(app, sid)
    assert reset.status == "started" and reset.answered == 0
    with app.extensions["itembank_sessionmaker"]() as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        reasons = [(e.detail or {}).get("reason") for e in db.scalars(select(AuditEntry))]
    for action in ("session.add_time", "session.unlock", "session.end", "session.grant_attempt",
                   "session.reset"):
        assert action in actions
    assert "fire drill" in reasons and "wrong student" in reasons


def test_actions_are_scoped_csrf_protected_and_not_for_researchers(
    app: Flask, client: FlaskClient
) -> None:
    roster_world(app)
    sid = start(app, "80101")["session"]
    login(client, "t-801")
    no_token = client.post(f"/teach/tests/live/sessions/{sid}/control", data={"action": "unlock"})
    assert no_token.status_code == 400
    assert _control(client, sid, "explode").status_code == 400
    other = app.test_client()
    login(other, "t-802")  # sees the test (class 802) but not this class-801 session
    assert _control(other, sid, "add_time", minutes="5").status_code == 404
    assert _control(other, sid, "end", confirmed="yes").status_code == 404
    assert session_row(app, sid).status == "started"
    researcher = app.test_client()
    login(researcher, "r-1")
    _english(researcher)
    page = researcher.get("/teach/tests/live").get_data(as_text=True)
    assert "+5 min" not in page
    other_detail = other.get(f"/teach/tests/live/sessions/{sid}")
    assert other_detail.status_code == 404  # not their class's session
    assert _control(researcher, sid, "unlock").status_code == 403
    assert not session_row(app, sid).unlocked
