""""Download all" on the print pages: a teacher queues the whole set of a design as a background
job, its page shows the progress as a calibration run's does (and says when no worker takes it),
the worker renders it, and only its owner (or an admin) downloads the ZIP, which is audited."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.accounts.models import AuditEntry
from itembank.paper import set_job
from itembank.research import jobs
from itembank.research.models import Job

from .conftest import csrf_token
from .test_printing import people  # noqa: F401  (fixture)
from .test_scope import add_user, login

QUERY = "language=en&clusters=3&positions=1"  # 3 booklets of a few units: a short set


def _start(client: FlaskClient) -> tuple[int, str]:
    page = client.get(f"/print/?{QUERY}").get_data(as_text=True)
    assert f'action="/print/sets?{QUERY}"' in page.replace("&amp;", "&")
    reply = client.post(f"/print/sets?{QUERY}", data={"csrf_token": csrf_token(page)})
    assert reply.status_code == 302
    location = reply.headers["Location"]
    match = re.search(r"/print/sets/(\d+)", location)
    assert match, location
    return int(match.group(1)), location


def test_download_all_runs_as_a_job_with_progress(app: Flask, client: FlaskClient, people: None) -> None:  # noqa: F811
    login(client, "t-north")
    job_id, location = _start(client)
    page = client.get(location).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="progress"' in page and "queued" in page
    assert f"/print/sets/{job_id}.zip" not in page
    assert client.get(f"/print/sets/{job_id}.zip").status_code == 404  # not done yet

    factory = app.extensions["itembank_sessionmaker"]
    with factory() as db, db.begin():
        add_user(db, "t-other", "teacher", school="north")
    seen: list[float] = []
    real_progress = jobs.JobContext.progress

    def spy(self: jobs.JobContext, fraction: float, message: str | None = None, *, force: bool = False) -> None:
        seen.append(fraction)
        real_progress(self, fraction, message, force=force)

    jobs.JobContext.progress = spy  # type: ignore[method-assign]
    try:
        assert jobs.run_one(factory, set_job.HANDLERS, "test-worker") == job_id
    finally:
        jobs.JobContext.progress = real_progress  # type: ignore[method-assign]
    assert seen == sorted(seen) and len(seen) == 2 + 5  # loading, rendering, then each document
    with factory() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.status == "done" and job.progress == 1.0, job.message

    page = client.get(location).get_data(as_text=True)
    assert "http-equiv" not in page and f"/print/sets/{job_id}.zip" in page
    reply = client.get(f"/print/sets/{job_id}.zip")
    assert reply.status_code == 200 and reply.mimetype == "application/zip"
    assert 'filename="booklets-en.zip"' in reply.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.data)) as zf:
        names = zf.namelist()
        assert names == ["design.yaml", "booklet-01-en.pdf", "booklet-02-en.pdf", "booklet-03-en.pdf",
                         "answer-key-en.pdf", "coding-guide-en.pdf"]
        assert all(zf.read(n)[:5] == b"%PDF-" for n in names[1:])
    with factory() as db:
        assert db.scalar(select(AuditEntry.id).where(AuditEntry.action == "keys.export",
                                                     AuditEntry.object == "teacher:set")) is not None

    # another teacher neither sees the job nor downloads its keys; an admin may
    login(client, "t-other")
    assert client.get(location).status_code == 404
    assert client.get(f"/print/sets/{job_id}.zip").status_code == 404
    login(client, "admin")
    assert client.get(f"/print/sets/{job_id}.zip").status_code == 200

    # the ZIP is kept in the database (every web host serves it), not on the worker's disk,
    # and the worker deletes it after ITEMBANK_JOB_FILE_DAYS: then the download is a 404
    with factory() as db, db.begin():
        stored = jobs.load_file(db, job_id, set_job.ZIP_NAME)
        assert stored is not None and stored.size == len(reply.data) and stored.data == reply.data
        assert jobs.purge_files(db, older_than=timedelta(days=7)) == 0
        assert jobs.purge_files(db, older_than=timedelta(days=7),
                                now=datetime.now(UTC) + timedelta(days=8)) == 1
    assert client.get(f"/print/sets/{job_id}.zip").status_code == 404
    page = client.get(location).get_data(as_text=True)
    assert f"/print/sets/{job_id}.zip" not in page and "7 天後已刪除" in page, page[page.find(f"/print/sets/{job_id}.zip") - 300:][:600]


def test_students_and_reviewers_cannot_start_a_set(client: FlaskClient, people: None) -> None:  # noqa: F811
    login(client, "stu")
    assert client.get("/print/sets/1").status_code == 403
    assert client.post("/print/sets").status_code in (400, 403)  # no CSRF token, or refused by role
    login(client, "rev")
    assert client.get("/print/sets/1.zip").status_code == 403


def test_a_design_that_cannot_be_built_queues_nothing(app: Flask, client: FlaskClient, people: None) -> None:  # noqa: F811
    login(client, "t-north")
    page = client.get("/print/").get_data(as_text=True)
    reply = client.post("/print/sets?clusters=60", data={"csrf_token": csrf_token(page)})
    assert reply.status_code == 400
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.scalar(select(Job.id).where(Job.kind == set_job.JOB_KIND)) is None
