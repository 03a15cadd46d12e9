"""The research flow in Chromium: upload a data set, run a calibration (the worker in a thread),
read the result page and its plots, publish, compute a report (a job of the same worker).  Screenshots in /tmp/research-shots."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from itembank.accounts.users import create_user
from itembank.bank.importer import import_paths
from itembank.research import calibration_runs, jobs, report_job
from tests.browser import launch_chromium

from ..conftest import REPO
from ..itembank.research.research_data import field_trial_csv

SHOTS = Path("/tmp/research-shots")


@pytest.mark.browser
def test_research_flow(app, session_factory: sessionmaker[Session], tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    if "sqlite" not in database_url:
        pytest.skip("one backend is enough for the browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    with session_factory() as s, s.begin():
        import_paths(s, [REPO / "items"])
        create_user(s, "rita", "researcher", "a-long-password-1")
    upload = tmp_path / "field-trial.csv"
    upload.write_bytes(field_trial_csv(20, 2000, window="2026-05"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    handlers = {**calibration_runs.HANDLERS, **report_job.HANDLERS}
    worker = threading.Thread(target=jobs.work, args=(session_factory, handlers, "browser"),
                              kwargs={"poll": 0.2, "stop": stop.is_set}, daemon=True)
    worker.start()
    base = f"http://127.0.0.1:{server.server_port}"
    SHOTS.mkdir(exist_ok=True)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{base}/auth/login")
            page.fill("#username", "rita")
            page.fill("#password", "a-long-password-1")
            page.click("main button[type=submit]")
            page.goto(f"{base}/research/")
            page.set_input_files("#file", str(upload))
            page.fill("#name", "field trial")
            page.click("form[enctype] button[type=submit]")
            page.wait_for_selector("td:has-text(\"field trial\")")
            page.screenshot(path=str(SHOTS / "1-data.png"), full_page=True)
            page.goto(f"{base}/research/runs/new")
            page.check("input[name=datasets]")
            page.select_option("#dif_group", "gender")
            page.fill("#dif_reference", "female")
            page.fill("#dif_focal", "male")
            page.click("form button.primary")
            page.wait_for_selector("text=萊特圖", timeout=60_000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SHOTS / "2-run.png"), full_page=True)
            for name in ("information", "wright", "icc-GC-001-Q1"):
                page.goto(page.url.split("/plots")[0].rstrip("/") + f"/plots/{name}.svg" if "/plots" in page.url else f"{page.url}/plots/{name}.svg")
                page.screenshot(path=str(SHOTS / f"plot-{name}.png"))
                page.go_back()
            page.click("text=與題庫比較並發布")
            page.screenshot(path=str(SHOTS / "3-compare.png"), full_page=True)
            page.click("text=將這些參數發布到題庫")
            page.wait_for_selector("text=publication-1-run-1")
            page.screenshot(path=str(SHOTS / "4-calibrations.png"), full_page=True)
            # 2,000 students: the report is a job; its page refreshes itself until it is done
            page.goto(f"{base}/research/reports")
            page.select_option("#source", "dataset:1")
            page.select_option("#grouping", "city")
            page.click("form.research-form button.primary")
            page.wait_for_selector("table.report-groups", timeout=60_000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SHOTS / "5-report.png"), full_page=True)
            assert page.locator("table.report-groups tbody tr").count() >= 3
            browser.close()
    finally:
        stop.set()
        server.shutdown()
