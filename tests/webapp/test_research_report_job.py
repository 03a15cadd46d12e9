"""The learning-outcome report as a job: the form's POST queues it, the worker computes and stores
it, the job page shows its progress and then the figures, and the page, charts and downloads
read the stored result (never computing it again); the report is the requesting user's (another
city's researcher, a teacher, a student cannot reach it); the correlations with the questionnaire
indices, and the indices too few students answered, in both languages."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.importer import import_paths
from itembank.bank.questionnaire_store import latest_version, questionnaire_of
from itembank.delivery.models import QuestionnaireAnswer, Response, TestSession
from itembank.delivery.sessions import create_test, hash_token
from itembank.orgs.models import Student
from itembank.orgs.roster import import_roster
from itembank.research import calibration_runs, jobs, report_job, reports
from itembank.research.models import Job

from .test_scope import add_user, login

ROOT = Path(__file__).resolve().parents[2]
SCHOOLS = [("taipei", "north"), ("taipei", "south"), ("penang", "george")]
PER_SCHOOL = 20


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    """60 students in three schools of two cities, users of each role, the test ``t-q`` with the
    questionnaire GCQ-DEMO, and a finished session per student: 8 scored answers drawn from the
    test bank's parameters and the questionnaire's first two scales answered in line with the
    student's θ, its third scale by 5 students only (too few to scale).  Returns student id →
    session id."""
    rng = np.random.default_rng(7)
    lines = ["city,school,class,student_id,name,grade,language,gender"]
    for city, school in SCHOOLS:
        for i in range(PER_SCHOOL):
            lines.append(f"{city},{school},801,s-{school}-{i},Name{school}{i},8,"
                         f"{'en' if city == 'penang' else 'zh-TW'},{('female', 'male')[i % 2]}")
    sessions: dict[str, str] = {}
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        import_paths(db, [ROOT / "items" / "questionnaires"])
        import_roster(db, ("\n".join(lines) + "\n").encode(), "roster.csv")
        add_user(db, "r-taipei", "researcher", city="taipei")
        add_user(db, "r-penang", "researcher", city="penang")
        add_user(db, "t-north", "teacher", school="north")
        add_user(db, "pupil", "student", school="north")
        add_user(db, "admin", "admin")
        params = calibration_runs.current_parameters(db)
        items = sorted(i for i, r in params.items() if r["model"] in ("rasch", "2pl", "3pl"))[:8]
        assert len(items) == 8
        create_test(db, id="t-q", title={"zh-TW": "問卷測驗", "en": "Questionnaire test"},
                    access_code="TQ1234", kind="fixed", items=items, questionnaire_id="GCQ-DEMO")
        from itembank.research.datasets import latest_item_versions

        versions = {i: iv.id for i, iv in latest_item_versions(db, items).items()}
        qv = latest_version(db, "GCQ-DEMO")
        assert qv is not None
        q = questionnaire_of(qv)
        students = db.execute(select(Student.id, Student.student_id, Student.class_id)
                              .order_by(Student.id)).all()
        start = datetime(2026, 10, 1, tzinfo=UTC)
        rows, responses, answers = [], [], []
        for k, (ref, student_id, class_id) in enumerate(students):
            theta = rng.normal()
            sid = "q" + secrets.token_hex(8)  # no leading "-" (CSV cells neutralise formulas)
            sessions[student_id] = sid
            rows.append({"id": sid, "test_id": "t-q", "student_key": student_id, "student_ref": ref,
                         "class_id": class_id, "language": "zh-TW", "status": "finished",
                         "token_hash": hash_token("tok-" + sid), "seed": k, "answered": 8,
                         "started_at": start + timedelta(minutes=k),
                         "questionnaire_version_id": qv.id})
            for j, item in enumerate(items):
                rec = params[item]
                b = float(rec["b"][0] if isinstance(rec["b"], list) else rec["b"])
                p = 1 / (1 + np.exp(-float(rec.get("a") or 1) * (theta - b)))
                responses.append({"session_id": sid, "sequence": j + 1, "response_id": f"{sid}-{j}",
                                  "item_id": item, "item_version_id": versions[item],
                                  "response": None, "score": int(rng.random() < p)})
            for s, scale in enumerate(q.scales[:3]):
                if s == 2 and k >= 5:
                    continue
                top = q.n_categories(scale) - 1
                for item in scale.items:
                    x = int(np.clip(np.round(top / 2 + 1.2 * theta + rng.normal(0, 0.6)), 0, top))
                    answers.append({"session_id": sid, "item_id": item.id,
                                    "category": top - x if item.reverse else x})
        db.execute(insert(TestSession), rows)
        db.execute(insert(Response), responses)
        db.execute(insert(QuestionnaireAnswer), answers)
    return sessions


def compute(client: FlaskClient, source: str = "test:t-q", grouping: str = "city") -> str:
    page = client.get("/research/reports").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    reply = client.post("/research/reports", data={"csrf_token": token, "source": source,
                                                   "grouping": grouping})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply.headers["Location"]


def run_worker(session_factory: sessionmaker[Session]) -> None:
    assert jobs.run_one(session_factory, report_job.HANDLERS, "test-worker") is not None


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_report_is_a_job_whose_stored_result_every_download_reads(
    app: Flask, client: FlaskClient, world: dict[str, str], session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(client, "r-taipei")
    client.get("/language/en")
    assert client.post("/research/reports", data={"source": "test:t-q", "grouping": "city"}
                       ).status_code == 400  # no CSRF token
    url = compute(client)
    assert re.fullmatch(r"/research/reports/jobs/\d+", url)
    waiting = client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "queued" in waiting and "<progress" in waiting
    assert client.get(f"{url}/groups.csv").status_code == 404  # nothing stored yet
    run_worker(session_factory)
    page = client.get(url).get_data(as_text=True)
    assert "refresh" not in page and "Correlations with questionnaire indices" in page
    groups = page.split('id="groups-h"', 1)[1].split("</table>", 1)[0]
    assert "taipei" in groups and "penang" in groups and '<span class="se">(' in groups
    # the same inputs again: the stored job, not a new one
    assert compute(client) == url

    def recompute(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report was computed again")

    monkeypatch.setattr(reports, "learning_report", recompute)
    monkeypatch.setattr(report_job, "learning_report", recompute)
    monkeypatch.setattr(report_job, "load_inputs", recompute)
    assert "Correlations with questionnaire indices" in client.get(url).get_data(as_text=True)
    by_city = {r["city"]: r for r in csv_rows(client.get(f"{url}/groups.csv").get_data(as_text=True))}
    assert by_city["taipei"]["n"] == "40" and by_city["penang"]["n"] == "20"
    assert client.get(f"{url}/differences.csv").get_data(as_text=True).startswith("group_a,group_b")
    for name in ("means", "levels"):
        svg = client.get(f"{url}/chart-{name}.svg")
        assert svg.status_code == 200 and svg.data.startswith(b"<?xml")
    doc = client.get(f"{url}/report.json").get_json(force=True)
    assert doc["inputs"]["source"] == "test:t-q" and doc["correlations"]
    # the students of the researcher's city only: taipei's sessions, none of penang's
    students = {r["person_id"] for r in csv_rows(client.get(f"{url}/students.csv").get_data(as_text=True))}
    taipei = {sid for student, sid in world.items() if "-george-" not in student}
    assert students == taipei
    # the correlations: overall and per city, the index in line with θ clearly positive
    corr = csv_rows(client.get(f"{url}/correlations.csv").get_data(as_text=True))
    overall = {r["index"]: r for r in corr if r["city"] == ""}
    assert set(overall) == {"AWARE", "INTCULT"}
    for r in overall.values():
        assert r["n"] == "60" and float(r["r"]) > 0.3 and r["significant"] == "yes"
        assert float(r["ci95_low"]) < float(r["r"]) < float(r["ci95_high"]) and float(r["se"]) > 0
    assert {r["city"] for r in corr} == {"", "taipei", "penang"}


def test_a_report_is_its_requesters_alone(
    app: Flask, client: FlaskClient, world: dict[str, str], session_factory: sessionmaker[Session],
) -> None:
    login(client, "r-taipei")
    url = compute(client)
    run_worker(session_factory)
    assert client.get(url).status_code == 200
    paths = [url, f"{url}/groups.csv", f"{url}/students.csv", f"{url}/correlations.csv",
             f"{url}/chart-means.svg", f"{url}/report.json"]
    other = app.test_client()
    login(other, "r-penang")  # a researcher of another city: not found, whatever the path
    for path in paths:
        assert other.get(path).status_code == 404, path
    # their own report of the same inputs is their own job, with their own city's students
    own = compute(other)
    assert own != url
    run_worker(session_factory)
    students = {r["person_id"] for r in csv_rows(other.get(f"{own}/students.csv").get_data(as_text=True))}
    assert students == {sid for student, sid in world.items() if "-george-" in student}
    # a forged id: a job of another kind, or none
    with session_factory() as s, s.begin():
        foreign = jobs.enqueue(s, "booklet-set", {"language": "en"}).id
    for job_id in (foreign, 999999):
        assert client.get(f"/research/reports/jobs/{job_id}").status_code == 404
    for username in ("t-north", "pupil"):
        c = app.test_client()
        login(c, username)
        for path in paths:
            assert c.get(path).status_code == 403, (username, path)
        assert c.post("/research/reports", data={"source": "test:t-q", "grouping": "city"}
                      ).status_code in (400, 403)
    assert app.test_client().get(url).status_code == 302  # anonymous: to the login page
    # the researcher moved to the other city: the report asked for with the old scope is gone
    from itembank.accounts.models import User
    from itembank.orgs.models import City

    with session_factory() as s, s.begin():
        penang = s.scalars(select(City.id).where(City.code == "penang")).one()
        s.execute(update(User).where(User.username == "r-taipei").values(city_id=penang))
    assert client.get(url).status_code == 404 and client.get(f"{url}/students.csv").status_code == 404


def test_the_report_pages_in_both_languages(
    app: Flask, client: FlaskClient, world: dict[str, str], session_factory: sessionmaker[Session],
) -> None:
    login(client, "r-taipei")
    url = compute(client, grouping="school")
    with session_factory() as s, s.begin():  # a job nobody took for two minutes
        s.execute(update(Job).values(created_at=jobs.utcnow() - timedelta(minutes=2)))
    zh = client.get(url).get_data(as_text=True)
    assert "沒有背景工作程序" in zh and "itembank worker" in zh and "進度" in zh
    with session_factory() as s, s.begin():  # a worker in the middle of it: the phase, in words
        s.execute(update(Job).values(status="running", message="population-model", progress=0.25,
                                     heartbeat_at=jobs.utcnow()))
    zh = client.get(url).get_data(as_text=True)
    assert "25% 母群模式與可能值" in zh and "population-model" not in zh and "沒有背景工作程序" not in zh
    with session_factory() as s, s.begin():
        s.execute(update(Job).values(status="queued", message=None, progress=0.0))
    run_worker(session_factory)
    zh = client.get(url).get_data(as_text=True)
    section = zh.split('id="corr-h"', 1)[1].split("</section>", 1)[0]
    assert "與問卷指標的相關" in zh and "對全球議題的認識" in section and "相關（標準誤）" in section
    assert "作答太少，無法計算" in section and "顯著" in section
    assert "Correlations with" not in zh and "Too few answers" not in zh
    assert not any(simplified in zh for simplified in ("问卷", "相关", "显著", "标准误", "计算"))
    client.get("/language/en")
    en = client.get(url).get_data(as_text=True)
    assert "Correlations with questionnaire indices" in en and "Too few answers to scale" in en
    assert "Awareness of global issues" in en and "對全球議題的認識" not in en
    assert "Correlation (SE)" in en and "<abbr" in en
    # a GET of the report's inputs computes a small source inline, as before
    inline = client.get("/research/reports?source=test:t-q&grouping=school").get_data(as_text=True)
    assert "Correlations with questionnaire indices" in inline
    app.config["REPORT_INLINE_MAX_STUDENTS"] = 10
    big = client.get("/research/reports?source=test:t-q&grouping=school").get_data(as_text=True)
    assert "computed in the background" in big and 'id="groups-h"' not in big
    # an old download link of a source that grew: a browser is sent to that page, a script
    # gets 409 saying what to do (in the reader's language), never a bare 404
    query = "source=test:t-q&grouping=school"
    for link in (f"/research/reports/groups.csv?{query}", f"/research/reports/report.json?{query}"):
        page = client.get(link, headers={"Accept": CHROMIUM_ACCEPT})
        assert page.status_code == 303 and page.location.endswith(f"/research/reports?{query}")
        script = client.get(link, headers={"Accept": "*/*"})
        assert script.status_code == 409 and script.mimetype == "text/plain"
        assert "computed in the background" in script.get_data(as_text=True)
    client.get("/language/zh_Hant_TW")
    script = client.get(f"/research/reports/students.csv?{query}", headers={"Accept": "text/csv"})
    assert script.status_code == 409 and "背景" in script.get_data(as_text=True)
    assert client.get(f"/research/reports/nothing.csv?{query}").status_code == 404
    client.get("/language/en")


# what Chromium sends when it follows a link
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                   "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")


@pytest.mark.browser
def test_the_report_job_in_chromium(
    app: Flask, world: dict[str, str], session_factory: sessionmaker[Session], database_url: str,
) -> None:
    """Compute from the form, watch the page refresh itself to the report (the worker in a
    thread), in both languages on a phone and a desktop: nothing wider than the phone's screen.
    Screenshots in /tmp/report-job-shots."""
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    import threading

    from werkzeug.serving import make_server

    from tests.browser import launch_chromium

    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path("/tmp/report-job-shots")
    shots.mkdir(exist_ok=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    worker = threading.Thread(target=jobs.work, args=(session_factory, report_job.HANDLERS, "browser"),
                              kwargs={"poll": 0.2, "stop": stop.is_set}, daemon=True)
    worker.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/auth/login")
            page.fill("#username", "r-taipei")
            page.fill("#password", "pw-123456")
            page.click("main button[type=submit]")
            page.goto(f"{base}/research/reports")
            page.select_option("#source", "test:t-q")
            page.select_option("#grouping", "school")
            page.click("form.research-form button.primary")
            page.wait_for_selector("table.report-correlations", timeout=60_000)
            url = page.url
            for lang in ("zh", "en"):
                if lang == "en":
                    context.add_cookies([{"name": "lang", "value": "en", "url": base}])
                for width in (1280, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(url)
                    page.wait_for_selector("table.report-correlations")
                    page.screenshot(path=str(shots / f"report-{lang}-{width}.png"), full_page=True)
                    wide = page.evaluate("""() => [...document.querySelectorAll('main > *, main section > *')]
                        .filter(e => e.getBoundingClientRect().width > window.innerWidth + 1)
                        .map(e => e.tagName + '.' + e.className)""")
                    assert wide == [], (lang, width, wide)
            # compare with last cycle's report by keyboard: open, choose the file, type the
            # linking error, Enter (research/_compare_form.html)
            page.set_viewport_size({"width": 390, "height": 900})
            context.add_cookies([{"name": "lang", "value": "zh_Hant_TW", "url": base}])
            page.goto(url)
            earlier = page.request.get(f"{url}/report.json").body()
            page.focus("details.report-compare summary")
            page.keyboard.press("Enter")
            page.set_input_files("#earlier", files=[{"name": "REPORT-2025.json",
                                                     "mimeType": "application/json", "buffer": earlier}])
            page.focus("#linking_error")
            page.keyboard.type("0.05")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.wait_for_selector("table.report-change")
            page.screenshot(path=str(shots / "compare-zh-390.png"), full_page=True)
            assert "與前次報告相比的變化" in page.inner_text("main")
            assert page.locator("table.report-change tbody tr").count() >= 2
            wide = page.evaluate("""() => [...document.querySelectorAll('main > *, main section > *')]
                .filter(e => e.getBoundingClientRect().width > window.innerWidth + 1)
                .map(e => e.tagName + '.' + e.className)""")
            assert wide == [], wide
            browser.close()
    finally:
        stop.set()
        server.shutdown()
