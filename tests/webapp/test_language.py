"""Every page and every form's error state speaks the reader's language: the test walks every GET
route of every blueprint as each role (and as a visitor, and as a student in a test), then posts
every form it saw empty and with nonsense in each field, in zh-TW and in English, and fails on

- Simplified characters in a zh-TW page (OpenCC ``s2tw`` changes the text),
- mainland wording in a zh-TW page (``t2s`` then ``s2twp`` does not give the text back: 信息,
  字段, 軟件 come back as 資訊, 欄位, 軟體),
- an English sentence (three or more words) in a zh-TW page, or any Chinese in an English page,

outside people's own data.  Own data is excluded in two ways, both narrow enough that the test
can fail: an element whose ``lang`` is the other language (or ``translate="no"``) is skipped, as
templates mark unit texts shown side by side; and a text is skipped only where it is (part of) a
value stored in the database (unit content, names, titles, ids).  Form values are not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

import itembank.all_models  # noqa: F401  # every table on Base.metadata
from itembank.bank.models import Item, Unit
from itembank.db import Base
from itembank.orgs.models import Student

from .conftest import csrf_token
from .test_scope import World, add_user, build_world, class_of, login

opencc = pytest.importorskip("opencc", reason="pip install opencc (a dev dependency)")

LANGUAGES = ("zh_Hant_TW", "en")
HTML_LANG = {"zh_Hant_TW": "zh-hant-tw", "en": "en"}
# users of build_world, and two more roles; None is a visitor who has not logged in
ROLES: dict[str | None, str | None] = {None: None, "t-north": "teacher", "sa-north": "school_admin",
                                      "r-taipei": "researcher", "admin": "admin", "rev": "reviewer",
                                      "trans": "translator"}

# pages that take seconds each (a booklet rendered as PDF, a QTI package): visited as the admin only
SLOW_ENDPOINTS = {"print.preview", "author.print_preview", "author.qti_export"}
SKIP_ENDPOINTS = {
    "static", "author.static", "i18n.switch", "comfort.favicon", "comfort.choose", "deliver.media",
    "auth.logout",  # would end the walk's login
}  # fmt: skip

FILES = (".csv", ".pdf", ".zip", ".json", ".svg", ".yaml")  # downloads, not pages

# -- what each checked text may not contain ------------------------------------------------------
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z][a-z’']+(?:[ ,:;]+[a-z][a-z’'-]*){2,}")
# Taiwan wording that OpenCC's round trip reads differently (its phrase table is about software):
# each is usual in Taiwan (教育部《重編國語辭典修訂本》) in the sense the pages use it.
TAIWAN_WORDS = (
    "代碼",  # an access code, a school code (代码 → 程式碼 is "program code" only)
    "參數",  # item parameters (参数 → 引數 is a function's argument only)
    "段落",  # a paragraph (文字段落 is split as 文 + 字段 → 欄位)
    "類型",  # a kind (类型 → 類別)
    "對象",  # whom something is for (对象 → 物件 is a program's object)
    "文件",  # a document (文件 → 檔案 is a computer file)
    "發布",  # to publish (发布 → 釋出 is a software release)
    "像素",  # a pixel (像素 → 畫素; both are used)
    "查看",  # to look at (查看 → 檢視)
    "連接",  # joined by (连接 → 連線 is a network connection)
    "保存",  # to keep (保存 → 儲存 is to save a file)
    "唸",  # to read aloud: Taiwan writes 唸 (t2s folds it into 念)
    "占",  # 所占比例: the dictionary's standard form is 占 (s2tw prefers the variant 佔)
)


def _converters() -> tuple[Any, Any, Any]:
    return opencc.OpenCC("s2tw"), opencc.OpenCC("t2s"), opencc.OpenCC("s2twp")


S2TW, T2S, S2TWP = _converters()


# -- reading a page --------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
        "track", "wbr"}  # fmt: skip
CHECKED_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


@dataclass
class PageForm:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> a nonsense value
    multipart: bool = False
    method: str = "post"


class PageText(HTMLParser):
    """The page's readable texts in its own language, and its forms."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        lang = a.get("lang", "").lower()
        if tag == "html":
            self.page_lang = lang or self.page_lang
        skipped = self._skipped() or tag in ("script", "style", "textarea", "code", "pre") \
            or a.get("translate") == "no" or (tag != "html" and bool(lang) and lang != self.page_lang)
        if not skipped:
            self.texts.extend(a[n] for n in CHECKED_ATTRIBUTES if a.get(n))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.texts.append(a["value"])
        self._note_form(tag, a)
        if tag not in VOID:
            self.stack.append((tag, skipped))

    def _note_form(self, tag: str, a: dict[str, str]) -> None:
        if tag == "form":
            self._form = PageForm(a.get("action", ""), multipart="multipart" in a.get("enctype", ""),
                                  method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and a.get("name"):
            kind = a.get("type", "text")
            if a["name"] != "csrf_token" and kind not in ("file", "submit", "hidden"):
                self._form.fields[a["name"]] = "-1" if kind == "number" else "x"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipped():
            self.texts.append(text)


def read_page(html: str, lang: str) -> PageText:
    parser = PageText(HTML_LANG[lang])
    parser.feed(html)
    return parser


# -- own data --------------------------------------------------------------------------------------
def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def stored_data(app: Flask) -> list[str]:
    """Every text stored in the database: unit content, names, titles, ids (people's own data)."""
    out: set[str] = set()
    with app.extensions["itembank_sessionmaker"]() as db:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns or table.name in ("audit_log", "jobs", "login_attempts", "login_sessions"):
                continue
            for row in db.execute(select(*columns)):
                for value in row:
                    out.update(" ".join(s.split()) for s in _strings(value) if len(s.strip()) >= 2)
    return sorted(out, key=len, reverse=True)


class OwnData:
    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.blob = "\n".join(values)

    def strip(self, text: str) -> str:
        """``text`` without the stored values it holds ("" when all of it is stored data)."""
        core = text.strip().rstrip("…").strip()
        if core in self.blob:
            return ""
        for value in self.values:
            if value in text:
                text = text.replace(value, " ")
        return text


# -- the checks --------------------------------------------------------------------------------------
def problems_of(texts: list[str], lang: str, data: OwnData) -> list[str]:
    """The problems of a page's texts (converted together: one OpenCC call per converter)."""
    if lang == "en":
        return [f"Chinese in an English page: {t!r}" for t in texts
                if CJK.search(t) and CJK.search(data.strip(t))]  # fmt: skip
    masked = [_mask(t) for t in texts]
    joined = "\n".join(masked)
    traditional = S2TW.convert(joined).split("\n")
    taiwan = S2TWP.convert(T2S.convert(joined)).split("\n")
    assert len(traditional) == len(taiwan) == len(texts), "a converter changed the lines"
    found = []
    for text, mask, trad, tw in zip(texts, masked, traditional, taiwan, strict=True):
        problem = _zh_problem(mask, trad, tw)
        if problem:
            stripped = _mask(data.strip(text))
            if stripped.strip() and _zh_problem(stripped, S2TW.convert(stripped),
                                                S2TWP.convert(T2S.convert(stripped))):
                found.append(f"{problem}: {text!r}")
    return found


def _mask(text: str) -> str:
    text = text.replace("\n", " ")
    for word in TAIWAN_WORDS:
        text = text.replace(word, "\ue000" * len(word))
    return text


def _zh_problem(text: str, traditional: str, taiwan: str) -> str | None:
    if traditional != text:
        return f"Simplified characters ({_diff(text, traditional)})"
    if taiwan != text:
        return f"not Taiwan wording ({_diff(text, taiwan)})"
    english = ENGLISH_SENTENCE.search(text)
    if english:
        return f"English in a zh-TW page ({english.group(0)!r})"
    gap = SPACE_AFTER_FULL_WIDTH.search(text)
    if gap:
        return f"a space after a full-width mark ({gap.group(0)!r})"
    return None


# Taiwan sets no space after 。，；：！？ before the next Chinese character (whitespace between two
# sentences of a template renders as one).
SPACE_AFTER_FULL_WIDTH = re.compile(r".[。，；：！？]\s+[\u4e00-\u9fff]")


def _diff(text: str, other: str) -> str:
    if len(text) == len(other):
        return "".join(f"{a}→{b} " for a, b in zip(text, other, strict=True) if a != b).strip()
    return other


# -- the walk --------------------------------------------------------------------------------------
@dataclass
class Walk:
    app: Flask
    data: OwnData
    params: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    forms: dict[str, PageForm] = field(default_factory=dict)  # action -> form, as the admin saw it
    get_forms: dict[str, PageForm] = field(default_factory=dict)
    pages: int = 0

    def check(self, who: str, lang: str, url: str, response: Any) -> PageText | None:
        if response.mimetype != "text/html" or 300 <= response.status_code < 400:
            return None  # a redirect's body is never shown
        self.pages += 1
        page = read_page(response.get_data(as_text=True), lang)
        self.failures.extend(f"{lang} {who} {url} [{response.status_code}]: {p}"
                             for p in problems_of(page.texts, lang, self.data))  # fmt: skip
        return page


def urls(app: Flask, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(endpoint, url) of every GET route, its parameters filled from ``params``."""
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS \
                    or rule.rule.startswith("/api/") or rule.rule.endswith(FILES):
                continue
            numbers = {a for a in rule.arguments if f"<int:{a}>" in rule.rule}  # a row's id: 1 (or its 404 page)
            missing = [a for a in rule.arguments if a not in params and a not in numbers]
            assert not missing, f"{rule.rule}: give the language test a value for {missing}"
            yield rule.endpoint, url_for(rule.endpoint, **{a: params.get(a, 1) for a in rule.arguments})


def client_for(app: Flask, who: str | None, lang: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("lang", lang)
    if who:
        login(client, who)
    return client


def as_student(app: Flask, lang: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("lang", lang)
    page = client.get("/").get_data(as_text=True)
    reply = client.post("/", data={"csrf_token": csrf_token(page), "access_code": "DEMO",
                                   "student": "S90001" if lang == "en" else "S90002", "language": "en" if lang == "en" else "zh-TW"})
    assert reply.status_code == 302, re.findall(r'class="notice[^>]*>([^<]*)', reply.get_data(as_text=True))
    return client


@pytest.fixture
def walk(app: Flask) -> Walk:
    world: World = build_world(app)
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        add_user(db, "rev", "reviewer")
        add_user(db, "trans", "translator")
    with app.extensions["itembank_sessionmaker"]() as db:
        unit = db.scalars(select(Unit).order_by(Unit.id)).first()
        item = db.scalars(select(Item).order_by(Item.id)).first()
        params = {
            "unit_id": unit.id if unit else "x", "number": 1, "item_id": item.id if item else "x",
            "class_id": class_of(db, "north", "801").id, "test_id": "t-spring",
            "student_id": db.scalars(select(Student.id).order_by(Student.id)).first(),
            "session_id": next(iter(world.sessions.values())), "material_id": 1, "dataset_id": 1,
            "run_id": 1, "user_id": 1, "kind": "summary", "name": "tif", "code": "en", "digest": "0" * 64,
        }  # fmt: skip
    return Walk(app, OwnData(stored_data(app)), params)


def test_every_page_and_form_error_is_in_the_readers_language(walk: Walk) -> None:
    app = walk.app
    routes = list(urls(app, walk.params))
    assert len(routes) > 40
    students = {lang: as_student(app, lang) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for who, role in ROLES.items():
            client = client_for(app, who, lang)
            refused = False
            for endpoint, url in routes:
                if endpoint in SLOW_ENDPOINTS and who != "admin":
                    continue
                needed = getattr(app.view_functions[endpoint], "required_roles", None)
                if needed and role not in needed:
                    # a visitor is sent to log in; a role's refusal is one 403 page, read once
                    if role is None or refused:
                        continue
                    refused = True
                page = walk.check(str(who), lang, url, client.get(url))
                if page is not None and who == "admin":
                    for form in page.forms:
                        if form.method == "post":
                            walk.forms.setdefault(form.action or url, form)
                        elif form.fields:  # a search or a choice: sent with nonsense in each field
                            walk.get_forms.setdefault(form.action or url, form)
    # one form of each endpoint (a page lists one control form per student)
    adapter = app.url_map.bind("localhost")
    by_endpoint: dict[str, str] = {}
    for action in sorted(walk.forms):
        try:
            endpoint = adapter.match(action.split("?")[0], method="POST")[0]
        except HTTPException:
            continue
        by_endpoint.setdefault(endpoint, action)
        for url in ("/test", "/test/done", "/"):
            walk.check("student", lang, url, students[lang].get(url))
    # every form, empty and with nonsense in each field; the admin may use them all
    actions = sorted(a for e, a in by_endpoint.items() if e not in SKIP_ENDPOINTS)
    assert len(actions) > 15, actions
    for lang in LANGUAGES:
        admin = client_for(app, "admin", lang)
        visitor = app.test_client()
        visitor.set_cookie("lang", lang)
        for action in actions:
            form = walk.forms[action]
            client = visitor if action.startswith(("/auth/login", "/?", "/test")) or action == "/" else admin
            for data in ({}, form.fields):
                token = csrf_token(client.get("/auth/login").get_data(as_text=True))
                reply = client.post(action, data={"csrf_token": token, **data},
                                    content_type="multipart/form-data" if form.multipart else None)
                walk.check(f"POST {'empty' if not data else 'nonsense'}", lang, action, reply)
        for action, form in sorted(walk.get_forms.items()):
            walk.check("GET nonsense", lang, action, admin.get(action, query_string=form.fields))
    assert walk.get_forms, "no search or choice form was found"
    assert walk.pages > 300
    assert not walk.failures, _summary(walk.failures)


def _summary(failures: list[str]) -> str:
    """Each problem once, with the first page that shows it and how many more do."""
    by_problem: dict[str, list[str]] = {}
    for failure in failures:
        page, _, problem = failure.partition("]: ")
        by_problem.setdefault(problem, []).append(page + "]")
    lines = [f"{pages[0]} (+{len(pages) - 1} more): {problem}" for problem, pages in sorted(by_problem.items())]
    return f"{len(by_problem)} problems on {len(failures)} pages:\n" + "\n".join(lines[:200])


# -- the checks themselves can fail ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "lang"), [
    ("该字段是必填字段。", "zh_Hant_TW"), ("數值大小必须介於 1 和 5 之間", "zh_Hant_TW"),
    ("請輸入正確的信息", "zh_Hant_TW"), ("此欄位是必需的，請檢查字段", "zh_Hant_TW"),
    ("找不到此頁面。This field is required.", "zh_Hant_TW"), ("發生錯誤", "en"),
    ("你回答了 20 題。 你送出的答案都已儲存。", "zh_Hant_TW"),
])  # fmt: skip
def test_the_checks_find_wrong_language(text: str, lang: str) -> None:
    assert problems_of([text], lang, OwnData([]))


def test_own_data_is_not_a_problem() -> None:
    data = OwnData(["Rising sea levels threaten island homes", "海平面上升"])
    assert not problems_of(["單元：Rising sea levels threaten island homes"], "zh_Hant_TW", data)
    assert not problems_of(["Unit: 海平面上升"], "en", data)
    assert problems_of(["Unit: 海平面上升 已儲存"], "en", data)


def test_a_region_in_the_other_language_is_skipped() -> None:
    page = read_page('<html lang="en"><p>Title</p><p lang="zh-Hant-TW">標題</p><p>標題</p></html>', "en")
    assert page.texts == ["Title", "標題"]


# -- the messages this issue fixed, each in both languages -------------------------------------------
@pytest.mark.parametrize(("lang", "required", "not_a_number"), [
    ("zh_Hant_TW", "此欄位為必填。", "請輸入整數。"),
    ("en", "This field is required.", "Not a valid integer value."),
])  # fmt: skip
def test_form_library_messages_come_from_our_catalog(app: Flask, lang: str, required: str, not_a_number: str) -> None:
    """WTForms' own zh catalog is Simplified (该字段是必填字段); Flask-WTF would pick it for zh_Hant_TW."""
    from wtforms import IntegerField

    client = app.test_client()
    client.set_cookie("lang", lang)
    page = client.get("/").get_data(as_text=True)
    html = client.post("/", data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert required in html and "该字段" not in html and "必需" not in html
    from flask_wtf import FlaskForm

    class NumberForm(FlaskForm):
        n = IntegerField("n")

    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        app.preprocess_request()  # the app's hooks, as for every request
        form = NumberForm(formdata=MultiDict({"n": "x"}), meta={"csrf": False})
        assert not form.validate()
        assert not_a_number in form.n.errors


@pytest.mark.parametrize(("lang", "words"), [
    ("zh_Hant_TW", ["這個頁面限「研究人員」角色使用", "您的帳號角色是「教師（命題者）」", "系統管理者"]),
    ("en", ["This page is for the role researcher", "your account has the role teacher – author",
            "Ask your city's administrator"]),
])  # fmt: skip
def test_a_403_page_names_the_missing_role_and_whom_to_ask(app: Flask, lang: str, words: list[str]) -> None:
    from itembank.accounts.users import create_user

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        create_user(db, "tea", "teacher", "a long password 1")
    client = app.test_client()
    client.set_cookie("lang", lang)
    page = client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/login", data={"csrf_token": csrf_token(page), "username": "tea",
                                     "password": "a long password 1"})  # fmt: skip
    reply = client.get("/research/")
    html = reply.get_data(as_text=True).replace("&#39;", "'")
    assert reply.status_code == 403
    for word in words:
        assert word in html, html


def test_the_login_lock_message_is_in_the_page_language(app: Flask) -> None:
    from webapp import security

    with app.test_request_context(headers={"Cookie": "lang=zh_Hant_TW"}):
        assert security.locked_message().startswith("登入失敗次數過多，請於 ")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert security.locked_message().startswith("Too many failed attempts")
