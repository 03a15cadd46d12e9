"""In headless Chromium on a tablet (1024×768): a school administrator uploads a roster (a bad one
first: the problems by row and column, nothing stored), links a teacher to class 801; the teacher
creates an adaptive test with the demo settings for class 801; a student of 801 takes it to the
end, a student of 802 is refused in their language; the teacher sees the session.  Screenshots go
to /tmp/manage-shots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from itembank.accounts.models import User
from itembank.bank.importer import import_paths
from itembank.db import make_engine, session_factory
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import TestSession
from itembank.demo import create_demo_content
from itembank.migrate import upgrade
from itembank.orgs.models import City, School, Student
from webapp import create_app

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/manage-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
PASSWORD = "pw-123456789"
GOOD = (
    "city,school,class,student_id,name,grade,language,gender\n"
    "taipei,north,801,80101,王小明,8,zh-TW,male\n"
    "taipei,north,801,80102,Amy Lin,8,en,female\n"
    "taipei,north,802,80201,陳小華,8,zh-TW,\n"
)
BAD = GOOD + "taipei,north,802,80101,重複,8,zh-TW,\ntaipei,north,802,80203,Bob,13,fr,\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object, Path]]:
    tmp = tmp_path_factory.mktemp("manage-browser")
    engine = make_engine(f"sqlite:///{tmp / 'itembank.sqlite3'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        import_paths(db, [UNITS])
        create_demo_content(db)
        city = City(code="taipei", name={"zh-TW": "臺北市", "en": "Taipei"}, kind="home")
        db.add(city)
        db.flush()
        school = School(
            city_id=city.id, code="north", name={"zh-TW": "北區國中", "en": "North Junior High"}
        )
        db.add(school)
        db.flush()
        for username, role, display in (
            ("sa-north", "school_admin", "林主任"),
            ("t-north", "teacher", "張老師"),
        ):
            db.add(User(username=username, role=role, display_name=display, school_id=school.id,
                        city_id=city.id, password_hash=generate_password_hash(PASSWORD)))  # fmt: skip
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp / "good.csv").write_text(GOOD, "utf-8")
    (tmp / "bad.csv").write_text(BAD, "utf-8")
    yield f"http://127.0.0.1:{server.server_port}", factory, tmp
    server.shutdown()
    engine.dispose()



def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser, url: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-TW")
    page = context.new_page()
    page.goto(f"{url}/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    return page


def test_roster_class_test_and_students(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, factory, tmp = site
    # the school administrator: a bad roster, then the good one
    admin = sign_in(browser, url, "sa-north")
    admin.goto(f"{url}/manage/roster")
    admin.set_input_files("#roster", str(tmp / "bad.csv"))
    admin.click("form.manage-form button[type=submit]")
    problems = admin.locator(".roster-problems li").all_inner_texts()
    assert any(p.startswith("bad.csv:5:4:") for p in problems), problems
    assert any(p.startswith("bad.csv:6:6:") for p in problems) and any(
        p.startswith("bad.csv:6:7:") for p in problems
    )
    shot(admin, "01-roster-errors")
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Student)) == 0
    admin.set_input_files("#roster", str(tmp / "good.csv"))
    admin.uncheck("#passwords")  # students join with their id alone here (cards: test_teach_browser)
    admin.click("form.manage-form button[type=submit]")
    assert "/manage/" in admin.url
    shot(admin, "02-school-classes")
    admin.click("text=801")
    admin.select_option("#teacher", label="張老師 (t-north)")
    admin.click("form.manage-link button[type=submit]")
    assert "張老師" in admin.locator(".manage-teachers").inner_text()
    assert "王小明" in admin.content()
    shot(admin, "03-class-801")

    # the teacher: a test for class 801 with the demo settings
    teacher = sign_in(browser, url, "t-north")
    teacher.goto(f"{url}/manage/tests/new")
    teacher.fill("#test_id", "north-801-spring")
    teacher.fill("#title_zh", "八年一班全球素養")
    teacher.fill("#title_en", "Class 801 global competence")
    teacher.fill("#access_code", "N801SP")
    teacher.check("text=801 · north")
    shot(teacher, "04-new-test")
    teacher.click("form.manage-form button[type=submit]")
    teacher.wait_for_url(f"{url}/manage/")  # the POST's redirect loaded, not still under way
    assert "north-801-spring" in teacher.content()
    shot(teacher, "05-teacher-index")

    # a student of 801 takes it to the end
    student = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    student.goto(url)
    student.fill("#access_code", "n801sp")
    student.fill("#student", "80102")
    student.check("input[value=en]")
    student.click("main button[type=submit]")
    student.click("text=Begin the test")
    for _ in range(30):
        if "/test/done" in student.url:
            break
        for name in set(
            student.eval_on_selector_all("input[type=radio]", "els => els.map(e => e.name)")
        ):
            student.locator(f"input[type=radio][name='{name}']").first.check()
        boxes = student.locator("input[type=checkbox]")
        if boxes.count():
            boxes.first.check()
        if student.locator("textarea").count():
            student.fill(
                "textarea", "People see the issue differently because of their experiences."
            )
        if student.locator("input#answer").count():
            student.fill("input#answer", "fair shares")
        item = student.get_attribute("#answer-form", "data-item")
        student.click("text=Save and continue")
        # the page's script saves the answer, then goes to the next item
        student.wait_for_function(
            "prev => { const f = document.getElementById('answer-form');"
            " return !f || f.dataset.item !== prev; }", arg=item)
    assert "/test/done" in student.url
    shot(student, "06-student-done")
    with factory() as db:
        ts = db.scalars(select(TestSession).where(TestSession.test_id == "north-801-spring")).one()
        assert ts.status == "finished" and ts.school_class.name == "801"

    # a student of 802 is refused, in the language chosen for the test
    other = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    other.goto(url)
    other.fill("#access_code", "N801SP")
    other.fill("#student", "80201")
    other.check("input[value='zh-TW']")
    other.click("main button[type=submit]")
    assert "學生名單" in other.locator(".notice-error").inner_text()
    shot(other, "07-student-refused")

    teacher.goto(f"{url}/teach/tests/north-801-spring")
    assert "80102" in teacher.content() and "80201" not in teacher.content()
    shot(teacher, "08-teacher-sessions")
    teacher.click("a[href$='/summary']")
    shot(teacher, "09-summary")
