"""A printed design is frozen (issue 16): downloading booklets saves the design with the unit
versions they were printed from, and its number is on the cover and the answer key; approving a
new version of one of its units (another key) afterwards changes neither the printed design, nor
its PDFs' number, nor the scoring of paper answers typed in or uploaded for it; printing after the
change saves a new design version; a set of booklets queued before an approval is rendered from
the versions of its request.  On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itembank.bank.queries import in_use_versions
from itembank.bank.schema import OpenResponse
from itembank.paper import set_job
from itembank.paper.design import make_design
from itembank.paper.models import PrintedDesign
from itembank.research import jobs
from itembank.research.models import DatasetResponse
from tests.itembank.paper.test_printed import change_key, first_single_choice

from .conftest import csrf_token
from .test_printing import pdftext, units_of
from .test_printing import people as people  # noqa: F401  (fixture)
from .test_scope import login


def scores_of(app: Flask, item_id: str) -> list[int]:
    with app.extensions["itembank_sessionmaker"]() as db:
        return list(db.scalars(select(DatasetResponse.score).where(DatasetResponse.item_id == item_id)
                               .order_by(DatasetResponse.id)))


def test_approving_a_unit_after_printing_leaves_the_printed_design_and_its_scoring_unchanged(
    app: Flask, client: FlaskClient, people: None, tmp_path: Path  # noqa: F811
) -> None:
    login(client, "t-north")
    units = units_of(app)
    design = make_design(units)
    unit_id, item = first_single_choice(units, design.units_of(1))
    old_key = item.key

    booklet = client.get("/print/booklets/1.pdf?language=en")
    assert booklet.status_code == 200
    assert "Design no. 1" in pdftext(booklet.data, tmp_path)
    zh = pdftext(client.get("/print/booklets/2.pdf?language=zh-TW").data, tmp_path)
    assert "題本設計編號 1" in zh  # the same design in the other language: the same number
    key_text = pdftext(client.get("/print/teacher/answer-key.pdf?language=en").data, tmp_path)
    assert "Design no. 1" in key_text
    saved = yaml.safe_load(client.get("/print/design.yaml?language=en").data)
    assert saved["printed_design"] == 1
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.scalar(select(func.count()).select_from(PrintedDesign)) == 1
        pins = dict(db.get(PrintedDesign, 1).pins)

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        new_key = change_key(db, unit_id, item.id)
    assert new_key != old_key

    # the printed design: the same row, the same number on its PDFs, the same units
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.get(PrintedDesign, 1).pins == pins
    again = pdftext(client.get("/print/booklets/1.pdf?language=en&printed=1").data, tmp_path)
    assert "Design no. 1" in again
    page = client.get("/print/?language=en&printed=1").get_data(as_text=True)
    assert "設計編號 1：" in page and "第 1 版" in page  # the pages speak zh-TW by default

    # paper answers typed in for design 1 are scored against the printed key
    entry = client.get("/print/paper/entry?language=en&printed=1&booklet=1").get_data(as_text=True)
    assert "作答依已列印的設計 1 計分" in entry
    form: dict[str, object] = {"csrf_token": csrf_token(entry), "booklet": "1", "answers": "",
                               "person_id": "typed-1", "action": "add"}
    for u in design.units_of(1):
        for i in next(x for x in units if x.id == u).items:
            if isinstance(i, OpenResponse):
                form[f"answer-{i.id}"] = "9"
    form[f"answer-{item.id}"] = old_key
    reply = client.post("/print/paper/entry?language=en&printed=1", data=form)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:2000]
    answers = re.search(r'name="answers" value="([^"]*)"', reply.get_data(as_text=True))
    assert answers is not None


    text = html.unescape(answers.group(1))
    stored = client.post("/print/paper/entry?language=en&printed=1",
                         data={"csrf_token": csrf_token(entry), "answers": text, "action": "save",
                               "name": "typed"})
    assert stored.status_code == 302, stored.get_data(as_text=True)[:2000]
    assert scores_of(app, item.id) == [1]

    # uploaded with the design.yaml of the first print: the same
    upload = client.get("/print/paper?language=en").get_data(as_text=True)
    reply = client.post("/print/paper?language=en", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(upload), "name": "uploaded",
        "answers": (io.BytesIO(text.replace("typed-1", "up-1").encode()), "ANSWERS.csv"),
        "design": (io.BytesIO(yaml.safe_dump(saved).encode()), "design.yaml")})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]
    assert scores_of(app, item.id) == [1, 1]

    # printing now saves a new version of the design, pinned to the new unit version
    fresh = pdftext(client.get("/print/booklets/1.pdf?language=en").data, tmp_path)
    assert "Design no. 2" in fresh
    with app.extensions["itembank_sessionmaker"]() as db:
        rows = db.scalars(select(PrintedDesign).order_by(PrintedDesign.id)).all()
        assert [(r.id, r.version) for r in rows] == [(1, 1), (2, 2)]
        assert rows[1].pins[unit_id]["unit_version"] != pins[unit_id]["unit_version"]
        assert rows[0].pins == pins


def test_an_unknown_design_number_is_refused(client: FlaskClient, people: None) -> None:  # noqa: F811
    login(client, "t-north")
    reply = client.get("/print/paper/entry?language=en&printed=99")
    assert reply.status_code == 404 and "99" in reply.get_data(as_text=True)
    assert client.get("/print/booklets/1.pdf?printed=abc").status_code == 400
    upload = client.get("/print/paper").get_data(as_text=True)
    reply = client.post("/print/paper", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(upload),
        "answers": (io.BytesIO(b"person_id,booklet\n"), "ANSWERS.csv"),
        "design": (io.BytesIO(b"printed_design: 99\nbooklets: []\n"), "design.yaml")})
    assert reply.status_code == 422
    assert "沒有編號 99 的已列印設計" in reply.get_data(as_text=True)  # the message in the page's language


def test_a_set_queued_before_an_approval_is_rendered_from_the_versions_of_its_request(
    app: Flask, client: FlaskClient, people: None, tmp_path: Path  # noqa: F811
) -> None:
    login(client, "t-north")
    query = "language=en&clusters=3&positions=1"
    page = client.get(f"/print/?{query}").get_data(as_text=True)
    reply = client.post(f"/print/sets?{query}", data={"csrf_token": csrf_token(page)})
    assert reply.status_code == 302 and "printed=1" in reply.headers["Location"]
    factory = app.extensions["itembank_sessionmaker"]
    units = units_of(app)
    unit_id, item = first_single_choice(units, [u.id for u in units])
    with factory() as db, db.begin():
        change_key(db, unit_id, item.id)  # approved while the job waits for a worker
    job_id = jobs.run_one(factory, set_job.HANDLERS, "test-worker")
    assert job_id is not None
    with factory() as db:
        stored = jobs.load_file(db, job_id, set_job.ZIP_NAME)
        assert stored is not None
    with zipfile.ZipFile(io.BytesIO(stored.data)) as zf:
        assert yaml.safe_load(zf.read("design.yaml"))["printed_design"] == 1
        assert "Design no. 1" in pdftext(zf.read("booklet-01-en.pdf"), tmp_path)
        assert "Design no. 1" in pdftext(zf.read("answer-key-en.pdf"), tmp_path)
    with factory() as db:
        frozen = db.get(PrintedDesign, 1)
        assert frozen is not None and db.scalar(select(func.count()).select_from(PrintedDesign)) == 1
        today = {v.unit_id: v.id for v in in_use_versions(db)}
        assert frozen.pins[unit_id]["unit_version"] != today[unit_id]
