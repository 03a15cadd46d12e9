"""Every CSV that leaves the app goes through the one CSV writer (itembank/bank/csv_export.py): a
cell that a spreadsheet would run as a formula (= + - @, tab, carriage return) arrives as text
with a leading apostrophe, numbers stay numbers — for each export, on each database."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.csv_export import csv_text, safe_cell, safe_csv_text

from ..conftest import REPO, import_bank
from ..itembank.research.research_data import field_trial_csv
from ..webapp.conftest import csrf_token

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|x",
            "\t=1+1", "\r=1+1"]


def is_formula(cell: str) -> bool:
    try:
        float(cell)
        return False
    except ValueError:
        return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_cell_is_neutralised_and_a_number_is_not(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert not is_formula(safe_cell(value))
    for number in ("-1.25", "+3", "-0.5e-3", "12"):
        assert safe_cell(number) == number
    assert safe_cell(safe_cell(value)) == safe_cell(value)  # idempotent
    assert next(csv.reader(io.StringIO(csv_text([[value, -1.5]]), newline=""))) == ["'" + value, "-1.5"]
    assert safe_csv_text(f"a,b\n{csv_text([[value, 'x']])}") == csv_text([["a", "b"], [value, "x"]])


@pytest.fixture
def admin_client(request: pytest.FixtureRequest, app: Flask, session_factory: sessionmaker[Session]) -> FlaskClient:
    from itembank.accounts.users import create_user

    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    with session_factory() as s, s.begin():
        create_user(s, "ada", "admin", "a-long-password-1")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/login", data={"username": "ada", "password": "a-long-password-1",
                                     "csrf_token": csrf_token(page)})
    return client


def poisoned_dataset() -> bytes:
    """A field trial whose person ids and schools are formulas (three schools of 40)."""
    rows = list(csv.reader(io.StringIO(field_trial_csv(12, 120).decode(), newline="")))
    for k, cells in enumerate(rows[1:]):
        cells[0] = f"{FORMULAS[k % len(FORMULAS)]}{k}"
        cells[2] = FORMULAS[k % 3]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # the raw attack, not the safe writer
    return out.getvalue().encode()


def upload(client: FlaskClient) -> None:
    token = csrf_token(client.get("/research/").get_data(as_text=True))
    reply = client.post("/research/datasets", data={"csrf_token": token, "name": "ft", "window": "2026-05",
                                                    "file": (io.BytesIO(poisoned_dataset()), "ft.csv")},
                        content_type="multipart/form-data")
    assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]


EXPORTS = [
    "/research/datasets/1.csv",
    "/research/reports/students.csv?source=dataset:1&grouping=school",
    "/research/reports/groups.csv?source=dataset:1&grouping=school",
    "/print/paper/datasets/1/responses.csv",
]


@pytest.mark.parametrize("url", EXPORTS)
def test_no_export_carries_a_formula(admin_client: FlaskClient, url: str) -> None:
    upload(admin_client)
    reply = admin_client.get(url)
    assert reply.status_code == 200, url
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [c for row in rows for c in row]
    assert [c for c in cells if is_formula(c)] == []
    assert any(c.startswith("'") and c[1:2] in "=+-@\t\r" for c in cells), "the poisoned cells are exported"


def test_typed_in_paper_answers_download_without_formulas(admin_client: FlaskClient) -> None:
    page = admin_client.get("/print/paper/entry").get_data(as_text=True)
    answers = 'person_id,booklet\n"=HYPERLINK(""http://evil.example"")",1\n@SUM(1),1\n'
    reply = admin_client.post("/print/paper/entry", data={"csrf_token": csrf_token(page), "action": "download",
                                                          "answers": answers})
    assert reply.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(reply.get_data(as_text=True))) for c in row]
    assert '\'=HYPERLINK("http://evil.example")' in cells and "'@SUM(1)" in cells
    assert [c for c in cells if is_formula(c)] == []


def test_teacher_summaries_and_session_lists_carry_no_formula(app: Flask) -> None:
    """The teachers' CSVs (manage/reports.py): class and student names from a roster that are formulas."""
    from itembank.orgs.roster import import_roster
    from tests.security.conftest import start_api_session
    from tests.webapp.test_scope import add_user, login

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(
            [["city", "school", "class", "student_id", "name", "grade", "language", "gender"],
             *(["taipei", "north", FORMULAS[k % 3][:60], f"s-{k}", FORMULAS[k % 5], "8", "en", ""] for k in range(30))])
        import_roster(db, out.getvalue().encode(), "roster.csv")
        add_user(db, "boss", "admin")
    client = app.test_client()
    for k in range(30):  # the demo is an open test: its sessions carry the student id as typed
        start_api_session(app.test_client(), f"{FORMULAS[k % 4]}-{k}")
    login(client, "boss")
    for url in ("/manage/tests/demo-cat/summary.csv?by=class", "/manage/tests/demo-cat/sessions.csv?identify=1"):
        reply = client.get(url)
        assert reply.status_code == 200, url
        cells = [c for row in csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))) for c in row]
        assert [c for c in cells if is_formula(c)] == [], url
        if "identify" in url:  # the poisoned ids are there (the summary has no scored group yet)
            assert any(c.startswith("'") for c in cells), url
