"""A practice session in headless Chromium, in both languages, on a phone (390×844) and a laptop
(1280×800): the student joins, answers every item of two released units (wrong where the type
allows), and the end page shows their answers beside the keys, the rationales and the coding
guide's examples in their language.  Screenshots go to /tmp/practice-shots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from itembank.authoring.workflow import Actor, release, retire
from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.sessions import create_test
from itembank.demo import create_demo_content
from itembank.migrate import upgrade
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/practice-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
CODE = "PRACTICE7"
ITEMS = ["T-01-Q1", "T-01-Q2", "T-01-Q3", "T-01-Q4", "T-03-Q3"]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
WORDS = {  # what the review must show, per language
    "en": ("Check your answers", "Correct answer", "Why option A", "Full answer one", "Partial two"),
    "zh-TW": ("檢視你的答案", "正確答案", "選項A的理由", "完整答案一", "部分答案二"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("practice") / "itembank.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    reviewer = Actor(None, "rev", "reviewer")
    with session_factory(engine)() as db, db.begin():
        import_paths(db, [UNITS])
        create_demo_content(db)
        for unit_id in ("T-01", "T-03"):
            retire(db, unit_id, reviewer)
            release(db, unit_id, reviewer)
        create_test(db, id="practice", title={"zh-TW": "全球素養練習", "en": "Global competence practice"},
                    access_code=CODE, kind="practice", items=ITEMS, max_attempts=None, show_score=False)
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-practice"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.dispose()


def _answer(page) -> None:  # type: ignore[no-untyped-def]
    """The last option of a choice (wrong for the test units' keys), the first choice of every
    statement, a text otherwise."""
    page.wait_for_selector("#save-button")  # the item's form is there (a loaded machine is slow)
    if page.locator("fieldset.statement").count():
        for group in page.locator("fieldset.statement").all():
            group.locator("input[type=radio]").first.check()
    elif page.locator("input[name=response][type=radio], input[name=response][type=checkbox]").count():
        page.locator("input[name=response]").last.check()
    else:
        page.locator("#answer").fill("Water should be shared fairly / 水要公平分配")
    with page.expect_navigation():
        page.click("#save-button")


@pytest.mark.parametrize("device", ["phone", "laptop"])
@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_a_practice_session_ends_with_the_review(browser, live: str, language: str, device: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[device], locale=language)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live + "/")
    page.fill("#access_code", CODE)
    page.fill("#student", f"S-{device}-{language}")
    page.check(f"input[name=language][value='{language}']")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    with page.expect_navigation():
        page.click("main button[type=submit]")  # the instructions: begin
    for n in range(len(ITEMS)):
        assert "/test/done" not in page.url
        if n == 0:
            page.screenshot(path=SHOTS / f"{device}-{language}-item.png", full_page=True)
        _answer(page)
    assert "/test/done" in page.url
    page.screenshot(path=SHOTS / f"{device}-{language}-review.png", full_page=True)
    text = page.locator("main").inner_text()
    for word in WORDS[language]:
        assert word in text, word
    other = WORDS["zh-TW" if language == "en" else "en"]
    assert other[2] not in text and other[3] not in text
    assert page.locator(".review-item").count() == len(ITEMS)
    # the last option was chosen and is marked as the student's answer, beside the key
    assert page.locator(".review-options li.chosen").count() >= 2
    assert page.locator(".review-options li.correct").count() >= 2
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[device]["width"] + 1, width  # nothing runs off the side
    assert errors == []
    context.close()
