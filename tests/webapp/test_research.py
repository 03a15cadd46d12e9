"""The research pages: roles, upload (good and refused), a calibration run through the worker,
the result page and its plots, publishing, reports with CSV, coding of an open response."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.research import calibration_runs, jobs, report_job

from ..conftest import REPO, import_bank
from ..itembank.research.research_data import field_trial_csv
from .conftest import csrf_token


@pytest.fixture
def research_client(request: pytest.FixtureRequest, app: Flask, session_factory: sessionmaker[Session]) -> FlaskClient:
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    with session_factory() as s, s.begin():
        create_user(s, "rita", "researcher", "a-long-password-1")
        create_user(s, "tom", "teacher", "a-long-password-1")
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"username": "rita", "password": "a-long-password-1",
                                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    return client


def test_teachers_are_refused(app: Flask, research_client: FlaskClient) -> None:
    other = app.test_client()
    page = other.get("/auth/login")
    other.post("/auth/login", data={"username": "tom", "password": "a-long-password-1",
                                    "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert other.get("/research/").status_code == 403
    assert app.test_client().get("/research/").status_code == 302


def test_upload_run_report_publish(research_client: FlaskClient,
                                   session_factory: sessionmaker[Session]) -> None:
    c = research_client
    token = csrf_token(c.get("/research/").get_data(as_text=True))
    bad = field_trial_csv(8, n_persons=30).decode().replace("GC-001-Q3", "NOPE").encode()
    r = c.post("/research/datasets", data={"csrf_token": token, "name": "bad",
                                           "file": (io.BytesIO(bad), "bad.csv")},
               content_type="multipart/form-data")
    assert r.status_code == 422, r.status_code
    assert "bad.csv:1:9</code> unknown item" in r.get_data(as_text=True)
    r = c.post("/research/datasets", data={"csrf_token": token, "name": "ft", "window": "2026-05",
                                           "file": (io.BytesIO(field_trial_csv(12, 1500)), "ft.csv")},
               content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200 and "1500" in r.get_data(as_text=True)
    r = c.post("/research/runs/new", data={"csrf_token": token, "name": "trial", "datasets": "1",
                                           "dif_group": "gender", "dif_reference": "female",
                                           "dif_focal": "male"})
    assert r.status_code == 302
    run_url = r.headers["Location"]
    assert 'http-equiv="refresh"' in c.get(run_url).get_data(as_text=True)
    jobs.work(session_factory, calibration_runs.HANDLERS, "test", burst=True)
    page = c.get(run_url).get_data(as_text=True)
    assert "GC-001-Q1" in page and "S-X²" in page and "refresh" not in page
    for name in ("information", "wright", "icc-GC-001-Q1"):
        svg = c.get(f"{run_url}/plots/{name}.svg")
        assert svg.status_code == 200 and svg.data.startswith(b"<?xml")
    assert b'"items"' in c.get(f"{run_url}/params.json").data
    page = c.get(f"{run_url}/publish").get_data(as_text=True)
    assert "Stocking" in page or "Stocking" in page.replace("–", "-")
    r = c.post(f"{run_url}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "publication-1-run-1" in r.get_data(as_text=True)
    # 1,500 students: more than a GET computes inline; the form's Compute queues a job
    r = c.get("/research/reports?source=dataset:1&grouping=gender")
    assert "too-large" in r.get_data(as_text=True) and 'id="groups-h"' not in r.get_data(as_text=True)
    token = csrf_token(r.get_data(as_text=True))
    r = c.post("/research/reports", data={"csrf_token": token, "source": "dataset:1",
                                          "grouping": "gender"})
    assert r.status_code == 302
    report_url = r.headers["Location"]
    jobs.work(session_factory, report_job.HANDLERS, "test", burst=True)
    r = c.get(report_url)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "female" in text
    # SEs from the survey code, which says that they assume simple random sampling
    assert "簡單隨機抽樣" in text and "95% 信賴區間" in text
    assert text.count('<span class="se">(') >= 6  # every level share with its standard error
    c.get("/language/en")
    en = c.get(report_url).get_data(as_text=True)
    assert "simple random sampling" in en and "95% interval" in en
    # the charts come with the page (computed from its stored report)
    assert en.count('src="data:image/svg+xml;base64,') >= 2 and "/chart-" not in en
    c.get("/language/zh_Hant_TW")
    csv_text = c.get(f"{report_url}/groups.csv").get_data(as_text=True)
    assert csv_text.startswith("gender,window,n,mean,se")
    assert c.get(f"{report_url}/chart-means.svg").status_code == 200
    assert c.get("/research/datasets/1.csv").data.startswith(b"person_id,city")
    # a stored result with infit but no outfit, and no SE of a, still renders (it was a 500)
    import copy

    from itembank.research.models import CalibrationRun

    with session_factory() as s, s.begin():
        stored = s.get(CalibrationRun, 1)
        assert stored is not None and stored.result is not None
        result = copy.deepcopy(stored.result)
        first = result["items"][0]
        first.setdefault("fit", {}).update(infit=1.02, outfit=None, rmsd=None, s_x2=None)
        first["se"] = {}
        stored.result = result
    page = c.get(run_url)
    assert page.status_code == 200 and "1.02 / –" in page.get_data(as_text=True)
