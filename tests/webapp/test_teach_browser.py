"""In headless Chromium (a teacher's laptop and a student's tablet): the teacher prints the class's
login cards, a student signs in with the password of one card, the teacher's live list updates
itself (teach.js) and shows the student in progress, the teacher adds 5 minutes and the student's
page shows them, then the teacher ends the session and the student's page says the time is up.
Screenshots go to /tmp/teach-shots/."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from itembank.accounts.models import User
from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import TestAssignment, TestSession
from itembank.delivery.sessions import create_test
from itembank.demo import DEMO_CAT_CONFIG
from itembank.migrate import upgrade
from itembank.orgs.models import ClassTeacher, SchoolClass, Student
from itembank.orgs.roster import import_roster
from itembank.orgs.student_passwords import card_password
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/teach-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
PASSWORD = "pw-123456789"
ROSTER = (
    "city,school,class,student_id,name,grade,language,gender\n"
    "taipei,north,801,80101,王小明,8,zh-TW,男\n"
    "taipei,north,801,80102,Amy Lin,8,en,F\n"
    "taipei,north,801,80103,陳小華,8,zh-TW,\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path, int]]:
    tmp = tmp_path_factory.mktemp("teach-browser")
    engine = make_engine(f"sqlite:///{tmp / 'itembank.sqlite3'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        import_paths(db, [UNITS])
        import_roster(db, ROSTER.encode(), "roster.csv", passwords=True)
        klass = db.scalars(select(SchoolClass).where(SchoolClass.name == "801")).one()
        teacher = User(username="t-north", role="teacher", display_name="張老師", school_id=klass.school_id,
                       password_hash=generate_password_hash(PASSWORD))
        db.add(teacher)
        db.flush()
        db.add(ClassTeacher(class_id=klass.id, user_id=teacher.id))
        create_test(db, id="north-801", title={"zh-TW": "八年一班", "en": "Class 801"},
                    access_code="N801-SPRING", time_limit_minutes=30, owner_id=teacher.id,
                    cat_config_data=DEMO_CAT_CONFIG)
        db.flush()
        db.add(TestAssignment(test_id="north-801", class_id=klass.id))
        class_id = klass.id
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test", "TEACH_REFRESH_SECONDS": 2})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", factory, tmp, class_id
    server.shutdown()
    engine.dispose()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def seconds_left(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.get_attribute("#time-left", "data-seconds-left"))


def test_cards_sign_in_extra_time_and_end(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, factory, tmp, class_id = site
    teacher_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en",
                                          accept_downloads=True)
    teacher_context.add_cookies([{"name": "lang", "value": "en", "url": url}])
    teacher = teacher_context.new_page()
    teacher.goto(f"{url}/auth/login")
    teacher.fill("#username", "t-north")
    teacher.fill("#password", PASSWORD)
    teacher.click("main button[type=submit]")
    teacher.wait_for_url(lambda u: "/auth/login" not in u)

    # the teacher prints the class's login cards for the test
    teacher.goto(f"{url}/manage/classes/{class_id}")
    teacher.select_option("#test", "north-801")
    teacher.check("input[name=language][value=en]")
    shot(teacher, "01-class-cards")
    with teacher.expect_download() as download:
        teacher.click("text=Print login cards (PDF)")
    pdf = tmp / "cards.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(SHOTS / "02-cards")], check=True)
    with factory() as db:
        amy = db.scalars(select(Student).where(Student.student_id == "80102")).one()
        password = card_password(amy)
    assert password is not None and password in "".join(text.split()) and "Amy Lin" in text
    address = re.search(r"http://127\.0\.0\.1:\d+/\?test=north-801", "".join(text.split()))
    assert address, text

    # a student signs in on the card's address with the card's password
    student = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    student.goto(address.group(0))
    student.fill("#access_code", "n801-spring")
    student.fill("#student", "80102")
    student.fill("#password", password.lower())  # typed in lower case: still right
    student.check("input[value=en]")
    student.click("main button[type=submit]")
    student.click("text=Begin the test")
    assert student.locator("#time-left").count() == 1
    before = seconds_left(student)
    assert 29 * 60 <= before <= 30 * 60
    shot(student, "03-student-item")

    # the teacher's live list: the whole class, and it updates itself
    teacher.goto(f"{url}/teach/tests/north-801")
    row = teacher.locator("tr", has_text="Amy Lin")
    assert "started" in row.inner_text()
    assert "not started" in teacher.locator("tr", has_text="80103").inner_text()
    assert teacher.locator("[data-live-note]").is_visible()  # the script runs
    for name in set(student.eval_on_selector_all("input[type=radio]", "els => els.map(e => e.name)")):
        student.locator(f"input[type=radio][name='{name}']").first.check()
    boxes = student.locator("input[type=checkbox]")
    if boxes.count():
        boxes.first.check()
    if student.locator("textarea").count():
        student.fill("textarea", "People see the issue differently because of their experiences.")
    student.click("text=Save and continue")
    teacher.wait_for_function(
        "() => [...document.querySelectorAll('#live tr')].some("
        "r => r.textContent.includes('Amy Lin') && r.textContent.includes('in progress'))",
        timeout=15000,
    )  # no reload: teach.js replaced the list
    shot(teacher, "04-live-in-progress")

    # +5 minutes: the student's page shows them
    teacher.locator("tr", has_text="Amy Lin").locator("button", has_text="+5 min").click()
    assert "more minutes" in teacher.locator(".notice").first.inner_text()
    assert "35 min" in teacher.locator("tr", has_text="Amy Lin").inner_text() or \
        "34 min" in teacher.locator("tr", has_text="Amy Lin").inner_text()
    shot(teacher, "05-added-time")
    student.reload()
    after = seconds_left(student)
    assert after >= before + 4 * 60, (before, after)
    assert "3" in student.locator("#time-left").inner_text()
    shot(student, "06-student-more-time")

    # the teacher ends the session (after a confirmation with a reason)
    teacher.locator("tr", has_text="Amy Lin").locator("button", has_text="End").click()
    teacher.fill("#reason", "fire drill")
    shot(teacher, "07-confirm-end")
    teacher.click("button:has-text('End the session')")
    assert "time up" in teacher.locator("tr", has_text="Amy Lin").inner_text()
    shot(teacher, "08-ended")
    student.reload()
    assert "/test/done" in student.url
    assert "time for this test is up" in student.content()
    shot(student, "09-student-time-up")
    with factory() as db:
        ts = db.scalars(select(TestSession).where(TestSession.test_id == "north-801")).one()
        assert ts.status == "expired" and ts.answered == 1
