"""The questionnaire after a test, in the web pages and the JSON API, on SQLite and PostgreSQL:
after the last item the student gets one page per scale in the session's language, may leave
statements blank, goes back and on, and then sees the result; API clients get the same section
as a documented step, and clients that do not know it see the same status and items as before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.bank.importer import import_paths
from itembank.delivery import sessions as delivery
from itembank.delivery.models import QuestionnaireAnswer, TestSession
from itembank.demo import create_demo_content
from webapp.database import get_db

from .conftest import csrf_token, good_response

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ["T-03-Q2", "T-01-Q1", "T-01-Q3"]


@pytest.fixture
def qapp(app: Flask) -> Flask:
    with app.app_context():
        db = get_db()
        with db.begin():
            import_paths(db, [ROOT / "items" / "questionnaires"])
            create_demo_content(db)
            delivery.create_test(
                db, id="fixed-q", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIXQ12",
                kind="fixed", items=ITEMS, questionnaire_id="GCQ-DEMO", time_limit_minutes=30,
            )  # fmt: skip
            delivery.create_test(db, id="plain", title={"zh-TW": "p", "en": "p"},
                                 access_code="PLAIN1", kind="fixed", items=ITEMS)
    return app


def finish_items(client: FlaskClient, language: str = "en", student: str = "Q-1") -> None:
    page = client.get("/").get_data(as_text=True)
    reply = client.post("/", data={"csrf_token": csrf_token(page), "access_code": "FIXQ12",
                                   "student": student, "language": language})
    assert reply.status_code == 302
    page = client.get("/test").get_data(as_text=True)
    client.post("/test/start", data={"csrf_token": csrf_token(page)})
    for _ in ITEMS:
        html = client.get("/test").get_data(as_text=True)
        item = re.search(r'name="item" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        rid = re.search(r'name="response_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        data: dict[str, str] = {"csrf_token": csrf_token(html), "item": item, "response_id": rid}
        for name, value in re.findall(r'type="(?:radio|checkbox)" id="[^"]+" name="([^"]+)" value="([^"]+)"', html):
            data.setdefault(name, value)
        data.setdefault("response", "An answer.")
        assert client.post("/test/answer", data=data).status_code == 302


def page_items(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'name="q-([A-Z0-9-]+)"', html)))


def test_the_pages_after_the_last_item(qapp: Flask, client: FlaskClient) -> None:
    finish_items(client)
    reply = client.get("/test")
    assert reply.headers["Location"].endswith("/test/done")
    reply = client.get("/test/done")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/test/questionnaire")
    html = client.get("/test/questionnaire").get_data(as_text=True)
    assert "Questionnaire: page 1 of 7" in html and "There are no right or wrong answers" in html
    assert "This questionnaire asks what you think" in html  # the introduction, first page only
    assert "How much do you agree" in html and "Strongly disagree" in html
    assert "reverse" not in html and "awareness_of_global_issues" not in html
    first = page_items(html)
    assert len(first) == 5 and html.count("<fieldset") == 5
    # no CSRF token: refused, nothing stored
    assert client.post("/test/questionnaire", data={"page": "1", f"q-{first[0]}": "2"}).status_code == 400
    # a category the scale does not have: the page again, nothing stored
    bad = client.post("/test/questionnaire", data={"csrf_token": csrf_token(html), "page": "1",
                                                   f"q-{first[0]}": "9", "go": "next"})
    assert bad.status_code == 422 and "could not be saved" in bad.get_data(as_text=True)
    with qapp.app_context():
        assert get_db().scalars(select(QuestionnaireAnswer)).all() == []
    reply = client.post("/test/questionnaire", data={"csrf_token": csrf_token(html), "page": "1",
                                                     f"q-{first[0]}": "3", f"q-{first[2]}": "0",
                                                     "go": "next"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("page=2")
    html = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "page 2 of 7" in html and "How often" in html and "This questionnaire asks" not in html
    second = page_items(html)
    reply = client.post("/test/questionnaire", data={"csrf_token": csrf_token(html), "page": "2",
                                                     f"q-{second[0]}": "1", "go": "back"})
    assert reply.headers["Location"].endswith("page=1")
    html = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'name="q-{first[0]}" value="3"\s+checked', html)
    assert not re.search(rf'name="q-{first[1]}" value="\d"\s+checked', html)
    # a page further than the student got shows the current one
    assert "page 3 of 7" in client.get("/test/questionnaire?page=6").get_data(as_text=True)
    for number in range(1, 8):
        html = client.get(f"/test/questionnaire?page={number}").get_data(as_text=True)
        data = {"csrf_token": csrf_token(html), "page": str(number), "go": "next"}
        # what the browser sends: the choices shown checked, and on later pages some more
        data.update({f"q-{i}": v for i, v in re.findall(r'name="q-([A-Z0-9-]+)" value="(\d)"\s+checked', html)})
        if number > 2:
            data.update({f"q-{i}": "1" for i in page_items(html)})
        reply = client.post("/test/questionnaire", data=data)
    assert reply.headers["Location"].endswith("/test/done")
    done = client.get("/test/done").get_data(as_text=True)
    assert "Thank you for answering the questionnaire." in done and "You have finished the test" in done
    assert client.get("/test/questionnaire").headers["Location"].endswith("/test/done")
    with qapp.app_context():
        rows = {r.item_id: r.category for r in get_db().scalars(select(QuestionnaireAnswer))}
    assert len(rows) == 35 and rows[first[0]] == 3 and rows[first[1]] is None
    assert rows[second[0]] == 1 and rows[second[1]] is None  # page 2 kept through back and on


def test_the_questionnaire_in_traditional_chinese(qapp: Flask, client: FlaskClient) -> None:
    finish_items(client, "zh-TW", "Q-2")
    html = client.get("/test/questionnaire").get_data(as_text=True)
    assert 'lang="zh-Hant-TW"' in html and "非常不同意" in html and "你對下列敘述的同意程度如何？" in html
    assert "Strongly" not in html and "There are no right" not in html
    assert "問卷：第 1 頁，共 7 頁" in html and "沒有對錯" in html


def api_finish(client: FlaskClient, test: str, code: str, student: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    started = client.post("/api/v1/sessions", json={"test": test, "access_code": code,
                                                    "student": student, "language": "en"})
    body = started.get_json()
    sid, headers = body["session"], {"Authorization": f"Bearer {body['token']}"}
    item = body["item"]
    n = 0
    while item is not None:
        n += 1
        body = client.post(f"/api/v1/sessions/{sid}/responses", headers=headers,
                           json={"item": item["id"], "response": good_response(item),
                                 "response_id": f"r{n}"}).get_json()
        item = body["item"]
    return sid, headers, body


def test_the_api_step(qapp: Flask, client: FlaskClient) -> None:
    started = client.post("/api/v1/sessions", json={"test": "fixed-q", "access_code": "FIXQ12",
                                                    "student": "A-0", "language": "en"}).get_json()
    assert started["questionnaire"]["status"] == "later"
    early = client.get(f"/api/v1/sessions/{started['session']}/questionnaire",
                       headers={"Authorization": f"Bearer {started['token']}"})
    assert early.status_code == 409 and early.get_json()["error"] == "questionnaire_not_yet"
    sid, headers, last = api_finish(client, "fixed-q", "FIXQ12", "A-1")
    assert last["status"] == "finished" and last["item"] is None
    step = last["questionnaire"]
    assert step == {"id": "GCQ-DEMO", "status": "pending",
                    "href": f"/api/v1/sessions/{sid}/questionnaire"}
    assert client.get(step["href"]).status_code == 401
    view = client.get(step["href"], headers=headers).get_json()
    assert view["kind"] == "questionnaire" and view["current_page"] == 1 and len(view["pages"]) == 7
    assert view["pages"][0]["categories"][3] == {"value": 3, "text": "Strongly agree"}
    for body, status in (({"answers": {"AWARE01": 7}}, 422), ({"answers": {"NOPE": 1}}, 422),
                         ({"answers": ["AWARE01"]}, 422), ({}, 422),
                         ({"answers": {}, "finish": "yes"}, 422)):
        assert client.post(step["href"], headers=headers, json=body).status_code == status
    answers = {i["id"]: 2 for p in view["pages"] for i in p["items"]}
    answers["PERSP03"] = None
    after = client.post(step["href"], headers=headers, json={"answers": answers}).get_json()
    assert after["status"] == "finished" and after["answers"]["PERSP03"] is None
    again = client.post(step["href"], headers=headers, json={"answers": {"AWARE01": 0}})
    assert again.status_code == 409 and again.get_json()["error"] == "questionnaire_finished"
    shown = client.get(f"/api/v1/sessions/{sid}", headers=headers).get_json()
    assert shown["status"] == "finished" and shown["questionnaire"]["status"] == "finished"
    with qapp.app_context():
        ts = get_db().get(TestSession, sid)
        assert ts is not None and ts.questionnaire_finished_at is not None
    # a test without a questionnaire: the bodies are as they always were
    sid2, headers2, last2 = api_finish(client, "plain", "PLAIN1", "A-2")
    assert "questionnaire" not in last2 and set(last2) == {"status", "item", "answered"}
    missing = client.get(f"/api/v1/sessions/{sid2}/questionnaire", headers=headers2)
    assert missing.status_code == 404 and missing.get_json()["error"] == "no_questionnaire"


def test_a_teacher_chooses_the_questionnaire_on_the_edit_page(qapp: Flask, client: FlaskClient) -> None:
    from itembank.accounts.models import User
    from itembank.delivery.models import Test

    from .test_manage_rosters_and_tests import _edit
    from .test_scope import build_world, login

    build_world(qapp)
    with qapp.app_context():
        db = get_db()
        with db.begin():
            owner = db.scalars(select(User.id).where(User.username == "t-north")).one()
            db.add(Test(id="fresh", title={"zh-TW": "新", "en": "New"}, kind="adaptive",
                        access_code="FRESH-1", code_key="FRESH1", cat_config={}, status="open",
                        owner_id=owner, max_attempts=1))
    login(client, "t-north")
    page = client.get("/manage/tests/fresh/edit").get_data(as_text=True)
    assert '<option value="GCQ-DEMO">GCQ-DEMO</option>' in page
    assert _edit(client, "fresh", questionnaire="NOPE").status_code == 422  # not a choice
    assert _edit(client, "fresh", questionnaire="GCQ-DEMO").status_code == 302
    with qapp.app_context():
        assert get_db().get(Test, "fresh").questionnaire_id == "GCQ-DEMO"
    assert _edit(client, "fresh", questionnaire="").status_code == 302
    with qapp.app_context():
        assert get_db().get(Test, "fresh", populate_existing=True).questionnaire_id is None


def test_researchers_download_the_answers_of_the_sessions_they_see(qapp: Flask, client: FlaskClient) -> None:
    from .test_scope import build_world, login

    build_world(qapp)
    sid, headers, _ = api_finish(client, "fixed-q", "FIXQ12", "R-1")
    href = f"/api/v1/sessions/{sid}/questionnaire"
    assert client.post(href, headers=headers, json={"answers": {"AWARE01": 3, "AWARE02": None}}).status_code == 200
    login(client, "admin")
    index = client.get("/research/").get_data(as_text=True)
    assert "/research/tests/fixed-q/questionnaire.csv" in index and "plain/questionnaire" not in index
    text = client.get("/research/tests/fixed-q/questionnaire.csv").get_data(as_text=True)
    header, row = text.splitlines()[:2]
    assert header.startswith("person_id,language,AWARE01,AWARE02,") and header.count(",") == 36
    assert row.startswith(f"{sid},en,3,,")
    yaml_text = client.get("/research/tests/fixed-q/questionnaire.yaml").get_data(as_text=True)
    assert "id: GCQ-DEMO" in yaml_text and "reverse: true" in yaml_text
    assert client.get("/research/tests/plain/questionnaire.csv").status_code == 404
    other = qapp.test_client()
    login(other, "r-penang")  # a city researcher: off-roster sessions are not theirs
    assert other.get("/research/tests/fixed-q/questionnaire.csv").status_code == 404


def test_any_answers_body_is_a_clear_error_or_recorded_never_a_500(qapp: Flask, client: FlaskClient) -> None:
    """Fuzzed bodies (hypothesis): 200 with what was sent stored, or 400/422 with nothing stored."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sid, headers, _ = api_finish(client, "fixed-q", "FIXQ12", "F-1")
    href = f"/api/v1/sessions/{sid}/questionnaire"
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 8), st.floats(allow_nan=False),
                     st.text(max_size=8))
    statement = st.one_of(st.sampled_from(["AWARE01", "ADAPT03", "PERSP05"]), st.text(max_size=10))
    body = st.one_of(
        st.dictionaries(st.sampled_from(["answers", "finish", "x"]),
                        st.one_of(leaf, st.dictionaries(statement, leaf, max_size=4),
                                  st.lists(leaf, max_size=3))),
        leaf, st.lists(leaf, max_size=3),
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body)
    def check(data: Any) -> None:
        before = client.get(href, headers=headers).get_json()
        reply = client.post(href, headers=headers, json=data)
        assert reply.status_code in (200, 400, 409, 422), (data, reply.status_code)
        after = client.get(href, headers=headers).get_json()
        if reply.status_code == 200:
            for key, value in data["answers"].items():
                assert after["answers"][key] == value
        else:
            assert after == before, data

    check()


