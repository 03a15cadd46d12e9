"""In headless Chromium: a teacher of the home city uploads a lesson plan (in Chinese), a reviewer
approves it, a teacher of the partner city finds it from the results page's weakest dimension and
downloads it; the partner teacher's pages are looked at in both languages.  Screenshots go to
/tmp/materials-shots/."""

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
from itembank.orgs.models import ClassTeacher
from webapp import create_app

from .test_materials import PDF, _answers
from .test_scope import PASSWORD, add_user, build_world, class_of

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/materials-shots")
UNITS = Path(__file__).resolve().parents[1] / "data" / "units"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("materials-browser")
    engine = make_engine(f"sqlite:///{tmp / 'itembank.sqlite3'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        import_paths(db, [UNITS])
        create_demo_content(db)
    clear_cache()
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-test", "MIN_GROUP_SIZE": 5})
    build_world(app)
    _answers(app)
    with factory() as db, db.begin():
        t_george = add_user(db, "t-george", "teacher")
        t_george.display_name = "Ms Tan"
        db.add(ClassTeacher(class_id=class_of(db, "george", "8A").id, user_id=t_george.id))
        add_user(db, "reviewer", "reviewer").display_name = "審查委員"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp / "plan.pdf").write_bytes(PDF)
    yield f"http://127.0.0.1:{server.server_port}", tmp
    server.shutdown()
    engine.dispose()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser, url: str, username: str, locale: str = "zh-TW"):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale=locale,
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(f"{url}/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    return page


def test_upload_approve_find_from_results_and_download(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, tmp = site
    teacher = sign_in(browser, url, "t-north")
    teacher.goto(f"{url}/materials/")
    teacher.click("text=分享教學資源")
    teacher.fill("#title_zh", "從不同觀點看氣候難民")
    teacher.fill("#title_en", "Climate refugees from several perspectives")
    teacher.fill("#summary_zh", "兩節課：閱讀三位當事人的說法，比較觀點。")
    teacher.fill("#summary_en", "Two lessons: read three people's accounts and compare perspectives.")
    teacher.set_input_files("#file", str(tmp / "plan.pdf"))
    teacher.select_option("#dimension", "understand_perspectives")
    teacher.select_option("#process", "analyse_perspectives")
    teacher.check("input[name=sdgs][value='13']")
    teacher.check("input[name=grade_bands][value=junior_high]")
    teacher.check("input[name=languages][value=zh-TW]")
    teacher.check("input[name=languages][value=en]")
    teacher.fill("#subject", "公民")
    teacher.fill("#author", "林美老師")
    teacher.check("input[name=visibility][value=partners]")
    shot(teacher, "01-upload-form-zh")
    teacher.click("form.manage-form button[type=submit]")
    assert "已儲存教學資源" in teacher.content()
    assert "審查中" in teacher.content()
    shot(teacher, "02-uploaded-zh")

    reviewer = sign_in(browser, url, "reviewer")
    reviewer.goto(f"{url}/materials/")
    assert "等待審查" in reviewer.content()
    reviewer.click("text=從不同觀點看氣候難民")
    shot(reviewer, "03-review-zh")
    reviewer.click("button[value=approve]")
    assert "已核可" in reviewer.content()

    partner = sign_in(browser, url, "t-george", "en")
    partner.goto(f"{url}/language/en")
    partner.goto(f"{url}/manage/tests/t-spring/summary")
    partner.click("text=Teaching materials for these results")
    body = partner.locator("main").inner_text()
    assert "weakest" in body and "Understand and appreciate perspectives" in body
    shot(partner, "04-results-materials-en")
    partner.click("text=Climate refugees from several perspectives")
    shot(partner, "05-material-en")
    with partner.expect_download() as caught:
        partner.click("a.button.primary[download]")
    download = caught.value
    assert Path(download.path()).read_bytes() == PDF
    partner.reload()
    assert "Downloads" in partner.content()
    partner.goto(f"{url}/language/zh_Hant_TW")
    partner.goto(f"{url}/materials/for-test/t-spring")
    assert "最弱" in partner.content() and "從不同觀點看氣候難民" in partner.content()
    shot(partner, "06-results-materials-zh")
    partner.click("text=從不同觀點看氣候難民")
    assert "1" in partner.locator("dl.material-facts").inner_text()
    shot(partner, "07-material-zh")
