"""The authoring pages: role boundaries, CSRF, the form and YAML editors ending in the same
validation, the workflow through the pages, translators' limits, sanitised content, uploads,
search, overview, diff, QTI and the user admin page."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from itembank.accounts.models import User
from itembank.accounts.users import create_user
from itembank.authoring.models import TranslationCheck
from itembank.bank.models import MediaFile, Unit
from itembank.bank.queries import in_use_versions, unit_schema
from itembank.delivery.student_view import item_view
from webapp.database import get_db

from .conftest import csrf_token

PASSWORD = "a long password"
ROLES = {"tina": "teacher", "tom": "teacher", "rita": "reviewer", "tran": "translator",
         "rex": "researcher", "pupil": "student", "ada": "admin"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def people(app: Flask) -> Flask:
    with app.app_context():
        db = get_db()
        with db.begin():
            for name, role in ROLES.items():
                create_user(db, name, role, PASSWORD)
    return app


def login(client: FlaskClient, username: str) -> None:
    client.set_cookie("lang", "en")  # the messages below are checked in English
    page = client.get("/auth/login").get_data(as_text=True)
    reply = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": csrf_token(page)})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:500]


class _Form(HTMLParser):
    """The fields a browser would submit from the first form with a given attribute."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.inside, self.fields = marker, False, MultiDict()
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.marker in (a.get("class") or ""):
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.add(name, a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value") or ""
            if "selected" in a:
                self.fields.add(self._select, a.get("value") or "")
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            self.fields.add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._select_chosen:
                self.fields.add(self._select, self._select_first or "")
            self._select = None


def form_fields(html: str, marker: str = "unit-editor") -> MultiDict:
    parser = _Form(marker)
    parser.feed(html)
    return parser.fields


def set_fields(fields: MultiDict, values: dict[str, str]) -> None:
    for name, value in values.items():
        fields.setlist(name, [value])


def edit_post(client: FlaskClient, unit_id: str, change: dict[str, str], action: str = "save") -> Any:
    page = client.get(f"/author/units/{unit_id}/edit").get_data(as_text=True)
    fields = form_fields(page)
    for name, value in change.items():
        fields.setlist(name, [value])
    fields["action"] = action
    return client.post(f"/author/units/{unit_id}/edit", data=fields)


def latest(app: Flask, unit_id: str) -> Any:
    with app.app_context():
        row = get_db().get(Unit, unit_id)
        return row.latest.version, row.latest.status, unit_schema(row.latest)


AUTHOR_GETS = ["/author/", "/author/overview", "/author/overview/information.svg", "/author/units/T-01",
               "/author/units/T-01/edit", "/author/units/T-01/yaml", "/author/units/T-01/v1/preview",
               "/author/units/T-01/v1/print", "/author/units/T-01/diff", "/author/new", "/author/new/yaml",
               "/author/qti/import", "/author/qti/export", "/admin/users"]
POSTS = ["/author/units/T-01/step", "/author/units/T-01/checks/1", "/author/units/T-01/edit",
         "/author/units/T-01/yaml", "/author/new", "/author/new/yaml", "/author/qti/import", "/admin/users"]


# -- roles ------------------------------------------------------------------------------------------
def test_every_authoring_route_checks_a_role(app: Flask) -> None:
    views = {name: fn for name, fn in app.view_functions.items()
             if name.startswith(("author.", "admin.")) and name != "author.static"}
    assert len(views) >= 16
    missing = [name for name, fn in views.items() if not getattr(fn, "required_roles", None)]
    assert missing == []


def test_anonymous_users_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for url in AUTHOR_GETS:
        reply = client.get(url)
        assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"], url


def test_students_reach_no_authoring_page(people: Flask, client: FlaskClient) -> None:
    login(client, "pupil")
    for url in AUTHOR_GETS:
        assert client.get(url).status_code == 403, url


def test_researchers_read_but_do_not_write(people: Flask, client: FlaskClient) -> None:
    login(client, "rex")
    assert client.get("/author/").status_code == 200
    assert client.get("/author/units/T-01").status_code == 200
    for url in ("/author/new", "/author/units/T-01/edit", "/author/units/T-01/yaml", "/admin/users"):
        assert client.get(url).status_code == 403, url


def test_every_form_needs_its_csrf_token(people: Flask) -> None:
    people.config["WTF_CSRF_ENABLED"] = True
    client = people.test_client()
    login(client, "ada")
    for url in POSTS:
        reply = client.post(url, data={"action": "comment", "comment": "x"})
        assert reply.status_code == 400, url
    assert latest(people, "T-01")[:2] == (1, "approved")


# -- the form and the YAML editor -------------------------------------------------------------------
def test_form_round_trip_changes_nothing_and_an_edit_makes_a_draft(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    reply = edit_post(client, "T-01", {})
    assert reply.status_code == 302
    assert latest(people, "T-01")[:2] == (1, "approved")
    reply = edit_post(client, "T-01", {"u.items.0.prompt.zh-TW": "改過的題目"})
    assert reply.status_code == 302
    version, status, unit = latest(people, "T-01")
    assert (version, status) == (2, "draft")
    assert unit.items[0].prompt.zh_TW == "改過的題目" and unit.items[0].irt is not None
    with people.app_context():
        assert {v.unit_id: v.version for v in in_use_versions(get_db())}["T-01"] == 1
    page = client.get("/author/units/T-01").get_data(as_text=True)
    assert "items[T-01-Q1].prompt" in page and "Confirm translation" not in page  # teachers do not verify


def test_form_problems_are_shown_beside_their_fields(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    reply = edit_post(client, "T-03", {"u.items.0.prompt.en": "  ", "u.metadata.estimated_minutes": "many"})
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert 'id="f-items-0-prompt-en-err"' in page
    assert "Question 1, question text (English) must not be empty." in page  # a sentence, no internal path
    assert 'id="f-metadata-estimated_minutes-err"' in page
    assert "Minutes a student needs must be a whole number." in page
    assert ">items.0.prompt.en<" not in page  # the summary links the sentence, not the field's path
    assert latest(people, "T-03")[0] == 1


def test_yaml_editor_reports_like_validate(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    page = client.get("/author/units/T-02/yaml").get_data(as_text=True)
    text = re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    import html

    text = html.unescape(text)
    broken = text.replace("process: ", "process: nonsense_", 1)
    reply = client.post("/author/units/T-02/yaml", data={"yaml": broken, "csrf_token": csrf_token(page)})
    assert reply.status_code == 422
    from itembank.bank.validation import parse_unit_text

    _unit, _doc, problems = parse_unit_text(broken, "T-02.yaml")
    shown = reply.get_data(as_text=True)
    # at the place validate names, as a sentence that names the field (webapp/authoring/problems.py)
    assert problems and all(f"line {p.line}, column {p.column}" in shown for p in problems)
    assert str(escape("Question 1, cognitive process must be one of")) in shown
    changed = text.replace("en: Test unit 2", "en: Test unit two")
    reply = client.post("/author/units/T-02/yaml", data={"yaml": changed, "csrf_token": csrf_token(page)})
    assert reply.status_code == 302
    assert latest(people, "T-02")[2].title.en == "Test unit two"


def test_new_unit_with_the_form_buttons(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    page = client.get("/author/new").get_data(as_text=True)
    fields = form_fields(page)
    set_fields(fields, {"u.id": "NEW-1", "u.title.zh-TW": "新單元", "u.title.en": "New unit",
                   "u.metadata.context.zh-TW": "學校", "u.metadata.context.en": "School",
                   "u.stimulus.0.text.zh-TW": "情境", "u.stimulus.0.text.en": "Scenario",
                   "u.items.0.prompt.zh-TW": "哪一個？", "u.items.0.prompt.en": "Which one?",
                   "u.items.0.options.0.text.zh-TW": "甲", "u.items.0.options.0.text.en": "A",
                   "u.items.0.options.1.text.zh-TW": "乙", "u.items.0.options.1.text.en": "B",
                   "u.items.0.key_index": "1", "action": "add_item:short_response"})
    reply = client.post("/author/new", data=fields)
    assert reply.status_code == 200
    fields = form_fields(reply.get_data(as_text=True))
    assert fields["u.items.1.type"] == "short_response" and fields["u.items.1.id"] == "NEW-1-Q2"
    set_fields(fields, {"u.items.1.prompt.zh-TW": "幾個？", "u.items.1.prompt.en": "How many?",
                   "u.items.1.accepted.zh-TW": "三\n3", "u.items.1.accepted.en": "three\n3", "action": "preview"})
    reply = client.post("/author/new", data=fields)
    preview = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "How many?" in preview and "幾個？" in preview
    fields["action"] = "save"
    assert client.post("/author/new", data=fields).status_code == 302
    version, status, unit = latest(people, "NEW-1")
    assert (version, status) == (1, "draft") and unit.items[0].key == "B"
    assert unit.items[1].accepted.zh_TW == ["三", "3"]


# -- the workflow through the pages ------------------------------------------------------------------
def step(client: FlaskClient, unit_id: str, action: str, comment: str = "") -> str:
    page = client.get(f"/author/units/{unit_id}").get_data(as_text=True)
    reply = client.post(f"/author/units/{unit_id}/step",
                        data={"action": action, "comment": comment, "csrf_token": csrf_token(page)},
                        follow_redirects=True)
    return reply.get_data(as_text=True)


def test_a_teacher_cannot_approve_their_own_unit(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    edit_post(client, "T-04", {"u.title.zh-TW": "新標題", "u.title.en": "A new title"})
    step(client, "T-04", "submit", "ready")
    assert latest(people, "T-04")[:2] == (2, "review")
    page = step(client, "T-04", "approve")
    assert "Your role does not allow this step." in page
    assert latest(people, "T-04")[:2] == (2, "review")
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "ada")  # an administrator who wrote it cannot approve it either
    edit_post(client, "T-05", {"u.title.en": "Changed by the admin", "u.title.zh-TW": "管理員改的"})
    step(client, "T-05", "submit")
    assert "You wrote this version" in step(client, "T-05", "approve")
    assert latest(people, "T-05")[1] == "review"


def test_review_comment_approve_and_translation_verification(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    edit_post(client, "T-06", {"u.items.0.prompt.zh-TW": "只改中文"})
    step(client, "T-06", "submit")
    page = client.get("/author/units/T-06").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "rita")
    page = step(client, "T-06", "comment", "Looks fine")
    assert "Looks fine" in page
    assert "Some translations still need verification" in step(client, "T-06", "approve")
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "tran")
    page = client.get("/author/units/T-06").get_data(as_text=True)
    check_id = re.search(r'/author/units/T-06/checks/(\d+)', page).group(1)
    client.post(f"/author/units/T-06/checks/{check_id}", data={"csrf_token": csrf_token(page), "comment": "ok"})
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "rita")
    assert "now in use" in step(client, "T-06", "approve", "good")
    assert latest(people, "T-06")[:2] == (2, "approved")


def test_a_translator_edits_only_translations(people: Flask, client: FlaskClient) -> None:
    login(client, "tran")
    page = client.get("/author/units/T-01/edit").get_data(as_text=True)
    assert 'name="u.items.0.key_index"' not in page or "disabled" in page
    fields = form_fields(page)
    assert not any(k.endswith((".id", ".key_index", ".correct", ".score", ".type")) for k in fields)
    for name, value in [("u.items.0.options.1.correct", "1"), ("u.items.0.key", "B"), ("u.items.0.type", "single_choice"),
                        ("u.metadata.estimated_minutes", "99")]:
        tampered = MultiDict(fields)
        tampered[name] = value
        tampered["action"] = "save"
        assert client.post("/author/units/T-01/edit", data=tampered).status_code == 403, name
    yaml_page = client.get("/author/units/T-01/yaml").get_data(as_text=True)
    import html

    text = html.unescape(re.search(r'<textarea id="yaml"[^>]*>(.*?)</textarea>', yaml_page, re.S).group(1))
    reply = client.post("/author/units/T-01/yaml", data={"yaml": text.replace("key: [A, C]", "key: [A, B]"),
                                                         "csrf_token": csrf_token(yaml_page)})
    assert reply.status_code == 422 and "texts only" in reply.get_data(as_text=True)
    assert latest(people, "T-01")[:2] == (1, "approved")
    fields["u.items.0.prompt.en"] = "A better English question"
    fields["action"] = "save"
    assert client.post("/author/units/T-01/edit", data=fields).status_code == 302
    version, status, unit = latest(people, "T-01")
    assert (version, status) == (2, "draft") and unit.items[0].prompt.en == "A better English question"
    assert unit.items[0].key == ["A", "C"]


# -- sanitising --------------------------------------------------------------------------------------
PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)"> [link](javascript:alert(3)) <a href="javascript:alert(4)">x</a>'


class _Danger(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            url = name in ("href", "src", "action", "formaction", "xlink:href", "data")
            if name.startswith("on") or (url and "javascript:" in (value or "").replace(" ", "").lower()):
                self.found.append(f"{tag} {name}={value}")


def dangerous(html: str) -> list[str]:
    parser = _Danger()
    parser.feed(html)
    return parser.found


def test_no_script_reaches_a_student_from_any_text_field(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    page = client.get("/author/units/T-01/edit").get_data(as_text=True)
    fields = form_fields(page)
    texts = [k for k in fields if k.endswith((".zh-TW", ".en")) and ".accepted." not in k]
    assert len(texts) > 20
    for name in texts:
        fields[name] = f"{name} {PAYLOAD}"
    fields["action"] = "preview"
    reply = client.post("/author/units/T-01/edit", data=fields)
    assert reply.status_code == 200
    preview = reply.get_data(as_text=True).split('id="preview"', 1)[1]
    assert "alert" in preview and dangerous(preview) == []
    fields["action"] = "save"
    assert client.post("/author/units/T-01/edit", data=fields).status_code == 302
    with people.app_context():
        version = get_db().get(Unit, "T-01").latest
        unit = unit_schema(version)
        for item in unit.items:
            for lang in ("zh-TW", "en"):
                view = item_view(item, unit, lang, version.media)
                html = view["prompt_html"] + "".join(b.get("html", "") for b in view["stimulus"])
                assert "prompt" in html and dangerous(html) == []
                assert "<script" not in html and "<img" not in html and "href" not in html
    for url in ("/author/units/T-01/v2/preview?lang=en", "/author/units/T-01/v2/preview?lang=zh-TW",
                "/author/units/T-01/v2/print?lang=en", "/author/units/T-01", "/author/units/T-01/diff",
                "/author/?q=alert", "/author/units/T-01/edit"):
        html = client.get(url).get_data(as_text=True)
        assert dangerous(html) == [], url


# -- images ------------------------------------------------------------------------------------------
def upload(client: FlaskClient, unit_id: str, filename: str, data: bytes, alt_zh: str = "圖", alt_en: str = "A picture") -> Any:
    page = client.get(f"/author/units/{unit_id}/edit").get_data(as_text=True)
    fields = form_fields(page).to_dict(flat=False)
    fields.update({"image_alt_zh": alt_zh, "image_alt_en": alt_en, "action": "save",
                   "image_file": (io.BytesIO(data), filename)})
    return client.post(f"/author/units/{unit_id}/edit", data=fields, content_type="multipart/form-data")


def test_image_upload_needs_alt_texts_and_a_safe_file(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    assert upload(client, "T-02", "photo.png", PNG, alt_en="").status_code == 422
    bad_svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    handler_svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)" width="5" height="5"/></svg>'
    for name, data in [("evil.svg", bad_svg), ("evil2.svg", handler_svg), ("fake.png", b"GIF89a...."),
                       ("page.html", b"<html></html>"), ("big.png", PNG + b"0" * (5 * 1024 * 1024))]:
        reply = upload(client, "T-02", name, data)
        assert reply.status_code == 422, name
        assert 'id="f-image_file-err"' in reply.get_data(as_text=True)
    assert latest(people, "T-02")[0] == 1
    good_svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'
    assert upload(client, "T-02", "chart.svg", good_svg).status_code == 302
    assert upload(client, "T-02", "photo.png", PNG).status_code == 302
    version, _status, unit = latest(people, "T-02")
    images = [b for b in unit.stimulus if b.type == "image"]
    assert [b.alt.en for b in images][-2:] == ["A picture", "A picture"]
    with people.app_context():
        row = get_db().get(Unit, "T-02").latest
        digest = row.media[images[-1].src]
        assert get_db().get(MediaFile, digest).mime == "image/png"
    assert client.get(f"/media/{digest}").data == PNG


# -- finding, overview, history ------------------------------------------------------------------------
def test_search_filters(people: Flask, client: FlaskClient) -> None:
    login(client, "rex")
    everything = client.get("/author/").get_data(as_text=True)
    assert "8 units found" in everything
    page = client.get("/author/?q=測試單元 3").get_data(as_text=True)
    assert "T-03" in page and "1 unit found" in page
    page = client.get("/author/?type=open_response").get_data(as_text=True)
    assert "Single choice" not in page.split("units found")[1]
    page = client.get("/author/?b_min=5&b_max=9").get_data(as_text=True)
    assert "0 units found" in page
    page = client.get("/author/?status=draft").get_data(as_text=True)
    assert "0 units found" in page


def test_overview_and_information_curve(people: Flask, client: FlaskClient) -> None:
    login(client, "rex")
    page = client.get("/author/overview").get_data(as_text=True)
    assert "Test information curve" in page
    svg = client.get("/author/overview/information.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.lstrip().startswith(b"<?xml")
    assert b"<script" not in svg.data


def test_diff_between_versions_is_escaped(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    edit_post(client, "T-07", {"u.title.en": "<b>bold</b> & new"})
    page = client.get("/author/units/T-07/diff?a=1&b=2").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; new" in page and 'class="diff-changed"' in page


# -- QTI and users -----------------------------------------------------------------------------------------
def test_qti_download_and_upload(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    reply = client.get("/author/qti/export?status=approved")
    assert reply.status_code == 200 and reply.data[:2] == b"PK"
    page = client.get("/author/qti/import").get_data(as_text=True)
    sent = client.post("/author/qti/import", data={"csrf_token": csrf_token(page),
                                                  "package": (io.BytesIO(reply.data), "bank.zip")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302  # the bank's own export imports again (unchanged units stay as they are)
    bad = client.post("/author/qti/import", data={"csrf_token": csrf_token(page),
                                                 "package": (io.BytesIO(b"not a zip"), "x.zip")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422


def test_admin_creates_users_and_others_cannot(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    assert client.get("/admin/users").status_code == 403
    client2 = people.test_client()
    login(client2, "ada")
    page = client2.get("/admin/users").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "username": "newbie", "role": "translator",
            "password": "another long one", "confirm": "another long one"}
    assert client2.post("/admin/users", data=data).status_code == 302
    assert client2.post("/admin/users", data=data).status_code == 422  # taken
    with people.app_context():
        user = get_db().scalars(select(User).where(User.username == "newbie")).one()
        assert user.role == "translator"
    fresh = people.test_client()
    page = fresh.get("/auth/login").get_data(as_text=True)
    reply = fresh.post("/auth/login", data={"username": "newbie", "password": "another long one",
                                            "csrf_token": csrf_token(page)})
    assert reply.status_code == 302


def test_translation_checks_are_listed(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    edit_post(client, "T-08", {"u.title.en": "Only English changed"})
    page = client.get("/author/").get_data(as_text=True)
    assert "1 text to verify" in page
    with people.app_context():
        (check,) = get_db().scalars(select(TranslationCheck)).all()
        assert (check.path, check.language) == ("title", "zh-TW")


def test_pages_speak_traditional_chinese_by_default(people: Flask) -> None:
    client = people.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/login", data={"username": "tina", "password": PASSWORD, "csrf_token": csrf_token(page)})
    page = client.get("/author/").get_data(as_text=True)
    assert "搜尋題組與題目" in page and "找到 8 個題組。" in page
    page = client.get("/author/units/T-01/edit").get_data(as_text=True)
    assert "儲存為新草稿" in page and 'lang="en"' in page and 'lang="zh-Hant-TW"' in page


def test_the_editor_keeps_weights_and_explains_bad_ones(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    weights = {"u.items.0.weights.points.0": "1", "u.items.0.weights.points.1": "-1",
               "u.items.0.weights.points.2": "1", "u.items.0.weights.points.3": "-1", "u.items.0.weights.upper": "1",
               # the table: rules out, one point per statement answered as keyed, at most 2
               "u.items.1.scoring.0.score": "", "u.items.1.scoring.0.min_correct": "",
               "u.items.1.scoring.1.score": "", "u.items.1.scoring.1.min_correct": "",
               "u.items.1.weights.points.0.0": "1", "u.items.1.weights.points.1.1": "1",
               "u.items.1.weights.points.2.0": "1", "u.items.1.weights.upper": "2"}
    reply = edit_post(client, "T-01", weights)
    assert reply.status_code == 302, reply.get_data(as_text=True)[-3000:]
    version, _, unit = latest(people, "T-01")
    assert version == 2
    multiple, table = unit.items[0], unit.items[1]
    assert multiple.weights.model_dump() == {"points": {"A": 1, "B": -1, "C": 1, "D": -1}, "upper": 1}
    assert table.scoring == [] and table.weights.model_dump() == {
        "points": {"S1": {"Y": 1}, "S2": {"N": 1}, "S3": {"Y": 1}}, "upper": 2}
    page = client.get("/author/units/T-01/edit").get_data(as_text=True)
    assert 'name="u.items.1.weights.points.1.1" value="1"' in page
    assert edit_post(client, "T-01", {}).status_code == 302 and latest(people, "T-01")[0] == 2  # kept as they are
    reply = edit_post(client, "T-01", {"u.items.0.weights.points.1": "1", "u.items.0.weights.upper": ""})
    assert reply.status_code == 422
    assert "the key scores 2 but the best answer scores 3; make the key the best answer." in reply.get_data(as_text=True)
    assert latest(people, "T-01")[0] == 2


def test_an_order_item_is_written_with_the_form(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    page = client.get("/author/units/T-03/edit").get_data(as_text=True)
    fields = form_fields(page)
    fields["action"] = "add_item:order"
    reply = client.post("/author/units/T-03/edit", data=fields)
    assert reply.status_code == 200
    fields = form_fields(reply.get_data(as_text=True))
    n = max(int(k.split(".")[2]) for k in fields if k.startswith("u.items."))
    assert fields[f"u.items.{n}.type"] == "order"
    texts = {f"u.items.{n}.prompt.zh-TW": "請排序。", f"u.items.{n}.prompt.en": "Put in order."}
    for i, (zh, en, place) in enumerate((("甲", "first", "2"), ("乙", "second", "3"), ("丙", "third", "1"))):
        texts |= {f"u.items.{n}.options.{i}.text.zh-TW": zh, f"u.items.{n}.options.{i}.text.en": en,
                  f"u.items.{n}.options.{i}.position": place}
    set_fields(fields, {**texts, f"u.items.{n}.options.1.position": "2", "action": "save"})  # two in place 2
    reply = client.post("/author/units/T-03/edit", data=fields)
    assert reply.status_code == 422 and "choose the right answer" in reply.get_data(as_text=True)
    set_fields(fields, {f"u.items.{n}.options.1.position": "3"})
    reply = client.post("/author/units/T-03/edit", data=fields)
    assert reply.status_code == 302, reply.get_data(as_text=True)[-2000:]
    version, _, unit = latest(people, "T-03")
    item = unit.items[n]
    assert version == 2 and item.type == "order" and item.key == ["C", "A", "B"]
    page = client.get("/author/units/T-03/edit").get_data(as_text=True)
    assert f'name="u.items.{n}.options.2.position" value="1"' in page


def test_other_correct_answers_are_kept_by_the_editor(people: Flask, client: FlaskClient) -> None:
    login(client, "tina")
    reply = edit_post(client, "T-01", {"u.items.0.also_correct": "B, D\nA; B; D"})
    assert reply.status_code == 302, reply.get_data(as_text=True)[-2000:]
    version, _, unit = latest(people, "T-01")
    assert version == 2 and unit.items[0].also_correct == [["B", "D"], ["A", "B", "D"]]
    assert edit_post(client, "T-01", {}).status_code == 302 and latest(people, "T-01")[0] == 2
    reply = edit_post(client, "T-01", {"u.items.0.also_correct": "C, A"})
    assert reply.status_code == 422
    assert "this answer is the key or is listed already" in reply.get_data(as_text=True)
