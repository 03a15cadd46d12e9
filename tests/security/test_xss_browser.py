"""Hostile author content is inert: a unit whose stimulus, prompt and options hold
``<script>alert(1)</script>``, ``<img src=x onerror=...>`` and a ``javascript:`` link is imported
and delivered to a student in headless Chromium; no dialog opens, no script runs, and the page
holds no script element, no event-handler attribute and no javascript: URL.  Screenshot:
/tmp/security-shots/xss-item.png."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from werkzeug.serving import make_server

from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.sessions import create_test
from itembank.migrate import upgrade
from webapp import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/security-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
HOSTILE = (
    "Read this. <script>alert(1)</script> <img src=x onerror=\"alert('img')\"> "
    "[a link](javascript:alert('link')) <a href=\"javascript:alert('a')\">click</a> "
    "<svg onload=\"alert('svg')\"></svg> <iframe src=\"javascript:alert('f')\"></iframe>"
)


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("xss")
    bank = folder / "units"
    shutil.copytree(UNITS, bank)
    unit_file = bank / "T-01.yaml"
    unit = yaml.safe_load(unit_file.read_text("utf-8"))
    for block in unit["stimulus"]:
        if block["type"] == "text":
            block["text"] = {"zh-TW": HOSTILE, "en": HOSTILE}
    item = unit["items"][0]
    item["prompt"] = {"zh-TW": HOSTILE, "en": HOSTILE}
    for option in item.get("options", []):
        option["text"] = {"zh-TW": "<b onmouseover=alert(2)>x</b>", "en": "<script>alert(3)</script>"}
    unit_file.write_text(yaml.safe_dump(unit, allow_unicode=True), "utf-8")
    engine = make_engine(f"sqlite:///{folder / 'xss.sqlite3'}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        import_paths(session, [bank])
        create_test(session, id="xss", title={"zh-TW": "XSS", "en": "XSS"}, access_code="XSS",
                    kind="fixed", items=[item["id"]])
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "xss-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.dispose()


def test_hostile_stimulus_is_delivered_inert(live_url: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live_url}/?test=xss")
        page.fill("#access_code", "XSS")
        page.fill("#student", "xss-student")
        page.check("input[name=language][value=en]")
        page.click("main button[type=submit]")
        page.click("main button[type=submit]")  # the instructions: begin the test
        page.wait_for_selector("main")
        html = page.content()
        assert "Read this." in html  # the item's page with the hostile text is shown
        for option in page.query_selector_all("input[name=response]"):
            option.hover()
        page.mouse.move(10, 10)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "xss-item.png"), full_page=True)
        found = page.evaluate("""() => ({
            scripts: [...document.querySelectorAll('script')].filter(s => !s.src).length,
            handlers: [...document.querySelectorAll('*')].flatMap(e =>
                [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
            jsUrls: [...document.querySelectorAll('[href],[src]')].map(e =>
                e.getAttribute('href') || e.getAttribute('src')).filter(u => /^\\s*javascript:/i.test(u)),
            frames: document.querySelectorAll('iframe, object, embed').length,
        })""")
        browser.close()
    assert dialogs == []
    assert found == {"scripts": 0, "handlers": [], "jsUrls": [], "frames": 0}