def test_the_live_view_shows_where_each_student_is_in_the_questionnaire(qapp: Flask, client: FlaskClient) -> None:
    """A teacher watching the live view sees, for a finished session of a test with a
    questionnaire, whether the student has not started it, is in it, or is done."""
    from .test_scope import add_user, login

    with qapp.app_context():
        db = get_db()
        with db.begin():
            add_user(db, "ada", "admin")
    staff = qapp.test_client()
    login(staff, "ada")
    staff.get("/language/en")

    def step() -> str:
        html = staff.get("/teach/tests/fixed-q/live").get_data(as_text=True)
        found = re.findall(r'class="questionnaire-step">([^<]+)<', html)
        assert len(found) == 1, found
        return found[0].strip()

    finish_items(client)
    assert step() == "questionnaire not started"
    html = client.get("/test/questionnaire").get_data(as_text=True)
    assert step() == "in the questionnaire"
    for number in range(1, 8):
        html = client.get(f"/test/questionnaire?page={number}").get_data(as_text=True)
        data = {"csrf_token": csrf_token(html), "page": str(number), "go": "next"}
        data.update({f"q-{i}": "1" for i in page_items(html)})
        reply = client.post("/test/questionnaire", data=data)
    assert reply.headers["Location"].endswith("/test/done")
    assert step() == "questionnaire done"
    staff.get("/language/zh_Hant_TW")
    assert "問卷已完成" in staff.get("/teach/tests/fixed-q/live").get_data(as_text=True)
