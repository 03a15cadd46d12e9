"""The print flow in Chromium: a teacher opens the print page, previews booklet 1 in zh-TW and
downloads the answer key.  Screenshots in /tmp/printing-shots."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.browser import launch_chromium

from .test_scope import PASSWORD, add_user

SHOTS = Path("/tmp/printing-shots")


@pytest.mark.browser
def test_a_teacher_previews_a_booklet_and_downloads_the_key(app: Flask, database_url: str, tmp_path: Path) -> None:
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        add_user(db, "tina", "teacher")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    SHOTS.mkdir(exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{base}/auth/login")
            page.fill("#username", "tina")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.click("header a:has-text('紙本題本')")
            page.check("input[name=language][value=zh-TW]")
            page.click("button:has-text('顯示設計')")
            page.screenshot(path=str(SHOTS / "1-design.png"), full_page=True)
            page.click("a:has-text('預覽第 1 本')")
            page.wait_for_selector(".print-pages img")
            assert page.locator(".print-pages img").count() == 3
            page.screenshot(path=str(SHOTS / "2-preview.png"), full_page=True)
            page.click("a:has-text('回到題本設計')")
            with page.expect_download() as info:
                page.click("a:has-text('參考答案')")
            download = info.value
            assert download.suggested_filename == "answer-key-zh-TW.pdf"
            path = tmp_path / download.suggested_filename
            download.save_as(str(path))
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
            assert "參考答案" in text
            page.goto(f"{base}/print/paper/entry?language=zh-TW&booklet=1")
            page.screenshot(path=str(SHOTS / "3-entry.png"), full_page=True)
            page.set_viewport_size({"width": 800, "height": 1100})
            page.goto(f"{base}/print/?language=zh-TW")
            page.screenshot(path=str(SHOTS / "4-design-tablet.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
