"""Issue 16 in a browser: a teacher follows the link on her tests page to the coding page, sees
only her class's answers and codes one; the print page warns of a booklet longer than its design
states.  Screenshots in /tmp/b16_shots."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from itembank.delivery.models import Response
from itembank.paper import printed
from itembank.paper.booklet_set import approved_units
from itembank.paper.design import make_design
from tests.browser import launch_chromium

from ..itembank.research.test_coding import OPEN, PASSWORD, set_share
from .test_research_coding import ANSWER_OF
from .test_research_coding import classes_app as classes_app  # noqa: F401  (the fixture)

SHOTS = Path("/tmp/b16_shots")


def test_a_teacher_codes_from_her_tests_page(app: Flask, classes_app: dict[str, int],  # noqa: F811
                                             session_factory: sessionmaker[Session],
                                             database_url: str) -> None:
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    set_share(session_factory, 0.0)
    with session_factory() as s, s.begin():
        bank = approved_units(s)
        design = make_design(bank.units[:4], 4, 2)
        design.minutes = 5.0
        number = printed.freeze(s, design, bank).id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    SHOTS.mkdir(exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-TW")
            page.goto(f"{base}/auth/login")
            page.fill("#username", "tom")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.goto(f"{base}/teach/")
            page.screenshot(path=str(SHOTS / "1-teach-index.png"), full_page=True)
            page.click("text=有 2 份開放式作答等待評分")
            page.wait_for_selector("h1:has-text('開放式作答評分')")
            assert page.locator("input[name=share]").count() == 0
            page.screenshot(path=str(SHOTS / "2-teacher-overview.png"), full_page=True)
            page.click(f"a:has-text('{OPEN}')")
            page.wait_for_selector("#guide-h")
            answer = page.locator(".student-answer").inner_text().strip()
            assert answer in (ANSWER_OF["7A"], ANSWER_OF["own"])
            page.screenshot(path=str(SHOTS / "3-teacher-codes.png"), full_page=True)
            page.check("input[name=code][value='2']")
            page.click("button.primary")
            page.wait_for_selector("text=已儲存評分")
            page.goto(f"{base}/print/?language=zh-TW&printed={number}")
            page.wait_for_selector(".time-warnings")
            page.screenshot(path=str(SHOTS / "4-print-time-warning.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    with session_factory() as s:
        scored = [r for r in s.scalars(select(Response).where(Response.item_id == OPEN)) if r.score == 2]
    assert len(scored) == 1 and scored[0].id in (classes_app["7A"], classes_app["own"])
