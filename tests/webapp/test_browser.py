"""A student takes the demo test end to end in headless Chromium with the keyboard alone (Tab,
Space, Enter, arrow keys), in both languages, on a tablet (1024×768) and a phone (390×844).
Screenshots go to /tmp/itembank-screenshots/ for people to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.demo import create_demo_content
from itembank.migrate import upgrade
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/itembank-screenshots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
VIEWPORTS = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("browser") / "itembank.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        import_paths(session, [UNITS])
        create_demo_content(session)
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.dispose()



def focused(page) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => { const e = document.activeElement;
          return {tag: e.tagName.toLowerCase(), type: e.type || '', id: e.id || '',
                  name: e.name || '', text: (e.innerText || e.value || '').trim()}; }"""
    )


def tab_to(page, match, limit: int = 40) -> dict:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element satisfies ``match``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if match(element):
            return element
    raise AssertionError(f"Tab never reached the element; last focus {focused(page)}")


def submit(page) -> None:  # type: ignore[no-untyped-def]
    # the page's own button, not the reading-comfort buttons in the header
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit"
           and e["name"] not in ("size", "contrast"))
    with page.expect_navigation():
        page.keyboard.press("Enter")


def answer_by_keyboard(page, item_type: str, shot: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    if item_type in ("single_choice", "complex_choice"):
        groups = page.locator("fieldset.choices").count()
        for _ in range(groups):
            tab_to(page, lambda e: e["type"] == "radio")
            page.keyboard.press("ArrowDown")  # moves to and checks the next choice
            page.keyboard.press("Space")
    elif item_type == "multiple_choice":
        tab_to(page, lambda e: e["type"] == "checkbox")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
    else:
        tab_to(page, lambda e: e["id"] == "answer")
        page.keyboard.type("水資源要公平分配 because everyone needs water.")
    if shot is not None:  # the answer chosen, the focus on it
        page.screenshot(path=shot)
    submit(page)


def item_type(page) -> str:  # type: ignore[no-untyped-def]
    if page.locator("textarea#answer").count():
        return "open_response"
    if page.locator("input#answer").count():
        return "short_response"
    if page.locator("fieldset.statement").count():
        return "complex_choice"
    if page.locator("input[type=checkbox]").count():
        return "multiple_choice"
    return "single_choice"


@pytest.mark.parametrize("language", ["zh-TW", "en"])
@pytest.mark.parametrize("device", ["tablet", "phone"])
def test_take_the_demo_test_with_the_keyboard(
    browser, live_url: str, language: str, device: str
) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = f"{device}-{language}"
    context = browser.new_context(viewport=VIEWPORTS[device], locale=language)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_url + "/")
    first = tab_to(page, lambda e: e["tag"] == "a", limit=2)
    assert first["text"] in ("跳到主要內容", "Skip to main content")
    page.screenshot(path=SHOTS / f"{tag}-0-skip-link.png")
    tab_to(page, lambda e: e["name"] == "access_code")
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    page.keyboard.type(f"B-{tag}")
    radio = tab_to(page, lambda e: e["type"] == "radio")
    if (language == "en") != (radio["id"].endswith("1")):
        page.keyboard.press("ArrowDown")
    page.screenshot(path=SHOTS / f"{tag}-1-join.png")
    submit(page)
    assert page.locator("html").get_attribute("lang") == (
        "en" if language == "en" else "zh-Hant-TW"
    )
    page.screenshot(path=SHOTS / f"{tag}-2-instructions.png", full_page=True)
    submit(page)
    shown = 0
    for _ in range(30):
        if "/test/done" in page.url:
            break
        kind = item_type(page)
        if shown < 2 or kind == "complex_choice" and shown < 8:
            page.screenshot(
                path=SHOTS / f"{tag}-3-item{shown + 1}-{kind}.png", full_page=device == "phone"
            )
        shot = SHOTS / f"{tag}-3-item{shown + 1}-answered.png" if shown < 2 else None
        shown += 1
        answer_by_keyboard(page, kind, shot)
    assert "/test/done" in page.url
    assert page.locator(".score strong").inner_text().isdigit()
    page.screenshot(path=SHOTS / f"{tag}-4-done.png", full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
