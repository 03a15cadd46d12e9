"""The survey design pages in Chromium, in both languages: upload a data set with design columns
(BRR-Fay), its data set page, and the report with SEs, intervals and significant differences.
Screenshots in /tmp/c21a-shots."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from itembank.accounts.users import create_user
from itembank.bank.importer import import_paths

from ..conftest import REPO
from .test_research_design import _rows, _upload_csv

SHOTS = Path("/tmp/c21a-shots")


@pytest.mark.browser
def test_design_pages_in_both_languages(app, browser, session_factory: sessionmaker[Session],  # type: ignore[no-untyped-def]
                                        tmp_path: Path, database_url: str) -> None:
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    with session_factory() as s, s.begin():
        import_paths(s, [REPO / "items"])
        create_user(s, "rita", "researcher", "a-long-password-1")
    upload = tmp_path / "designed.csv"
    upload.write_bytes(_upload_csv(_rows()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    SHOTS.mkdir(exist_ok=True)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/auth/login")
        page.fill("#username", "rita")
        page.fill("#password", "a-long-password-1")
        page.click("main button[type=submit]")
        page.goto(f"{base}/research/")
        page.set_input_files("#file", str(upload))
        page.fill("#name", "sampled in schools")
        page.select_option("#upload-replicates", "brr-fay")
        page.click("form[enctype] button[type=submit]")
        page.wait_for_selector("a:has-text(\"sampled in schools\")")
        page.screenshot(path=str(SHOTS / "1-index-zh.png"), full_page=True)
        for lang in ("zh", "en"):
            if lang == "en":
                context.add_cookies([{"name": "lang", "value": "en", "url": base}])
            page.goto(f"{base}/research/datasets/1")
            page.wait_for_selector("#design-h")
            page.screenshot(path=str(SHOTS / f"2-dataset-{lang}.png"), full_page=True)
            page.goto(f"{base}/research/reports?source=dataset:1&grouping=gender")
            page.wait_for_selector("table.report-differences")
            assert page.locator(".srs-note").count() == 0
            assert page.locator(".design-note").count() == 1
            page.screenshot(path=str(SHOTS / f"3-report-{lang}.png"), full_page=True)
            page.goto(f"{base}/research/reports?source=dataset:1&grouping=school")
            page.wait_for_selector("table.report-groups")
            page.screenshot(path=str(SHOTS / f"4-report-school-{lang}.png"), full_page=True)
        narrow = context.new_page()
        narrow.set_viewport_size({"width": 390, "height": 844})
        narrow.goto(f"{base}/research/reports?source=dataset:1&grouping=gender")
        narrow.wait_for_selector("table.report-differences")
        narrow.screenshot(path=str(SHOTS / "5-report-phone-en.png"), full_page=True)
        # the content fits the phone: wide tables scroll inside their own region
        wide = narrow.evaluate("""() => [...document.querySelectorAll('main > *, main section > *')]
            .filter(e => e.getBoundingClientRect().width > 390).map(e => e.tagName)""")
        assert wide == [], wide
        context.close()
    finally:
        server.shutdown()
