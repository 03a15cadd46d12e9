"""No page is wider than a phone (390 CSS px): in Chromium, in both languages, every page a person
opens by its address (every GET route without arguments, as an admin who sees every link, plus a
student's test page and the pages of one unit, test and class), the document does not scroll
sideways.  Wide tables scroll inside their own region (``.table-wrap``), the header's links wrap
onto more lines, fieldsets and command lines shrink to the screen."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from itembank.accounts.users import create_user
from itembank.orgs.models import SchoolClass
from itembank.orgs.roster import import_roster

WIDTH = 390
PASSWORD = "a-long-password-1"
# a download, an action or a picture, not a page
NOT_PAGES = (".csv", ".json", ".yaml", ".zip", ".pdf", ".svg", ".ico", "/static/", "/api/", "/language/",
             "/media/", "/test/status", "/qti/export")


# the outermost elements that stick out on the right (what to fix)
WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(), p = e.parentElement.getBoundingClientRect();
    return r.right > window.innerWidth && p.right <= window.innerWidth;
}).slice(0, 3).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def _pages(app: Flask, extra: list[str]) -> list[str]:
    plain = sorted({r.rule for r in app.url_map.iter_rules()
                    if "GET" in r.methods and not r.arguments and not r.rule.endswith(NOT_PAGES)
                    and not any(x in r.rule for x in NOT_PAGES)})
    return plain + extra


@pytest.mark.browser
def test_no_page_scrolls_sideways_on_a_phone(app: Flask, browser, session_factory: sessionmaker[Session],  # type: ignore[no-untyped-def]
                                             database_url: str) -> None:
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    with session_factory() as s, s.begin():
        create_user(s, "ada", "admin", PASSWORD)
        import_roster(s, b"city,school,class,student_id,name,grade,language,gender\n"
                         b"tp,tp-001,8A,S001,Student One,8,zh-TW,\n", "roster.csv")
    with session_factory() as s:
        class_id = s.scalars(select(SchoolClass.id)).first()
    extra = ["/author/units/T-01", "/author/units/T-01/edit", "/teach/tests/demo-cat",
             "/manage/tests/demo-cat/summary", "/manage/tests/demo-cat/edit", f"/manage/classes/{class_id}",
             "/print/booklets/1/preview"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    too_wide: list[str] = []
    try:
        for language in ("zh-TW", "en"):
            context = browser.new_context(viewport={"width": WIDTH, "height": 844})
            context.add_cookies([{"name": "lang", "value": language, "url": base}])
            page = context.new_page()
            # a student first: the start page and the test page
            page.goto(f"{base}/")
            page.fill("[name=access_code]", "DEMO")
            page.fill("[name=student]", f"phone-{language}")
            for step in ("join", "instructions", "item"):
                if page.evaluate("document.documentElement.scrollWidth") > WIDTH:
                    too_wide.append(f"{language} student's {step} page")
                if step != "item":
                    page.click("main button[type=submit]")
                    page.wait_for_load_state()
            assert "/test" in page.url
            context.clear_cookies()
            context.add_cookies([{"name": "lang", "value": language, "url": base}])
            page.goto(f"{base}/auth/login")
            page.fill("#username", "ada")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state()
            for url in _pages(app, extra):
                reply = page.goto(base + url)
                assert reply is not None and reply.status < 500, url
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > WIDTH:
                    too_wide.append(f"{language} {url}: {width} px, {page.evaluate(WIDEST)}")
            context.close()
    finally:
        server.shutdown()
    assert too_wide == []
