"""A student finishes the demo test's items and then answers its questionnaire with the keyboard
alone, in headless Chromium, in both languages, on a phone (390×844) and a desktop (1280×800):
some statements chosen with Space, some with the arrow keys, some left blank, back and on.
Screenshots go to /tmp/itembank-screenshots/questionnaire-*.png for people to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import QuestionnaireAnswer, Test, TestSession
from itembank.demo import DEMO_TEST_ID, create_demo_content
from itembank.migrate import upgrade
from webapp import create_app

from .test_browser import answer_by_keyboard, item_type, submit, tab_to

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/itembank-screenshots")
ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "data" / "units"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
NEXT = {"Next page", "下一頁", "Finish the questionnaire", "完成問卷"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    path = tmp_path_factory.mktemp("qbrowser") / "itembank.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        import_paths(session, [UNITS, ROOT / "items" / "questionnaires"])
        create_demo_content(session)
        # the demo test, shortened: its items by keyboard are test_browser.py's (20 items, every
        # type, four devices and languages); here they only lead to the questionnaire
        demo = session.get(Test, DEMO_TEST_ID)
        demo.cat_config = {**demo.cat_config, "stopping": {"min_items": 4, "max_items": 4}}
        demo.report_min_items = 1
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", factory
    server.shutdown()
    engine.dispose()


def press_button(page, labels: set[str]) -> None:  # type: ignore[no-untyped-def]
    tab_to(page, lambda e: e["tag"] == "button" and e["text"] in labels)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("language", ["zh-TW", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_finish_the_demo_test_and_its_questionnaire_with_the_keyboard(
    browser, live, language: str, device: str
) -> None:  # type: ignore[no-untyped-def]
    url, factory = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = f"questionnaire-{device}-{language}"
    width = VIEWPORTS[device]["width"]
    context = browser.new_context(viewport=VIEWPORTS[device], locale=language)
    page = context.new_page()
    page.goto(url + "/")
    tab_to(page, lambda e: e["name"] == "access_code")
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    student = f"QB-{device}-{language}"
    page.keyboard.type(student)
    radio = tab_to(page, lambda e: e["type"] == "radio")
    if (language == "en") != radio["id"].endswith("1"):
        page.keyboard.press("ArrowDown")
    submit(page)  # join
    submit(page)  # the instructions
    for _ in range(30):  # the items, until the questionnaire comes
        if "/test/questionnaire" in page.url:
            break
        answer_by_keyboard(page, item_type(page))
    assert "/test/questionnaire" in page.url, page.url
    pages = 0
    blank_left = 0
    went_back = False
    while "/test/questionnaire" in page.url:
        pages += 1
        statements = page.locator("fieldset.likert").count()
        assert statements == 5
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        progress = page.locator("#progress-text").inner_text()
        assert ("第 " in progress) if language == "zh-TW" else ("page " in progress)
        for k in range(statements):
            tab_to(page, lambda e: e["type"] == "radio")
            if pages == 1 and k == 1:
                blank_left += 1
                continue  # left blank: Tab goes on to the next statement
            page.keyboard.press("ArrowDown" if k % 2 else "Space")
        if pages in (1, 3, 5):
            page.screenshot(path=SHOTS / f"{tag}-page{pages}.png", full_page=True)
        if pages == 2 and not went_back:  # back to page 1: its answers are still there
            went_back = True
            press_button(page, {"Previous page", "上一頁"})
            assert page.locator("input[type=radio]:checked").count() == 4
            pages = 0
            press_button(page, NEXT)
            pages = 1
            continue
        before = page.url
        if pages == 3:  # Enter on a chosen statement goes on, as the Next button does
            with page.expect_navigation():
                page.keyboard.press("Enter")
        else:
            press_button(page, NEXT)
        assert page.url != before and (pages != 3 or page.url.endswith("page=4"))
    assert pages == 7 and "/test/done" in page.url
    assert page.locator(".questionnaire-thanks").count() == 1
    assert page.locator(".score strong").inner_text().isdigit()
    page.screenshot(path=SHOTS / f"{tag}-done.png", full_page=True)
    context.close()
    with factory() as db:
        ts = db.scalars(select(TestSession).where(TestSession.student_key == student)).one()
        rows = db.scalars(select(QuestionnaireAnswer).where(QuestionnaireAnswer.session_id == ts.id)).all()
        assert len(rows) == 35 and sum(r.category is None for r in rows) == blank_left
        assert ts.questionnaire_finished_at is not None and ts.scale_score is not None
