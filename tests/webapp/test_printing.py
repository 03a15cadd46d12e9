"""Paper forms in the web app (blueprint ``print``): role boundaries, the design page, the preview,
the PDF downloads (the right language, no key in a booklet, keys in the teacher materials), and
paper answers typed in or uploaded, scored like online answers and stored as a data set; a bad
upload is refused with its row and column and nothing is stored."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itembank.bank.queries import in_use_versions, unit_schema
from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    ShortResponse,
    SingleChoice,
)
from itembank.delivery.scoring import score_response
from itembank.paper.design import make_design
from itembank.research.models import Dataset, DatasetPerson, DatasetResponse

from .conftest import csrf_token
from .test_scope import add_user, login

FIVE_BOOKLETS = re.compile(r"/print/booklets/(\d+)\.pdf")


@pytest.fixture
def people(app: Flask) -> None:
    from itembank.orgs.roster import import_roster

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        import_roster(db, b"city,school,class,student_id,name,grade,language,gender\n"
                          b"taipei,north,801,s-1,Student One,8,zh-TW,\n", "roster.csv")  # fmt: skip
        add_user(db, "t-north", "teacher", school="north")
        add_user(db, "stu", "student", school="north")
        add_user(db, "rev", "reviewer")
        add_user(db, "admin", "admin")


def units_of(app: Flask):  # type: ignore[no-untyped-def]
    with app.extensions["itembank_sessionmaker"]() as db:
        return [unit_schema(v) for v in in_use_versions(db)]


def pdftext(data: bytes, tmp: Path) -> str:
    path = tmp / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_print_route_checks_a_role(app: Flask, client: FlaskClient, people: None) -> None:
    views = {n: f for n, f in app.view_functions.items() if n.startswith("print.")}
    assert len(views) >= 9
    assert [n for n, f in views.items() if getattr(f, "required_roles", None) != ("teacher", "school_admin", "admin")] == []
    urls = ["/print/", "/print/booklets/1/preview", "/print/booklets/1.pdf", "/print/teacher/answer-key.pdf",
            "/print/teacher/coding-guide.pdf", "/print/teacher-pack.zip", "/print/design.yaml",
            "/print/answers-template.csv", "/print/paper", "/print/paper/entry"]  # fmt: skip
    for url in urls:
        reply = client.get(url)
        assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"], url
    login(client, "stu")
    for url in urls:
        assert client.get(url).status_code == 403, url
    login(client, "rev")  # a reviewer is no teacher either
    assert client.get("/print/teacher/answer-key.pdf").status_code == 403


def test_a_student_in_a_test_session_never_reaches_the_teacher_materials(client: FlaskClient) -> None:
    from .test_deliver import join

    assert join(client).status_code == 302
    for url in ("/print/teacher/answer-key.pdf", "/print/teacher/coding-guide.pdf", "/print/teacher-pack.zip",
                "/print/booklets/1.pdf"):
        reply = client.get(url)
        assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"], url


def test_the_design_page_lists_every_booklet_and_cluster(app: Flask, client: FlaskClient, people: None) -> None:
    login(client, "t-north")
    design = make_design(units_of(app))
    page = client.get("/print/?language=en").get_data(as_text=True)
    for b in design.booklets:
        assert f"/print/booklets/{b}/preview?language=en" in page and f"/print/booklets/{b}.pdf?language=en" in page
    for c in design.clusters:
        assert re.search(rf"<strong>{c.id}</strong> · {round(c.minutes)} (min|分鐘)", page)
        assert ", ".join(c.units) in page
    assert sorted({int(n) for n in FIVE_BOOKLETS.findall(page)}) == sorted(design.booklets)
    # another design by its parameters; a bad parameter names its field
    page = client.get("/print/?language=zh-TW&clusters=4&positions=2").get_data(as_text=True)
    assert len(set(FIVE_BOOKLETS.findall(page))) == 4 and 'value="zh-TW" checked' in page
    reply = client.get("/print/?positions=99")
    assert reply.status_code == 400 and "1-8" in reply.get_data(as_text=True)
    assert client.get("/print/booklets/99.pdf").status_code == 404


def test_a_preview_returns_the_first_pages_as_png(client: FlaskClient, people: None) -> None:
    login(client, "t-north")
    page = client.get("/print/booklets/1/preview?language=zh-TW").get_data(as_text=True)
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    assert len(images) == 3
    import base64

    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data, _alt in images)
    assert all(alt.strip() for _data, alt in images)


def test_a_booklet_has_its_language_and_no_key_and_the_teacher_materials_have_the_keys(
    app: Flask, client: FlaskClient, people: None, tmp_path: Path
) -> None:
    login(client, "t-north")
    units = {u.id: u for u in units_of(app)}
    design = make_design(list(units.values()))
    reply = client.get("/print/booklets/1.pdf?language=zh-TW")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert 'filename="booklet-01-zh-TW.pdf"' in reply.headers["Content-Disposition"]
    text = pdftext(reply.data, tmp_path)
    booklet_units = [units[u] for u in design.units_of(1)]
    assert "題本" in text and "作答說明" in text and "Instructions" not in text
    assert flat(booklet_units[0].title.get("zh-TW")) in flat(text)
    secret = [c.descriptor.get("zh-TW")[:12] for u in booklet_units for i in u.items if isinstance(i, OpenResponse)
              for c in i.coding_guide]
    secret += [a for u in booklet_units for i in u.items if isinstance(i, ShortResponse) for a in i.accepted.zh_TW]
    assert secret and not [s for s in secret if flat(s) in flat(text)]
    en = pdftext(client.get("/print/booklets/2.pdf?language=en").data, tmp_path)
    assert "Instructions" in en and "作答說明" not in en
    key = client.get("/print/teacher/answer-key.pdf?language=en")
    assert 'filename="answer-key-en.pdf"' in key.headers["Content-Disposition"]
    key_text = pdftext(key.data, tmp_path)
    assert "Answer key" in key_text
    for u in units.values():
        for i in u.items:
            if isinstance(i, ShortResponse):
                assert i.accepted.en[0] in key_text
    guide = pdftext(client.get("/print/teacher/coding-guide.pdf?language=zh-TW").data, tmp_path)
    opened = [c for u in units.values() for i in u.items if isinstance(i, OpenResponse) for c in i.coding_guide]
    assert opened and all(flat(c.descriptor.get("zh-TW"))[:8] in flat(guide) for c in opened[:3])
    pack = zipfile.ZipFile(io.BytesIO(client.get("/print/teacher-pack.zip?language=en").data))
    assert sorted(pack.namelist()) == ["ANSWERS.csv", "answer-key-en.pdf", "coding-guide-en.pdf", "design.yaml"]


def right_and_wrong(item):  # type: ignore[no-untyped-def]
    """(paper cell, online response) pairs: the key, and a wrong or partial answer."""
    if isinstance(item, SingleChoice):
        wrong = next(o.id for o in item.options if o.id != item.key)
        return [(item.key, item.key), (wrong, wrong)]
    if isinstance(item, MultipleChoice):
        return [(";".join(item.key), list(item.key)), (item.key[0], [item.key[0]])]
    if isinstance(item, ComplexChoice):
        half = dict(list(item.key.items())[:-1])
        return [(";".join(f"{s}={c}" for s, c in item.key.items()), dict(item.key)),
                (";".join(f"{s}={c}" for s, c in half.items()), half)]
    if isinstance(item, ShortResponse):
        return [(item.accepted.en[0], item.accepted.en[0]), ("nothing like it", "nothing like it")]
    return []


def upload_answers(client: FlaskClient, text: str, **extra):  # type: ignore[no-untyped-def]
    page = client.get("/print/paper?language=en").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "answers": (io.BytesIO(text.encode()), "ANSWERS.csv"),
            "name": "paper spring", "window": "2026-05", **extra}
    return client.post("/print/paper?language=en", data=data, content_type="multipart/form-data")


def test_paper_answers_are_scored_like_online_answers_and_stored(
    app: Flask, client: FlaskClient, people: None
) -> None:
    login(client, "t-north")
    units = {u.id: u for u in units_of(app)}
    design = make_design(list(units.values()))
    header = ["person_id", "booklet", *(i.id for u in design.unit_ids() for i in units[u].items)]
    rows, expected = [], {}
    for person, pick in (("p-right", 0), ("p-wrong", 1)):
        mine = {i.id: i for u in design.units_of(1) for i in units[u].items}
        cells = {}
        for item in mine.values():
            pairs = right_and_wrong(item)
            if pairs:
                cells[item.id] = pairs[pick][0]
                expected[(person, item.id)] = score_response(item, pairs[pick][1])
            else:  # open response: the coder's code
                code = item.coding_guide[pick]
                cells[item.id] = code.code
                expected[(person, item.id)] = code.score
        rows.append([person, "1", *(cells.get(h, "") for h in header[2:])])
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    reply = upload_answers(client, text)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with app.extensions["itembank_sessionmaker"]() as db:
        ds = db.scalars(select(Dataset)).one()
        assert ds.name == "paper spring" and ds.window == "2026-05" and ds.n_persons == 2
        got = {(p, i): s for p, i, s in db.execute(
            select(DatasetPerson.person_id, DatasetResponse.item_id, DatasetResponse.score)
            .join(DatasetPerson, DatasetResponse.person_ref == DatasetPerson.id))}  # fmt: skip
        people_rows = db.scalars(select(DatasetPerson)).all()
        assert {(p.city, p.school, p.language) for p in people_rows} == {("taipei", "north", "en")}
    assert got == expected
    assert any(s > 0 for (p, _i), s in got.items() if p == "p-right")
    stored = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "paper spring" in stored
    csv_text = client.get(f"/print/paper/datasets/{ds.id}/responses.csv").get_data(as_text=True)
    assert csv_text.startswith("person_id,") and "p-right" in csv_text


def test_a_bad_upload_names_row_and_column_and_stores_nothing(app: Flask, client: FlaskClient, people: None) -> None:
    login(client, "t-north")
    units = {u.id: u for u in units_of(app)}
    design = make_design(list(units.values()))
    ids = [i.id for u in design.unit_ids() for i in units[u].items]
    first = next(i for u in design.units_of(1) for i in units[u].items if isinstance(i, SingleChoice))
    outside = next(i for i in ids if i not in {x.id for u in design.units_of(1) for x in units[u].items})
    col_first, col_outside = ids.index(first.id) + 3, ids.index(outside) + 3
    row2 = ["a", "1"] + ["" for _ in ids]
    row2[col_first - 1] = "ZZ"
    row3 = ["b", "1"] + ["" for _ in ids]
    row3[col_outside - 1] = "A"
    row4 = ["c", "77"] + ["" for _ in ids]
    text = "\n".join(",".join(r) for r in [["person_id", "booklet", *ids], row2, row3, row4]) + "\n"
    reply = upload_answers(client, text)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    shown = re.findall(r"<code>(ANSWERS\.csv:[^<]*)</code>", page)
    assert f"ANSWERS.csv:2:{col_first}" in shown and f"ANSWERS.csv:3:{col_outside}" in shown, shown
    assert "ANSWERS.csv:4:2" in shown
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.scalar(select(func.count()).select_from(Dataset)) == 0
        assert db.scalar(select(func.count()).select_from(DatasetResponse)) == 0


def test_answers_typed_in_student_by_student(app: Flask, client: FlaskClient, people: None) -> None:
    login(client, "t-north")
    units = {u.id: u for u in units_of(app)}
    design = make_design(list(units.values()))
    page = client.get("/print/paper/entry?language=en&booklet=2").get_data(as_text=True)
    data: dict[str, object] = {"csrf_token": csrf_token(page), "booklet": "2", "answers": "",
                               "person_id": "typed-1", "action": "add"}
    expected = {}
    for u in design.units_of(2):
        for item in units[u].items:
            assert f'name="answer-{item.id}' in page
            key = f"answer-{item.id}"
            if isinstance(item, SingleChoice):
                data[key] = item.key
            elif isinstance(item, MultipleChoice):
                data[key] = list(item.key)
            elif isinstance(item, ComplexChoice):
                for s, c in item.key.items():
                    data[f"{key}-{s}"] = c
            elif isinstance(item, ShortResponse):
                data[key] = item.accepted.zh_TW[0]
            else:
                data[key] = item.coding_guide[0].code
            expected[item.id] = item.max_score if not isinstance(item, OpenResponse) else item.coding_guide[0].score
    reply = client.post("/print/paper/entry?language=en", data=data)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "typed-1" in page
    answers = re.search(r'name="answers" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    import html

    answers = html.unescape(answers)
    assert answers.startswith("person_id,booklet,") and "typed-1,2," in answers
    # a bad answer is refused and the list keeps what it had
    bad = dict(data, person_id="typed-1", answers=answers)
    reply = client.post("/print/paper/entry?language=en", data=bad)
    shown = reply.get_data(as_text=True)  # in the page's language (webapp/printing/messages.py)
    assert reply.status_code == 422
    assert "person_id typed-1 重複出現" in shown or "The person_id typed-1 appears twice" in shown
    reply = client.post("/print/paper/entry?language=en", data={
        "csrf_token": data["csrf_token"], "answers": answers, "action": "save", "name": "typed"})
    assert reply.status_code == 302
    with app.extensions["itembank_sessionmaker"]() as db:
        got = dict(db.execute(select(DatasetResponse.item_id, DatasetResponse.score)).all())
    assert got == expected
