"""Issue 16 on the print pages: a data set of paper answers records the printed design it was
scored against (shown on its page and in the research list), and the design page warns when a
booklet's units need more time than the design states.  On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.bank.schema import OpenResponse
from itembank.paper import printed
from itembank.paper.booklet_set import approved_units
from itembank.paper.design import estimated_minutes, make_design
from itembank.research.models import Dataset

from .conftest import csrf_token
from .test_printing import people as people  # noqa: F401  (fixture)
from .test_scope import login


def _upload(client: FlaskClient, answers: str, name: str, design: bytes | None = None) -> str:
    page = client.get("/print/paper?language=en").get_data(as_text=True)
    data: dict[str, object] = {"csrf_token": csrf_token(page), "name": name,
                               "answers": (io.BytesIO(answers.encode()), "ANSWERS.csv")}
    if design is not None:
        data["design"] = (io.BytesIO(design), "design.yaml")
    reply = client.post("/print/paper?language=en", content_type="multipart/form-data", data=data)
    assert reply.status_code == 302, re.sub(r"(?s).*<main", "", reply.get_data(as_text=True))[:1500]
    return client.get(reply.headers["Location"]).get_data(as_text=True)


def test_a_paper_data_set_records_its_printed_design(app: Flask, client: FlaskClient,
                                                     people: None) -> None:  # noqa: F811
    client.set_cookie("lang", "en")
    login(client, "t-north")
    saved = client.get("/print/design.yaml?language=en").data  # printing saves design 1
    number = yaml.safe_load(saved)["printed_design"]
    header = client.get(f"/print/answers-template.csv?language=en&printed={number}").get_data(as_text=True)
    columns = header.strip().splitlines()[0].split(",")
    with app.extensions["itembank_sessionmaker"]() as db:
        row = printed.get(db, number)
        units = printed.pinned_bank(db, row).by_id
        open_items = {i.id for u in printed.design_of(row).units_of(1) for i in units[u].items
                      if isinstance(i, OpenResponse)}
    cells = ["9" if c in open_items else "" for c in columns[2:]]  # blank choices: omitted
    answers = ",".join(columns) + "\n" + ",".join(["p-1", "1", *cells]) + "\n"
    page = _upload(client, answers, "with the design", saved)
    assert f"Scored against printed design no. {number}" in page
    page = _upload(client, answers.replace("p-1", "p-2"), "without a design")
    assert "Scored against a design that was not saved as a printed design." in page
    with app.extensions["itembank_sessionmaker"]() as db:
        recorded = {name: design for name, design in db.execute(select(Dataset.name, Dataset.printed_design_id))}
    assert recorded == {"with the design": number, "without a design": None}
    admin = app.test_client()
    admin.set_cookie("lang", "en")
    login(admin, "admin")
    listing = admin.get("/research/").get_data(as_text=True)
    assert f"paper, printed design no. {number}" in listing and listing.count("paper, printed design") == 1
    admin.set_cookie("lang", "zh-TW")
    assert f"紙本，題本設計編號 {number}" in admin.get("/research/").get_data(as_text=True)


def test_the_design_page_warns_of_booklets_longer_than_stated(app: Flask, client: FlaskClient,
                                                              people: None) -> None:  # noqa: F811
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        bank = approved_units(db)
        design = make_design(bank.units[:4], 4, 2)
        design.minutes = 5.0  # e.g. a design file of the command line, printed there
        need = {b: estimated_minutes(design, bank.by_id, b) for b in design.booklets}
        number = printed.freeze(db, design, bank).id
        plain = printed.freeze(db, make_design(bank.units[:4], 4, 2), bank).id
    assert all(m > 5 for m in need.values())
    login(client, "t-north")
    client.set_cookie("lang", "en")
    page = client.get(f"/print/?language=en&printed={number}").get_data(as_text=True)
    assert "Some booklets need more time than the design gives them" in page
    for b, minutes in need.items():
        assert (f"Booklet {b}: its units need about {minutes:.0f} minutes, more than the 5 minutes the "
                "design states.") in page
    client.set_cookie("lang", "zh-TW")
    zh = client.get(f"/print/?language=en&printed={number}").get_data(as_text=True)
    assert f"第 1 本題本的題組估計約需 {need[1]:.0f} 分鐘，超過設計所訂的 5 分鐘。" in zh
    assert "Some booklets need" not in client.get(f"/print/?language=en&printed={plain}").get_data(as_text=True)
    assert "題本需要的時間" not in client.get(f"/print/?language=en&printed={plain}").get_data(as_text=True)
