"""The teaching-materials pages (/materials), on SQLite and PostgreSQL: a teacher uploads a lesson
plan, a reviewer approves it, a teacher of the partner city finds it (and never one kept to the own
city), downloads it (counted and audited); refused files; escaped author content; the results page
points to materials on the weakest dimension; a unit's page lists materials on its SDGs."""

from __future__ import annotations

import io
import re
import secrets
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.accounts.audit import entries
from itembank.bank.models import ItemVersion, UnitVersion
from itembank.delivery.models import Response, TestSession
from itembank.materials.models import Material
from itembank.orgs.models import ClassTeacher

from .conftest import csrf_token
from .test_scope import add_user, build_world, class_of
from .test_scope import login as login_zh

PDF = b"%PDF-1.4\n% a lesson plan\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def world(app: Flask) -> None:
    build_world(app)
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        t_george = add_user(db, "t-george", "teacher")  # a partner-city teacher, by their class
        db.add(ClassTeacher(class_id=class_of(db, "george", "8A").id, user_id=t_george.id))
        add_user(db, "reviewer", "reviewer")
        add_user(db, "student-user", "student")


def login(client: FlaskClient, username: str, language: str = "en") -> None:
    login_zh(client, username)
    client.get(f"/language/{language}")


def upload(client: FlaskClient, *, title: str = "Climate plan", visibility: str = "partners",
           data: bytes = PDF, filename: str = "plan.pdf", **extra: object):  # type: ignore[no-untyped-def]
    page = client.get("/materials/new").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "title_zh": title + "（中文）", "title_en": title,
            "summary_zh": "兩節課的活動。", "summary_en": "Two lessons.", "author": "Lin Mei",
            "licence": "CC-BY-4.0", "kind": "lesson_plan", "sdgs": ["4", "13"],
            "dimension": "understand_perspectives", "process": "analyse_perspectives",
            "grade_bands": ["junior_high"], "languages": ["zh-TW", "en"], "subject": "Civics",
            "visibility": visibility, "submit": "1",
            "file": (io.BytesIO(data), filename)}
    form.update(extra)  # type: ignore[arg-type]
    return client.post("/materials/new", data=form, content_type="multipart/form-data")


def material_id(app: Flask, title: str) -> int:
    with app.extensions["itembank_sessionmaker"]() as db:
        return next(m.id for m in db.scalars(select(Material)) if m.title["en"] == title)


def approve(app: Flask, client: FlaskClient, mid: int) -> None:
    login(client, "reviewer")
    page = client.get(f"/materials/{mid}").get_data(as_text=True)
    reply = client.post(f"/materials/{mid}/review",
                        data={"csrf_token": csrf_token(page), "action": "approve"})
    assert reply.status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})


def test_share_approve_and_a_partner_city_downloads(app: Flask, client: FlaskClient, world: None) -> None:
    login(client, "t-north")
    assert upload(client, title="Partners plan").status_code == 302
    assert upload(client, title="Taipei only", visibility="city").status_code == 302
    shared, own_city = material_id(app, "Partners plan"), material_id(app, "Taipei only")
    approve(app, client, shared)
    approve(app, client, own_city)

    george = app.test_client()
    login(george, "t-george")
    listing = george.get("/materials/").get_data(as_text=True)
    assert "Partners plan" in listing and "Taipei only" not in listing
    assert george.get(f"/materials/{own_city}").status_code == 404
    assert george.get(f"/materials/{own_city}/download").status_code == 404
    assert "Partners plan" in george.get("/materials/?sdg=13&dimension=understand_perspectives").get_data(as_text=True)
    assert "Partners plan" not in george.get("/materials/?sdg=1").get_data(as_text=True)
    reply = george.get(f"/materials/{shared}/download")
    assert reply.status_code == 200 and reply.data == PDF
    assert reply.mimetype == "application/pdf" and "attachment" in reply.headers["Content-Disposition"]
    south = app.test_client()
    login(south, "t-south")  # the own city sees the city-only one
    assert south.get(f"/materials/{own_city}").status_code == 200
    with app.extensions["itembank_sessionmaker"]() as db:
        m = db.get(Material, shared)
        assert m is not None and m.downloads == 1
        actions = {e.action for e in entries(db, obj=f"material:{m.uid}")}
    assert {"material.upload", "material.submit", "material.approve", "material.download"} <= actions


def test_roles_are_checked_and_forms_need_csrf(app: Flask, client: FlaskClient, world: None) -> None:
    login(client, "t-north")
    upload(client, title="Plan")
    mid = material_id(app, "Plan")
    anonymous = app.test_client()
    student = app.test_client()
    login(student, "student-user")
    for url in ("/materials/", "/materials/new", f"/materials/{mid}", f"/materials/{mid}/download",
                "/materials/for-test/t-spring"):
        reply = anonymous.get(url)
        assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"], url
        assert student.get(url).status_code == 403, url
    assert client.post(f"/materials/{mid}/comments", data={"text": "no token"}).status_code == 400
    # a teacher cannot approve, even with a token
    page = client.get(f"/materials/{mid}").get_data(as_text=True)
    assert client.post(f"/materials/{mid}/review", data={"csrf_token": csrf_token(page),
                                                          "action": "approve"}).status_code == 403


