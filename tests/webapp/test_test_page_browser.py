"""The test page a student can trust, in headless Chromium: the countdown runs and warns, the
answer being typed when the time runs out is stored, three answers sent while the network is cut
are each stored exactly once, a blank answer asks once, a second device's takeover is told to the
first, and axe-core finds no serious or critical problem.  Screenshots go to
/tmp/itembank-screenshots/ for people to look at."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import Response, TestSession
from itembank.delivery.sessions import create_test, utcnow
from itembank.demo import create_demo_content
from itembank.migrate import upgrade
from tests.npm_cache import npm_package
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/itembank-screenshots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
FIXED = "PAGE-FIXED"
CODE = "PAGETEST7"
TABLE_CODE = "PAGETABLE2"  # a fixed form of one item whose stimulus has a table
# a short answer, a "select all", a complex choice, an open response, then more of each
ITEMS = ["T-01-Q3", "T-01-Q1", "T-02-Q1", "T-01-Q4", "T-03-Q1", "T-03-Q2", "T-04-Q1", "T-04-Q2"]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    path = tmp_path_factory.mktemp("test-page") / "itembank.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        import_paths(session, [UNITS])
        create_demo_content(session)
        create_test(session, id=FIXED, title={"zh-TW": "作答頁測試", "en": "Test page check"},
                    access_code=CODE, kind="fixed", items=ITEMS, time_limit_minutes=30,
                    max_attempts=None)  # fmt: skip
        create_test(session, id="PAGE-TABLE", title={"zh-TW": "表格", "en": "A table"},
                    access_code=TABLE_CODE, kind="fixed", items=["T-02-Q1"], max_attempts=None)
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test-page",
                      "TEST_PAGE_STATUS_EVERY_MS": 1000})  # fmt: skip
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", engine
    server.shutdown()
    engine.dispose()


def start(page: Any, url: str, student: str, language: str = "en", resume: str = "",
          code: str = CODE) -> None:  # fmt: skip
    page.goto(url + "/")
    page.fill("#access_code", code)
    page.fill("#student", student)
    page.check(f"input[name=language][value='{language}']")
    if resume:
        page.fill("#resume_code", resume)
    page.click("main button[type=submit]")
    if page.locator("form[action$='/test/start']").count():
        page.click("main button[type=submit]")  # the instructions: begin
    page.wait_for_selector("#answer-form")


def session_of(engine: Engine, student: str) -> TestSession:
    with session_factory(engine)() as db:
        ts = db.scalars(select(TestSession).where(TestSession.student_key == student)).one()
        db.expunge(ts)
        return ts


def responses_of(engine: Engine, student: str) -> list[Response]:
    with session_factory(engine)() as db:
        ts_id = session_of(engine, student).id
        rows = list(db.scalars(select(Response).where(Response.session_id == ts_id)
                               .order_by(Response.sequence)))  # fmt: skip
        for row in rows:
            db.expunge(row)
        return rows


def set_time_left(engine: Engine, student: str, seconds: float) -> None:
    with session_factory(engine)() as db, db.begin():
        db.execute(update(TestSession).where(TestSession.student_key == student)
                   .values(deadline=utcnow() + timedelta(seconds=seconds)))  # fmt: skip


def current_item(page: Any) -> str:
    return str(page.get_attribute("#answer-form", "data-item"))


def wait_for_next_item(page: Any, previous: str) -> None:
    page.wait_for_function(
        "prev => { const f = document.getElementById('answer-form');"
        " return (f && f.dataset.item !== prev) || location.pathname.endsWith('/done'); }",
        arg=previous, timeout=20000,
    )


def answer_something(page: Any) -> None:
    """A non-blank answer to whatever the current item is."""
    kind = page.get_attribute("#answer-form", "data-type")
    if kind in ("short_response", "open_response"):
        page.fill("#answer", "Water should be shared fairly.")
    elif kind == "complex_choice":
        for fieldset in page.locator("fieldset.statement").all():
            fieldset.locator("input[type=radio]").first.check()
    else:
        page.locator("input[name=response]").first.check()


def test_the_countdown_runs_and_warns_at_five_and_one_minutes(browser: Any, live: Any) -> None:
    url, engine = live
    context = browser.new_context(viewport=LAPTOP, locale="en")
    page = context.new_page()
    start(page, url, "P-clock")
    set_time_left(engine, "P-clock", 5 * 60 + 4)
    page.reload()
    first = page.inner_text("#time-left")
    assert first.startswith("5:0") and first.endswith("left"), first
    page.wait_for_timeout(2100)
    second = page.inner_text("#time-left")
    assert second < first, (first, second)  # "5:01 left" < "5:03 left"
    page.wait_for_selector("#time-left.warn", timeout=8000)
    page.wait_for_function("document.getElementById('time-announcer').textContent.includes('5 minutes')")
    page.screenshot(path=SHOTS / "test-page-laptop-en-warn-5.png")
    set_time_left(engine, "P-clock", 63)
    page.reload()
    page.wait_for_selector("#time-left.urgent", timeout=8000)
    page.wait_for_function("document.getElementById('time-announcer').textContent.includes('1 minute')")
    assert page.get_attribute("#time-announcer", "aria-live") == "assertive"
    context.close()


def test_the_answer_being_typed_when_the_time_runs_out_is_stored(browser: Any, live: Any) -> None:
    url, engine = live
    context = browser.new_context(viewport=PHONE, locale="zh-TW")
    page = context.new_page()
    start(page, url, "P-late", language="zh-TW")
    assert current_item(page) == "T-01-Q3"
    set_time_left(engine, "P-late", 7)
    page.reload()
    page.click("#answer")
    page.keyboard.type("水資源要公平分配", delay=60)
    page.wait_for_url("**/test/done", timeout=20000)
    assert "時間到了" in page.inner_text("h1") or "時間" in page.inner_text("h1")
    page.screenshot(path=SHOTS / "test-page-phone-zh-TW-time-up.png", full_page=True)
    stored = responses_of(engine, "P-late")
    assert [(r.item_id, r.response) for r in stored] == [("T-01-Q3", "水資源要公平分配")]
    assert session_of(engine, "P-late").status == "expired"
    context.close()


def test_three_answers_while_the_network_is_cut_are_each_stored_once(browser: Any, live: Any) -> None:
    url, engine = live
    context = browser.new_context(viewport=LAPTOP, locale="en")
    page = context.new_page()
    start(page, url, "P-offline")
    seen = []
    for round_ in range(3):
        item = current_item(page)
        seen.append(item)
        answer_something(page)
        context.set_offline(True)
        page.click("#save-button")
        page.wait_for_selector(".save-status.offline", timeout=10000)
        assert "waiting for the network" in page.inner_text("#save-status")
        if round_ == 0:
            page.screenshot(path=SHOTS / "test-page-laptop-en-offline.png")
        queued = page.evaluate("localStorage.getItem('gc-itembank-answers')")
        assert item in queued
        page.wait_for_timeout(2500)  # a retry or two fail meanwhile
        context.set_offline(False)
        wait_for_next_item(page, item)
    # the fourth answer reaches the server but its reply is lost: the resend is recorded once
    item = current_item(page)
    seen.append(item)
    lost = {"done": False}

    def drop_reply(route: Any) -> None:
        if not lost["done"]:
            lost["done"] = True
            route.fetch()  # the server records the answer ...
            route.abort("connectionreset")  # ... and the browser never hears back
        else:
            route.continue_()

    page.route("**/test/answer", drop_reply)
    answer_something(page)
    page.click("#save-button")
    wait_for_next_item(page, item)
    page.unroute("**/test/answer")
    assert lost["done"]
    stored = responses_of(engine, "P-offline")
    assert [r.item_id for r in stored] == seen  # each once, in order
    assert page.evaluate("localStorage.getItem('gc-itembank-answers')") == "[]"
    context.close()


def test_a_blank_answer_asks_once_for_every_type(browser: Any, live: Any) -> None:
    url, engine = live
    context = browser.new_context(viewport=PHONE, locale="en")
    page = context.new_page()
    start(page, url, "P-blank")
    kinds = []
    for _ in range(4):  # short answer, select all, complex choice, open response
        item = current_item(page)
        kinds.append(page.get_attribute("#answer-form", "data-type"))
        page.click("#save-button")
        page.wait_for_selector("#blank-confirm:not([hidden])")
        assert "Submit without an answer?" in page.inner_text("#blank-question")
        if len(kinds) == 1:
            page.screenshot(path=SHOTS / "test-page-phone-en-blank.png", full_page=True)
        assert current_item(page) == item  # nothing was recorded yet
        page.click("#blank-confirm button")
        wait_for_next_item(page, item)
    assert kinds == ["short_response", "multiple_choice", "complex_choice", "open_response"]
    stored = responses_of(engine, "P-blank")
    assert [r.score for r in stored] == [0, 0, 0, 0]
    # the end page counts answered and skipped items truthfully
    for _ in range(len(ITEMS) - 4):
        item = current_item(page)
        answer_something(page)
        page.click("#save-button")
        wait_for_next_item(page, item)
    page.wait_for_url("**/test/done")
    counts = page.inner_text(".answer-counts")
    assert "You answered 4 questions." in counts and "You left 4 questions without an answer." in counts
    context.close()


def test_a_second_device_takes_over_and_the_first_says_so(browser: Any, live: Any) -> None:
    url, engine = live
    laptop = browser.new_context(viewport=LAPTOP, locale="zh-TW")
    first = laptop.new_page()
    start(first, url, "P-move", language="zh-TW")
    code = first.inner_text(".resume-code").split("：")[-1].strip()
    phone = browser.new_context(viewport=PHONE, locale="zh-TW")
    second = phone.new_page()
    start(second, url, "P-move", language="zh-TW", resume=code)
    assert current_item(second) == current_item(first)
    # the first device's status check notices within a few seconds
    first.wait_for_selector("main > .notice-error", timeout=10000)
    message = first.inner_text("main > .notice-error")
    assert "另一個裝置" in message and code in message, message
    assert first.locator("#save-button").is_disabled()
    first.screenshot(path=SHOTS / "test-page-laptop-zh-TW-taken-over.png")
    # the second device goes on
    item = current_item(second)
    answer_something(second)
    second.click("#save-button")
    wait_for_next_item(second, item)
    assert [r.item_id for r in responses_of(engine, "P-move")] == [item]
    laptop.close()
    phone.close()


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_axe_finds_no_serious_problem_on_the_student_pages(
    browser: Any, live: Any, language: str
) -> None:
    url, _engine = live
    axe = (npm_package("axe-core", "4.10.3", "axe-core-4.10.3") / "axe.min.js").read_text()
    # the test injects axe-core; the app's CSP (rightly) refuses injected script otherwise
    context = browser.new_context(viewport=PHONE, locale=language, bypass_csp=True)
    page = context.new_page()

    def check(name: str) -> None:
        page.add_script_tag(content=axe)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]  # fmt: skip
        assert not bad, f"{name} ({language}): {json.dumps(bad, ensure_ascii=False)}"

    page.goto(url + "/")
    check("join")
    page.click("main button[type=submit]")  # nothing filled in: the errors
    check("join with errors")
    start(page, url, f"P-axe-{language}", language=language)
    for _ in range(4):
        check(f"item {current_item(page)}")
        item = current_item(page)
        page.click("#save-button")
        page.wait_for_selector("#blank-confirm:not([hidden])")
        check("blank question")
        page.click("#blank-confirm button")
        wait_for_next_item(page, item)
    context.close()


def test_text_size_and_contrast_persist_and_tables_say_they_scroll(browser: Any, live: Any) -> None:
    url, _engine = live
    context = browser.new_context(viewport=PHONE, locale="en")
    page = context.new_page()
    start(page, url, "P-comfort", code=TABLE_CODE)
    page.click("button[name=size]")
    page.click("button[name=contrast]")
    assert page.get_attribute("html", "class") == "text-large contrast-high"
    page.goto(url + "/test")  # kept on the next page (a cookie)
    assert page.get_attribute("html", "class") == "text-large contrast-high"
    assert page.locator("button[name=contrast]").get_attribute("aria-pressed") == "true"
    response = page.request.get(url + "/favicon.ico")
    assert response.ok and response.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    # a table narrower than its content shows that it scrolls; its caption stays outside
    page.set_viewport_size({"width": 320, "height": 700})
    page.evaluate("""() => { const w = document.querySelector('.table-wrap');
        w.querySelector('table').style.minWidth = '900px'; window.dispatchEvent(new Event('resize')); }""")
    assert page.locator(".scroll-hint").first.is_visible()
    assert "scroll sideways" in page.inner_text(".scroll-hint")
    assert page.get_attribute(".table-wrap", "tabindex") == "0"
    assert page.locator(".table-figure > figcaption, .table-wrap[aria-label]").count() == 1
    page.screenshot(path=SHOTS / "test-page-phone-en-comfort.png", full_page=True)
    context.close()


def test_the_page_without_script_still_works(browser: Any, live: Any) -> None:
    url, engine = live
    context = browser.new_context(viewport=LAPTOP, locale="en", java_script_enabled=False)
    page = context.new_page()
    start(page, url, "P-noscript")
    item = current_item(page)
    page.click("#save-button")  # blank: the server asks once
    assert page.locator("#blank-confirm").is_visible()
    page.click("#blank-confirm button")
    page.wait_for_load_state()
    assert current_item(page) != item
    assert [r.item_id for r in responses_of(engine, "P-noscript")] == [item]
    context.close()
