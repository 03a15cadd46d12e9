"""In headless Chromium: a teacher writes a unit in both languages, a reviewer comments and
approves it, the teacher changes the Chinese text, a translator verifies the English translation,
and the reviewer approves the new version.  Screenshots go to /tmp/authoring-shots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from itembank.accounts.users import create_user
from itembank.bank.importer import import_paths
from itembank.bank.models import Unit
from itembank.db import make_engine, session_factory
from itembank.migrate import upgrade
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/authoring-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
PASSWORD = "a long password"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    path = tmp_path_factory.mktemp("authoring-browser") / "itembank.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        import_paths(session, [UNITS])
        for name, role in (("tina", "teacher"), ("rita", "reviewer"), ("tran", "translator")):
            create_user(session, name, role, PASSWORD, display_name=name.title())
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", factory
    server.shutdown()
    engine.dispose()



def sign_in(browser, base: str, username: str, locale: str = "zh_Hant_TW"):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "lang", "value": locale, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/author/")
    assert "/auth/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{base}/author/")
    return context, page


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def status_of(factory, unit_id: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        latest = session.get(Unit, unit_id).latest
        return latest.version, latest.status


def test_write_review_translate_approve(live, browser) -> None:  # type: ignore[no-untyped-def]
    base, factory = live
    # a teacher writes a unit in both languages (English interface)
    context, page = sign_in(browser, base, "tina", "en")
    shot(page, "01-bank-list")
    page.click("a[href='/author/new']")
    page.fill("#f-id", "GC-900")
    fills = {
        "#f-title-zh-TW": "夜市的塑膠袋", "#f-title-en": "Plastic bags at the night market",
        "#f-metadata-context-zh-TW": "夜市減塑", "#f-metadata-context-en": "Less plastic at the night market",
        "#f-stimulus-0-text-zh-TW": "士林夜市的攤販每天用掉**上千個**塑膠袋。",
        "#f-stimulus-0-text-en": "Stalls at Shilin night market use **thousands** of plastic bags a day.",
        "#f-items-0-prompt-zh-TW": "哪一個做法最能減少塑膠袋？",
        "#f-items-0-prompt-en": "Which step would cut plastic bags the most?",
        "#f-items-0-options-0-text-zh-TW": "自備購物袋", "#f-items-0-options-0-text-en": "Bring your own bag",
        "#f-items-0-options-1-text-zh-TW": "多拿幾個袋子", "#f-items-0-options-1-text-en": "Take more bags",
        # approval needs a rationale for every option (why a student would choose it)
        "#f-items-0-options-0-rationale-zh-TW": "正確：從源頭減少用袋。",
        "#f-items-0-options-0-rationale-en": "Right: it cuts bags at the source.",
        "#f-items-0-options-1-rationale-zh-TW": "誤以為袋子越多越方便重複使用。",
        "#f-items-0-options-1-rationale-en": "Mistakes more bags for more reuse.",
    }
    for selector, value in fills.items():
        page.fill(selector, value)
    page.check("input[name='u.items.0.key_index'][value='0']")
    page.click("button[name=action][value=preview]")
    page.wait_for_selector("#preview")
    shot(page, "02-editor-preview")
    assert page.locator("#preview .stimulus-text strong").first.inner_text() == "上千個"
    page.click(".save-bar button[name=action][value=save]")
    page.wait_for_url(f"{base}/author/units/GC-900")
    page.fill("#comment", "Ready for review")
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    shot(page, "03-unit-submitted")
    assert status_of(factory, "GC-900") == (1, "review")
    assert page.locator("text=items[GC-900-Q1]").count() == 0  # no checks on a first version
    with factory() as session:
        assert [i.item_id for i in session.get(Unit, "GC-900").latest.item_versions] == ["GC-900-Q1"]
    context.close()

    # a reviewer comments and approves it (Chinese interface)
    context, page = sign_in(browser, base, "rita")
    page.goto(f"{base}/author/units/GC-900")
    page.fill("#comment", "選項清楚，可以核可。")
    page.click("button[name=action][value=comment]")
    page.wait_for_load_state()
    page.click("button[name=action][value=approve]")
    page.wait_for_load_state()
    shot(page, "04-reviewer-approved")
    assert status_of(factory, "GC-900") == (1, "approved")
    context.close()

    # the teacher changes the Chinese question only: the English one needs verification
    context, page = sign_in(browser, base, "tina", "en")
    page.goto(f"{base}/author/units/GC-900/edit")
    page.fill("#f-items-0-prompt-zh-TW", "哪一個做法最能減少夜市的塑膠袋？")
    page.click(".save-bar button[name=action][value=save]")
    page.wait_for_url(f"{base}/author/units/GC-900")
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    shot(page, "05-teacher-changed-chinese")
    page.goto(f"{base}/author/units/GC-900/diff?a=1&b=2")
    shot(page, "06-diff")
    context.close()

    # the reviewer cannot approve yet; a translator verifies the English text
    context, page = sign_in(browser, base, "rita")
    page.goto(f"{base}/author/units/GC-900")
    page.click("button[name=action][value=approve]")
    page.wait_for_load_state()
    assert status_of(factory, "GC-900") == (2, "review")
    shot(page, "07-approval-blocked")
    context.close()
    context, page = sign_in(browser, base, "tran")
    page.goto(f"{base}/author/units/GC-900")
    shot(page, "08-translator-check")
    page.fill("input[id^=vc-]", "英文仍然正確")
    page.click(".check button[type=submit]")
    page.wait_for_load_state()
    shot(page, "09-translation-verified")
    context.close()

    context, page = sign_in(browser, base, "rita")
    page.goto(f"{base}/author/units/GC-900")
    page.click("button[name=action][value=approve]")
    page.wait_for_load_state()
    assert status_of(factory, "GC-900") == (2, "approved")
    shot(page, "10-approved-v2")
    page.goto(f"{base}/author/overview")
    shot(page, "11-overview")
    page.goto(f"{base}/author/units/GC-900/v2/preview")
    shot(page, "12-student-preview")
    page.goto(f"{base}/author/units/GC-900/v2/print?lang=zh-TW")
    shot(page, "13-print-preview")
    context.close()