def test_refused_files_and_escaped_content(app: Flask, client: FlaskClient, world: None) -> None:
    login(client, "t-north")
    reply = upload(client, data=b"<html><script>alert(1)</script></html>", filename="x.pdf")
    assert reply.status_code == 400 and "This kind of file is not accepted" in reply.get_data(as_text=True)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    reply = upload(client, data=svg, filename="x.svg")
    assert reply.status_code == 400 and "This SVG is refused" in reply.get_data(as_text=True)
    reply = upload(client, licence="GPL")
    assert reply.status_code == 400 and "Licence: choose one" in reply.get_data(as_text=True)
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.scalars(select(Material)).first() is None
    assert upload(client, title="<script>alert(1)</script>").status_code == 302
    mid = material_id(app, "<script>alert(1)</script>")
    page = client.get(f"/materials/{mid}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    reply = client.post(f"/materials/{mid}/comments",
                        data={"csrf_token": csrf_token(page), "text": "<b>bold</b> idea"})
    assert reply.status_code == 302
    page = client.get(f"/materials/{mid}").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt; idea" in page


def _answers(app: Flask) -> None:
    """Responses of penang's sessions: understand_perspectives (T-01) answered badly, take_action
    (T-02) well."""
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        ivs = {uid: db.scalars(select(ItemVersion).join(UnitVersion)
                               .where(UnitVersion.unit_id == uid)).first() for uid in ("T-01", "T-02")}
        george = class_of(db, "george", "8A").id
        for k, ts in enumerate(db.scalars(select(TestSession).where(TestSession.class_id == george))):
            for n, (uid, iv) in enumerate(ivs.items()):
                assert iv is not None
                score = (k % 2) * 0 if uid == "T-01" else iv.max_score
                if uid == "T-01" and k == 0:
                    score = iv.max_score
                db.add(Response(session_id=ts.id, sequence=n + 1, response_id=secrets.token_hex(4),
                                item_id=iv.item_id, item_version_id=iv.id, response="x", score=score))


def test_the_results_point_to_materials_on_the_weakest_dimension(
    app: Flask, client: FlaskClient, world: None
) -> None:
    _answers(app)
    login(client, "t-north")
    upload(client, title="Perspectives plan")
    upload(client, title="Action plan", dimension="take_action", process="evaluate_actions")
    for title in ("Perspectives plan", "Action plan"):
        approve(app, client, material_id(app, title))
    george = app.test_client()
    login(george, "t-george")
    assert 'href="/materials/for-test/t-spring"' in george.get("/manage/tests/t-spring/summary").get_data(as_text=True)
    page = george.get("/materials/for-test/t-spring").get_data(as_text=True)
    weakest = page.index(">weakest<")
    assert "Understand and appreciate perspectives" in page[weakest - 300:weakest]
    section = page[page.index("Materials on Understand"):]
    assert "Perspectives plan" in section.split("</section>")[0]
    assert "Action plan" not in section.split("</section>")[0]
    assert re.search(r"<td>6</td><td>17%</td><td>\d+\.\d%</td>", page), page
    # t-north has no penang sessions: no figures of another city's class
    assert "17%" not in client.get("/materials/for-test/t-spring").get_data(as_text=True)


def test_a_unit_page_lists_materials_on_its_sdgs(app: Flask, client: FlaskClient, world: None) -> None:
    login(client, "t-north")
    upload(client, title="Education plan", sdgs=["4"])
    upload(client, title="Water plan", sdgs=["6"])
    approve(app, client, material_id(app, "Education plan"))
    approve(app, client, material_id(app, "Water plan"))
    login(client, "t-north")
    page = client.get("/author/units/T-01").get_data(as_text=True)
    assert "Teaching materials on the same SDGs" in page
    assert "Education plan" in page and "Water plan" not in page


def test_the_catalog_covers_the_pages_in_both_languages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import REPO

    here = REPO / "webapp" / "materials"
    pot = tmp_path / "m.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-o", str(pot), "."], cwd=here, check=True, capture_output=True)
    wanted = {m.id for m in read_po(pot.open("rb")) if m.id}
    zh = {m.id: m.string for m in read_po(
        (here / "translations/zh_Hant_TW/LC_MESSAGES/messages.po").open("rb")) if m.id}
    assert wanted <= set(zh), sorted(wanted - set(zh), key=str)
    assert all(zh[k] and (not isinstance(zh[k], tuple) or all(zh[k])) for k in wanted)


def test_pages_in_chinese(app: Flask, client: FlaskClient, world: None) -> None:
    login(client, "t-north", "zh_Hant_TW")
    upload(client, title="Plan")
    page = client.get(f"/materials/{material_id(app, 'Plan')}").get_data(as_text=True)
    assert "教學資源" in page and "Plan（中文）" in page and "向度" in page
