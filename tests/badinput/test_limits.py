"""Every parser bounded (docs/deployment.md, "Limits"): nested YAML aliases, a huge CSV cell, a
QTI manifest with hundreds of thousands of resources, NUL bytes and bytes that are not UTF-8 at
the edge, over-long form fields — each refused with a clear 4xx message naming file/line or field,
nothing stored, at every entry point of its kind, on each database."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itembank.bank.csv_import import checked_text
from itembank.bank.yaml_source import parse_yaml
from itembank.errors import DataFileError, ProblemsError
from itembank.orgs.models import Student
from itembank.qti import read_qti_package
from itembank.research.models import Dataset
from tests.webapp.conftest import app, csrf_token  # noqa: F401  (fixtures)

BOMB = b"a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"%c: &%c [%s]\n" % (ord("b") + k, ord("b") + k, b",".join([b"*%c" % (ord("a") + k)] * 9)) for k in range(8))


def test_the_alias_bomb_is_small_and_would_explode() -> None:
    assert len(BOMB) < 400
    assert BOMB.count(b"*") <= 100  # under the alias limit: the node limit stops it


@pytest.mark.parametrize("text,where", [
    (BOMB, "values in one document"),
    (b"a: &a [1]\n" + b"".join(b"k%d: *a\n" % i for i in range(150)), "aliases"),
    (b"a: &a [*a]\n", "levels deep"),
    (b"[" * 3000 + b"]" * 3000, "levels deep"),
    (b"a: " + b"x" * 1_100_000, "characters long"),
])
def test_yaml_is_bounded_before_it_is_built(text: bytes, where: str) -> None:
    doc, problems = parse_yaml(text, "unit.yaml")
    assert doc is None and len(problems) == 1
    assert problems[0].file == "unit.yaml" and problems[0].line >= 1
    assert where in problems[0].message


def test_the_yaml_editor_refuses_the_bomb(people: Flask) -> None:
    from tests.webapp.test_authoring import login

    client = people.test_client()
    login(client, "tina")
    page = client.get("/author/new/yaml").get_data(as_text=True)
    reply = client.post("/author/new/yaml", data={"csrf_token": csrf_token(page), "yaml": BOMB.decode()})
    assert reply.status_code == 422
    assert "values in one document" in reply.get_data(as_text=True)


@pytest.mark.parametrize("data,where", [
    (b"a,b\n" + b"x" * 3_000_000 + b",1\n", (2, 1)),
    (b"a,b\n1,2\n\"open quote,3\n" + b"x" * 20_000, (4, 1)),  # the open cell runs to the end
    (b"a,b\n1,\x002\n", (2, 0)),
    (b"a,b\n1,\xff\xfe\n", (2, 0)),
])
def test_csv_is_bounded(data: bytes, where: tuple[int, int]) -> None:
    with pytest.raises(DataFileError) as caught:
        checked_text(data, "f.csv")
    [problem] = caught.value.problems
    assert problem.file == "f.csv" and problem.line == where[0]


def test_a_csv_with_more_rows_than_allowed_is_refused() -> None:
    with pytest.raises(DataFileError, match="more than 3 rows"):
        checked_text(b"a\n1\n2\n3\n", "f.csv", max_rows=3)
    assert checked_text(b"a\n1\n2\n", "f.csv", max_rows=3) == "a\n1\n2\n"


def _manifest_zip(resources: int) -> bytes:
    rows = "".join(f'<resource type="imsqti_item_xmlv3p0" href="{i}"/>' for i in range(resources))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", f"<manifest><resources>{rows}</resources></manifest>")
    return buf.getvalue()


@pytest.mark.parametrize("resources,message", [(400_000, "elements in one file"), (20_000, "resources")])
def test_a_qti_manifest_is_capped_in_resources(resources: int, message: str) -> None:
    bank = read_qti_package(_manifest_zip(resources), "big.zip")
    assert len(bank.problems) == 1 and message in bank.problems[0].message
    assert bank.problems[0].file == "big.zip:imsmanifest.xml"


def test_qti_xml_is_capped_in_depth() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("imsmanifest.xml", "<a>" * 500 + "</a>" * 500)
    with pytest.raises(ProblemsError, match="levels deep"):
        bank = read_qti_package(buf.getvalue(), "deep.zip")
        raise ProblemsError(bank.problems)


# -- at the web entry points -----------------------------------------------------------------------
@pytest.fixture
def people(app: Flask) -> Flask:  # noqa: F811
    from itembank.accounts.users import create_user
    from tests.webapp.test_authoring import PASSWORD, ROLES
    from webapp.database import get_db

    with app.app_context():
        db = get_db()
        with db.begin():
            for name, role in ROLES.items():
                create_user(db, name, role, PASSWORD)
    return app


def _admin(app: Flask) -> FlaskClient:  # noqa: F811
    from tests.webapp.test_authoring import login

    client = app.test_client()
    login(client, "ada")
    return client


HUGE_CELL = b"person_id,city,school\n" + b"p1,taipei," + b"x" * 3_000_000 + b"\n"
CSV_UPLOADS = {
    "research data set": ("/research/", "/research/datasets", "file", {"name": "x"}),
    "roster": ("/manage/roster", "/manage/roster", "roster", {}),
}


@pytest.mark.parametrize("entry", CSV_UPLOADS)
def test_a_huge_csv_cell_is_a_clean_refusal_at_every_upload(people: Flask, entry: str) -> None:
    page_url, url, field, extra = CSV_UPLOADS[entry]
    client = _admin(people)
    page = client.get(page_url).get_data(as_text=True)
    reply = client.post(url, data={"csrf_token": csrf_token(page), **extra,
                                   field: (io.BytesIO(HUGE_CELL), "big.csv")},
                        content_type="multipart/form-data")
    assert reply.status_code == 422, reply.status_code
    assert "big.csv:2:" in reply.get_data(as_text=True)
    with people.extensions["itembank_sessionmaker"]() as db:
        assert db.scalar(select(func.count()).select_from(Dataset)) == 0
        assert db.scalar(select(func.count()).select_from(Student)) == 0


def test_the_qti_import_page_refuses_a_huge_manifest_briefly(people: Flask) -> None:
    client = _admin(people)
    page = client.get("/author/qti/import").get_data(as_text=True)
    reply = client.post("/author/qti/import", data={"csrf_token": csrf_token(page),
                                                   "package": (io.BytesIO(_manifest_zip(400_000)), "big.zip")},
                        content_type="multipart/form-data")
    assert reply.status_code == 422
    assert len(reply.data) < 100_000  # one problem, not 400 000


EDGE = [
    ("get", "/manage/tests/demo%00cat/summary", None),
    ("get", "/author/units/T-01%00", None),
    ("get", "/author/?q=a%00b", None),
    ("get", "/author/?q=%ff%fe", None),
    ("get", "/author/units/%ff%fe", None),
    ("post", "/api/v1/sessions", {"json": {"test": "demo-cat\x00", "access_code": "DEMO", "student": "s",
                                           "language": "en"}}),
    ("post", "/auth/login", {"data": {"username": "a\x00b", "password": "x"}}),
    ("post", "/auth/login", {"data": {"username": "a" * 200_000, "password": "x"}}),
    ("post", "/auth/login", {"data": "username=%ff%fe&password=x",
                             "content_type": "application/x-www-form-urlencoded"}),
    ("post", "/author/new/yaml", {"data": {"yaml": "id: a\x00"}}),
]


@pytest.mark.parametrize("method,url,kwargs", EDGE, ids=[f"{m} {u[:30]}" for m, u, _k in EDGE])
def test_nul_bytes_invalid_utf8_and_long_fields_are_400_at_the_edge(people: Flask, method: str, url: str,
                                                                    kwargs: dict | None) -> None:
    client = _admin(people)
    kwargs = dict(kwargs or {})
    if method == "post" and "data" in kwargs:  # a real form's token: the edge is after CSRF
        token = csrf_token(client.get("/author/new/yaml").get_data(as_text=True))
        if isinstance(kwargs["data"], dict):
            kwargs["data"] = {**kwargs["data"], "csrf_token": token}
        else:
            kwargs["data"] += f"&csrf_token={token}"
    reply = getattr(client, method)(url, **kwargs)
    assert reply.status_code == 400, (url, reply.status_code)
    text = reply.get_data(as_text=True)
    assert "NUL" in text or "UTF-8" in text or "longer than" in text
