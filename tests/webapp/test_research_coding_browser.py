"""Coding and the calibrations page in Chromium, in zh-TW: a first coder, a blind second coder, a
lead coder who resolves the disagreement, then restoring a calibration.  Screenshots in
/tmp/research-coding-shots (desktop and tablet widths)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from itembank.delivery.models import Response
from tests.browser import launch_chromium

from ..itembank.research.test_coding import OPEN, PASSWORD, set_share
from .test_research_coding import ANSWERS
from .test_research_coding import coded_app as coded_app  # noqa: F401  (the fixture)

SHOTS = Path("/tmp/research-coding-shots")


@pytest.mark.browser
def test_coding_and_calibrations_in_chinese(coded_app: Flask,  # noqa: F811
                                            session_factory: sessionmaker[Session],
                                            database_url: str) -> None:
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    set_share(session_factory, 1.0)
    server = make_server("127.0.0.1", 0, coded_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    SHOTS.mkdir(exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)

            def login(name: str, width: int = 1100) -> object:
                page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-TW")
                page.goto(f"{base}/auth/login")
                page.fill("#username", name)
                page.fill("#password", PASSWORD)
                page.click("main button[type=submit]")
                return page

            ann = login("ann")
            ann.goto(f"{base}/research/coding")
            ann.screenshot(path=str(SHOTS / "1-overview.png"), full_page=True)
            ann.click(f"a:has-text('評分'):has-text('{OPEN}')")
            ann.wait_for_selector("#guide-h")
            assert ann.locator(".student-answer").inner_text().strip() == ANSWERS[0]
            ann.screenshot(path=str(SHOTS / "2-first-coder.png"), full_page=True)
            ann.check("input[name=code][value='2']")
            ann.click("button.primary")
            ann.wait_for_selector("text=已儲存評分")

            ben = login("ben", width=820)  # a tablet
            ben.goto(f"{base}/research/coding/{OPEN}")
            ben.wait_for_selector("text=第二次評分（盲評）")
            assert ben.locator("text=第一次評分").count() == 0  # blind
            ben.screenshot(path=str(SHOTS / "3-second-coder-tablet.png"), full_page=True)
            ben.keyboard.press("Tab")
            ben.focus("input[name=code][value='1']")
            ben.keyboard.press("Space")  # keyboard operable
            assert ben.is_checked("input[name=code][value='1']")
            ben.click("button.primary")
            ben.wait_for_selector("text=已儲存評分")

            lee = login("lee")
            lee.goto(f"{base}/research/coding/{OPEN}")
            lee.wait_for_selector("text=評分不一致：由主評分者裁定")
            lee.screenshot(path=str(SHOTS / "4-lead-coder.png"), full_page=True)
            lee.check("input[name=code][value='1']")
            lee.click("button.primary")
            lee.wait_for_selector("text=已儲存評分")
            lee.goto(f"{base}/research/coding")
            lee.screenshot(path=str(SHOTS / "5-overview-after.png"), full_page=True)

            lee.goto(f"{base}/research/calibrations")
            lee.screenshot(path=str(SHOTS / "6-calibrations.png"), full_page=True)
            lee.locator("main form.inline-form button").first.click()
            lee.wait_for_selector("ol.publications li")
            lee.screenshot(path=str(SHOTS / "7-calibrations-restored.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    with session_factory() as s:
        first = s.scalars(select(Response).where(Response.item_id == OPEN)
                          .order_by(Response.id)).first()
        assert first is not None and first.score == 1
