"""Students take the demo test in the web pages: join, instructions, every item saved by a plain
form POST with a CSRF token, reload and re-join resume, the result page in their language."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from .conftest import csrf_token


def join(client: FlaskClient, student: str = "W-001", language: str = "en", **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code == 200
    return client.post(
        "/",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "access_code": "demo",
            "student": student,
            "language": language,
            **extra,
        },
    )


def current_item(html: str) -> tuple[str, str]:
    item = re.search(r'name="item" value="([^"]+)"', html)
    assert item, html[:2000]
    response_id = re.search(r'name="response_id" value="([^"]+)"', html)
    assert response_id
    return item.group(1), response_id.group(1)


def form_answer(html: str) -> dict[str, str | list[str]]:
    """Choose the first option of every group on the page, or type a text answer."""
    data: dict[str, str | list[str]] = {}
    for name, value in re.findall(
        r'type="(?:radio|checkbox)" id="[^"]+" name="([^"]+)" value="([^"]+)"', html
    ):
        data.setdefault(name, value)
    if 'name="response"' in html and "response" not in data:
        data["response"] = "Everyone should have a say."
    return data


def test_join_answer_everything_and_see_the_result(app: Flask, client: FlaskClient) -> None:
    reply = join(client)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/test")
    page = client.get("/test").get_data(as_text=True)
    assert "Before you begin" in page and 'lang="en"' in page
    reply = client.post("/test/start", data={"csrf_token": csrf_token(page)})
    assert reply.status_code == 302
    answered = answer_everything(client)
    done = client.get("/test/done").get_data(as_text=True)
    assert "You have finished the test" in done
    assert f"You answered {answered} questions. Everything you submitted is saved." in done
    assert "without an answer" not in done
    assert re.search(r"Score: <strong>\d+</strong>", done)
    assert "Level" in done


def answer_everything(client: FlaskClient, question: str = "Question") -> int:
    """Answer every item of the joined session through the form; returns how many."""
    answered = 0
    for _ in range(40):
        reply = client.get("/test")
        if reply.status_code == 302:
            assert reply.headers["Location"].endswith("/test/done")
            break
        html = reply.get_data(as_text=True)
        item, response_id = current_item(html)
        assert f"{question} {answered + 1}" in html
        data = {
            "csrf_token": csrf_token(html),
            "item": item,
            "response_id": response_id,
            **form_answer(html),
        }
        posted = client.post("/test/answer", data=data)
        assert posted.status_code == 302, posted.get_data(as_text=True)[:3000]
        answered += 1
        # the same form sent twice (double click, resend after a lost connection) is saved once
        again = client.post("/test/answer", data=data)
        assert again.status_code == 302
    return answered


def test_a_page_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    reply = client.post("/", data={"access_code": "DEMO", "student": "x", "language": "en"})
    assert reply.status_code == 400
    assert "Traceback" not in reply.get_data(as_text=True)


def test_reload_and_rejoin_resume_at_the_same_item(app: Flask, client: FlaskClient) -> None:
    join(client, "W-resume")
    page = client.get("/test").get_data(as_text=True)
    client.post("/test/start", data={"csrf_token": csrf_token(page)})
    html = client.get("/test").get_data(as_text=True)
    item, response_id = current_item(html)
    client.post(
        "/test/answer",
        data={
            "csrf_token": csrf_token(html),
            "item": item,
            "response_id": response_id,
            **form_answer(html),
        },
    )
    second = current_item(client.get("/test").get_data(as_text=True))[0]
    assert current_item(client.get("/test").get_data(as_text=True))[0] == second  # reload
    # another browser (the cookie is lost): the student id alone is not enough ...
    other = app.test_client()
    refused = join(other, "W-resume")
    assert refused.status_code == 409 and "resume code" in refused.get_data(as_text=True)
    assert other.get("/test").status_code == 302  # no session in this browser
    # ... with the resume code shown on the student's page it resumes
    code = re.search(r'class="resume-code">Resume code: ([A-Z0-9]+)<', html)
    assert code, html[:3000]
    join(other, "w-resume ", resume_code=code.group(1))
    resumed = other.get("/test")
    assert resumed.status_code == 200
    assert current_item(resumed.get_data(as_text=True))[0] == second


def test_a_missing_choice_is_asked_for_again(client: FlaskClient) -> None:
    join(client, "W-empty")
    page = client.get("/test").get_data(as_text=True)
    client.post("/test/start", data={"csrf_token": csrf_token(page)})
    for _ in range(30):
        html = client.get("/test").get_data(as_text=True)
        item, response_id = current_item(html)
        data = {"csrf_token": csrf_token(html), "item": item, "response_id": response_id}
        if 'type="radio"' in html:
            reply = client.post("/test/answer", data=data)
            assert reply.status_code == 422
            body = reply.get_data(as_text=True)
            assert 'role="alert"' in body and current_item(body)[0] == item
            return
        client.post("/test/answer", data={**data, **form_answer(html)})
    raise AssertionError("no choice item met")


def test_the_pages_are_in_traditional_chinese_by_default(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in page
    assert "存取碼" in page or "代碼" in page
    english = client.get("/language/en?next=/", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in english and "Access code" in english
    # the choice is remembered
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_zh_session_shows_chinese_items_and_result(client: FlaskClient) -> None:
    join(client, "W-zh", language="zh-TW")
    page = client.get("/test").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in page
    client.post("/test/start", data={"csrf_token": csrf_token(page)})
    html = client.get("/test").get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", html)
    assert "儲存" in html
    answered = answer_everything(client, question="第")
    done = client.get("/test/done").get_data(as_text=True)
    assert f"你回答了 {answered} 題。你送出的答案都已儲存。" in done  # no space after a 。


def test_media_and_unknown_pages(client: FlaskClient) -> None:
    assert client.get("/media/" + "0" * 64).status_code == 404
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "<html" in missing.get_data(as_text=True)


def test_only_a_request_that_changes_the_session_sends_its_cookie(client: FlaskClient) -> None:
    """A stylesheet, an image or the page script's status check answered after "Begin" must not
    put the session from before it back: a response sends the cookie only when it changed it
    (it happened: a student clicked Begin and was shown the instructions again)."""
    join(client)
    page = client.get("/test").get_data(as_text=True)
    before = client.get_cookie("session")
    assert before is not None
    started = client.post("/test/start", data={"csrf_token": csrf_token(page)})
    assert started.headers.getlist("Set-Cookie"), "Begin changes the session"
    item = client.get("/test")
    html = item.get_data(as_text=True)
    item_id, _ = current_item(html)
    media = re.search(r'src="(/media/[0-9a-f]{64})"', html)
    quiet = [item, client.get("/test/status"), client.get("/static/test.js"), client.get("/static/style.css"),
             client.post("/test/draft", data={"csrf_token": csrf_token(html), "item": item_id, "type": "open"})]
    if media:
        quiet.append(client.get(media.group(1)))
    for reply in quiet:
        assert reply.status_code < 400, reply.request.path
        assert reply.headers.getlist("Set-Cookie") == [], reply.request.path
    # the stale cookie a slow request would have sent back is not the one the browser keeps
    assert client.get_cookie("session").value != before.value
    assert "Before you begin" not in client.get("/test").get_data(as_text=True)
