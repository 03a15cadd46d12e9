"""The calibration run page says when no worker has taken the run within a minute (and how to start
one), in both languages; the notice goes once a worker has claimed the job, and a run that waits
behind another worker's running job is told so instead."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.research import calibration_runs, jobs
from itembank.research.models import CalibrationRun, Job

from ..conftest import REPO, import_bank
from ..itembank.research.research_data import field_trial_csv
from .conftest import csrf_token

NO_WORKER = {
    "en": "No worker has taken this run for more than a minute",
    "zh_Hant_TW": "已超過一分鐘沒有背景工作程序（worker）接手這次校準",
}
BUSY = {"en": "The worker is busy with another job", "zh_Hant_TW": "工作程序正在處理其他工作"}


@pytest.fixture
def queued_run(request: pytest.FixtureRequest, app: Flask, session_factory: sessionmaker[Session]) -> tuple[FlaskClient, str, int]:
    """A signed-in researcher, and the URL and job id of a run just queued through the page."""
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    with session_factory() as s, s.begin():
        create_user(s, "rita", "researcher", "a-long-password-1")
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"username": "rita", "password": "a-long-password-1",
                                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    token = csrf_token(client.get("/research/").get_data(as_text=True))
    r = client.post("/research/datasets", data={"csrf_token": token, "name": "ft",
                                                "file": (io.BytesIO(field_trial_csv(8, 300)), "ft.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.status_code
    r = client.post("/research/runs/new", data={"csrf_token": token, "name": "trial", "datasets": "1"})
    assert r.status_code == 302
    with session_factory() as s:
        run = s.get(CalibrationRun, 1)
        assert run is not None
        job_id = run.job_id
    return client, r.headers["Location"], job_id


def _age(session_factory: sessionmaker[Session], job_id: int, seconds: float) -> None:
    """Pretend the job was queued ``seconds`` ago."""
    with session_factory() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id)
                  .values(created_at=jobs.utcnow() - timedelta(seconds=seconds)))


@pytest.mark.parametrize("locale", ["en", "zh_Hant_TW"])
def test_no_worker_notice_until_a_worker_claims_the_job(
    queued_run: tuple[FlaskClient, str, int], session_factory: sessionmaker[Session], locale: str
) -> None:
    client, url, job_id = queued_run
    client.set_cookie("lang", locale)
    page = client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "no-worker" not in page  # queued just now

    _age(session_factory, job_id, 30)
    assert "no-worker" not in client.get(url).get_data(as_text=True)  # under a minute

    _age(session_factory, job_id, 90)
    page = client.get(url).get_data(as_text=True)
    assert "no-worker" in page and NO_WORKER[locale] in page
    assert "<code>itembank worker</code>" in page and "systemd" in page

    ctx = jobs.claim(session_factory, "test-worker", kinds=(calibration_runs.JOB_KIND,))
    assert ctx is not None and ctx.job_id == job_id
    page = client.get(url).get_data(as_text=True)
    assert "no-worker" not in page and NO_WORKER[locale] not in page and BUSY[locale] not in page


def test_a_run_behind_a_running_job_waits_its_turn(
    queued_run: tuple[FlaskClient, str, int], session_factory: sessionmaker[Session]
) -> None:
    client, url, job_id = queued_run
    client.set_cookie("lang", "en")
    with session_factory() as s, s.begin():
        jobs.enqueue(s, "other-kind", {})
    other = jobs.claim(session_factory, "busy-worker", kinds=("other-kind",))
    assert other is not None and other.job_id != job_id
    _age(session_factory, job_id, 90)
    page = client.get(url).get_data(as_text=True)
    assert BUSY["en"] in page and "no-worker" not in page

    with session_factory() as s, s.begin():  # that worker died long ago: nobody is working
        s.execute(update(Job).where(Job.id == other.job_id)
                  .values(heartbeat_at=jobs.utcnow() - timedelta(minutes=10)))
    page = client.get(url).get_data(as_text=True)
    assert NO_WORKER["en"] in page and BUSY["en"] not in page


def test_a_retried_job_waits_from_its_last_attempt(
    queued_run: tuple[FlaskClient, str, int], session_factory: sessionmaker[Session]
) -> None:
    client, url, job_id = queued_run
    client.set_cookie("lang", "en")
    _age(session_factory, job_id, 600)
    with session_factory() as s, s.begin():  # an attempt failed 5 s ago and put the job back
        s.execute(update(Job).where(Job.id == job_id)
                  .values(attempts=1, heartbeat_at=jobs.utcnow() - timedelta(seconds=5)))
    assert "no-worker" not in client.get(url).get_data(as_text=True)


FAILED = {
    "en": "The chosen data sets hold no responses. Choose data sets with responses.",
    "zh_Hant_TW": "所選的資料集沒有任何作答。請選擇有作答的資料集。",
}
DETAILS = {"en": "Technical details (in English, for the administrator)",
           "zh_Hant_TW": "技術細節（英文，供系統管理員參考）"}


@pytest.mark.parametrize("lang", ["en", "zh_Hant_TW"])
def test_a_failed_run_says_why_in_the_readers_language(
    queued_run: tuple[FlaskClient, str, int], session_factory: sessionmaker[Session], lang: str
) -> None:
    client, url, job_id = queued_run
    client.set_cookie("lang", lang)
    with session_factory() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id).values(
            status="failed", failure="no_responses",
            message="the chosen data sets hold no responses"))
    page = client.get(url).get_data(as_text=True)
    assert FAILED[lang] in page
    assert f"<summary>{DETAILS[lang]}</summary>" in page  # the English detail, folded away
    other = "en" if lang != "en" else "zh_Hant_TW"
    assert FAILED[other] not in page
    # a label's colon as the language writes it (full-width, no space, in Taiwan)
    status = {"en": 'Status: <span class="job-failed">failed</span>',
              "zh_Hant_TW": '狀態：<span class="job-failed">失敗</span>'}
    assert status[lang] in page
