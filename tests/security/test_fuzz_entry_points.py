"""Generated bodies, ids and files (hypothesis) at every upload and every JSON API entry point:
never a 500, and a refused request writes nothing.

The uploads are found, not listed: every ``<form enctype="multipart/form-data">`` of the app's
templates, its file fields (literal ``<input type="file">`` or a WTForms ``FileField``), the
endpoint it posts to (its ``action``, or the view that renders the template) and the page that
shows it.  Each upload is sent as the page's own form (its CSRF token, its defaults, a few filled
fields) with a generated file: random bytes and text, CSV that is truncated, huge, NUL-laden,
BOM-prefixed or not UTF-8, YAML alias bombs and deep nesting, XML with entity expansion or
thousands of levels, zips with odd member names, broken images.  The API entry points are every
rule of the ``api`` blueprint, called with generated JSON (wrong types, huge numbers, deep
nesting), raw bytes and odd ids in the URL (unicode, very long, path-like, NUL).

What it found is kept below as plain examples: JSON nested thousands deep (``RecursionError``
passed through ``get_json(silent=True)`` and the unit editor's ``json.loads``) was a 500.

Runs on SQLite only (the mechanisms under test sit above the database; the per-backend tests
of each limit are in tests/badinput/); fixed examples (``derandomize``), well under a minute."""

from __future__ import annotations

import inspect
import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.db import Base, make_engine
from itembank.db import session_factory as make_session_factory
from tests.conftest import TEST_UNITS

from .conftest import PASSWORD, login_as, start_api_session

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
EXAMPLES = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

# Known today; the enumeration may find more (each is then fuzzed too), never fewer.
KNOWN_UPLOADS = {
    ("materials.new", "file"), ("research.upload", "file"), ("author.new", "image_file"),
    ("author.edit", "image_file"), ("author.qti_import", "package"), ("manage.roster", "roster"),
    ("print.paper_upload", "answers"), ("print.paper_upload", "design"),
    ("research.attach_design", "file"), ("research.report_job_compare", "earlier"),
}
KNOWN_API = {"api.start", "api.respond", "api.show", "api.openapi"}
# Values for URL arguments of upload pages (a unit of the test bank).
# a unit of the test bank; the data set and the admin's report job made below
URL_VALUES = {"unit_id": "T-02", "dataset_id": "1", "job_id": "1"}
# Fields a page leaves empty but needs before it looks at the file; the rest come from the page.
FILLS: dict[str, dict[str, str]] = {
    "materials.new": {"title_zh": "教案", "title_en": "A lesson plan", "summary_zh": "摘要",
                      "summary_en": "A summary", "author": "Ada", "subject": "geography"},
    "research.upload": {"name": "fuzz"},
    "author.new": {"image_alt_zh": "圖", "image_alt_en": "a picture"},
    "author.edit": {"image_alt_zh": "圖", "image_alt_en": "a picture"},
    "print.paper_upload": {"name": "fuzz"},
}
# A well-formed file for a form's other file fields while one is fuzzed (paper answers: the
# design is read once an answers file is there).
OTHER_FILES = {"answers": (b"person_id,booklet\np1,1\n", "ANSWERS.csv")}
# Bookkeeping a refused request may still write: the login limit, codes' wrong guesses, the audit
# log, login sessions' last-seen time.
BOOKKEEPING = {"login_attempts", "code_failures", "audit_log", "login_sessions"}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Flask]:
    """One app for the module (SQLite, the test bank, the demo test, a user per role): building it
    per test took longer than the fuzzing.  Each example compares counts before and after itself,
    so what earlier examples stored does not matter."""
    from itembank.accounts.models import ROLES
    from itembank.accounts.users import create_user
    from itembank.bank.importer import import_paths
    from itembank.delivery.cat_bank import clear_cache
    from itembank.demo import create_demo_content
    from webapp import create_app

    path = tmp_path_factory.mktemp("fuzz") / "itembank.sqlite3"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as db, db.begin():
        import_paths(db, [TEST_UNITS])
        create_demo_content(db)
        made = {role: create_user(db, role, role, PASSWORD) for role in ROLES}
        db.flush()
        from itembank.research.datasets import upload_dataset

        upload_dataset(db, b"person_id,city,school,T-01-Q1,T-01-Q3\np1,tp,tp-001,1,0\np2,tp,tp-002,0,1\n",
                       "fuzz.csv", name="fuzz")  # data set 1: its design page takes uploads
        ids = {role: user.id for role, user in made.items()}
        from itembank.research import report_job

        viewer = report_job.ReportViewer.of(made["admin"])  # job 1: its page compares uploads
        key = report_job.report_key(db, viewer, "dataset:1", "school", 5)
        assert report_job.enqueue_report(db, viewer, "dataset:1", "school", min_group_size=5, key=key).id == 1
    from itembank.research import jobs, report_job

    assert jobs.run_one(make_session_factory(engine), report_job.HANDLERS, "fuzz") is not None
    clear_cache()
    with pytest.MonkeyPatch.context() as patch:
        # wrong access codes are the point here; the limit on them is tested elsewhere
        patch.setenv("ITEMBANK_CODE_MAX_FAILURES", "1000000")
        app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test-secret"})
        app.config["FUZZ_USERS"] = ids
        yield app
    clear_cache()
    engine.dispose()


# -- finding the uploads ----------------------------------------------------------------------------
@dataclass
class Upload:
    template: str
    page: str  # endpoint whose GET shows the form
    endpoint: str  # endpoint the form posts to
    fields: list[str] = field(default_factory=list)


FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S)
FILE_INPUT = re.compile(r"<input\b[^>]*\btype=\"file\"[^>]*>")
NAME = re.compile(r"\bname=\"([^\"]+)\"")
ACTION = re.compile(r"action=\"\{\{\s*url_for\('([\w.]+)'")


def _file_field_names() -> set[str]:
    """Names of the WTForms FileFields of every form class of the app (``create_app`` has
    imported every blueprint, and with them their forms)."""
    names: set[str] = set()
    stack = list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        for name, value in vars(form).items():
            if issubclass(getattr(value, "field_class", type(None)), FileField):
                names.add(name)
    return names


def _source(func: Callable[..., Any]) -> str:
    """A view's source and that of the module's helpers it calls (one level)."""
    func = inspect.unwrap(func)
    text = inspect.getsource(func)
    module = inspect.getmodule(func)
    for name in set(re.findall(r"\b(_\w+)\(", text)):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper):
            text += inspect.getsource(helper)
    return text


def _renders(app: Flask, template: str, method: str) -> list[str]:
    out = []
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or ()) and f'"{template}"' in _source(app.view_functions[rule.endpoint]):
            out.append(rule.endpoint)
    return sorted(set(out))


def find_uploads(app: Flask) -> list[Upload]:
    file_fields = _file_field_names()
    found: list[Upload] = []
    for path in sorted(WEBAPP.rglob("*.html")):
        text = path.read_text("utf-8")
        template = str(path).split("/templates/", 1)[1]
        for form in FORM.finditer(text):
            if "multipart/form-data" not in form["attrs"]:
                continue
            fields = [m.group(1) for tag in FILE_INPUT.findall(form["body"]) if (m := NAME.search(tag))]
            fields += [n for n in re.findall(r"form\.(\w+)", form["body"]) if n in file_fields]
            pages = _renders(app, template, "GET")
            action = ACTION.search(form["attrs"])
            targets = [action.group(1)] if action else _renders(app, template, "POST")
            assert pages and targets, f"{template}: no view shows or takes its upload form"
            for target in targets:
                page = target if target in pages else pages[0]
                found.append(Upload(template, page, target, sorted(set(fields))))
    return found


def test_every_upload_form_is_found(fuzz_app: Flask) -> None:
    found = {(u.endpoint, f) for u in find_uploads(fuzz_app) for f in u.fields}
    assert KNOWN_UPLOADS <= found, f"upload entry points no longer found: {KNOWN_UPLOADS - found}"


# -- generated files --------------------------------------------------------------------------------
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                  + b"".join(b'<!ENTITY %c "%s">' % (ord("b") + k, b"&%c;" % (ord("a") + k) * 10) for k in range(9))
                  + b"]><l>&j;</l>")
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
YAML_BOMB = b"a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"%c: &%c [%s]\n" % (ord("b") + k, ord("b") + k, b",".join([b"*%c" % (ord("a") + k)] * 9)) for k in range(8))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
SVG_EXTERNAL = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:9/x.png"/></svg>'
ZIP_NAMES = ["imsmanifest.xml", "../../etc/passwd", "/abs/item.xml", "C:\\win\\item.xml", "中文/題目.xml",
             "x" * 300 + ".xml", "dir/", "a/../../b.xml", "item.xml ", "\u202eevil.xml", "..", "."]
SPECIAL_FILES = [
    b"", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe\x00a", b"\xef\xbb\xbfperson_id,city\n", b"a\r\rb\r",
    b'"' * 50, b"x" * 20_000 + b",", b"person_id,city\n\x00,1\n", b"person_id\n" + b"p\n" * 5000,
    b"a,b\n" + b"y" * 12_000 + b",1\n", ",".join(f"c{i}" for i in range(3000)).encode(),
    "學號,姓名\n甲,乙\n".encode("utf-16"), "學號,姓名\n甲,乙\n".encode("big5"),
    BILLION_LAUGHS, XXE, b"<a>" * 5000 + b"</a>" * 5000, b"<?xml version='1.0' encoding='utf-16'?><a/>",
    YAML_BOMB, b"[" * 5000 + b"]" * 5000, b"!!python/object/apply:os.system ['true']\n", b"a: &a [*a]\n",
    b"\xef\xbb\xbfid: x\n\titems: [\n", PNG, PNG[:12], b"GIF89a", b"\xff\xd8\xff", SVG_EXTERNAL,
    b"<svg><script>alert(1)</script></svg>", b"PK\x03\x04" + b"\x00" * 30, b"PK\x05\x06" + b"\x00" * 18,
]

GOOD_FILES = [PNG, b"%PDF-1.4\n%%EOF\n", b"person_id,city,school,T-01-Q1\np1,taipei,s1,1\n",
              b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>']


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in dict(members).items():  # one member per name
            archive.writestr(name, data)
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")


files = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=6), max_size=8).map(_csv),
    st.sampled_from(SPECIAL_FILES),
    st.lists(st.tuples(st.sampled_from(ZIP_NAMES), st.sampled_from(SPECIAL_FILES[:24])), max_size=4).map(_zip),
    st.sampled_from(GOOD_FILES),
    st.tuples(st.sampled_from(SPECIAL_FILES), st.integers(1, 40)).map(lambda dn: dn[0][: dn[1]]),  # truncated
)
filenames = st.one_of(
    st.sampled_from(["x.csv", "x.CSV", "x.yaml", "x.yml", "x.zip", "x.xml", "x.svg", "x.png", "x.pdf",
                     "x", ".csv", "../../etc/passwd.csv", "中文 名稱.csv", "a\\b.zip", "x" * 300 + ".csv",
                     "x.csv.exe", "\u202ecsv.exe"]),
    st.text(min_size=1, max_size=30).filter(lambda t: "\x00" not in t),
)

field_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "-1", "0", "9" * 400, "1e999", "NaN", "[" * 5000 + "]" * 5000, '{"a":' * 3000,
                     "x" * 100_001, "../../etc/passwd", "中文", "\u202e", " ", "null", "[]", "{}"]),
)


# -- the page's own form --------------------------------------------------------------------------
class _FormReader(HTMLParser):
    """The fields (name, value) a browser would send from the multipart form holding ``file_field``."""

    def __init__(self, file_field: str) -> None:
        super().__init__()
        self.file_field = file_field
        self.forms: list[tuple[list[tuple[str, str]], set[str]]] = []
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "multipart" in a.get("enctype", ""):
            self._in_form = True
            self.forms.append(([], set()))
        if not self._in_form:
            return
        fields, file_names = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "file":
                file_names.add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._chosen = name, None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                fields.append((self._select, a.get("value", "")))
                self._chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._chosen and self._first_option is not None and self._in_form:
                self.forms[-1][0].append((self._select, self._first_option))
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._in_form:
            fields = self.forms[-1][0]
            name, value = fields[-1]
            fields[-1] = (name, value + data)

    def fields(self) -> list[tuple[str, str]]:
        for fields, file_names in self.forms:
            if self.file_field in file_names:
                return fields
        raise AssertionError(f"no multipart form with the file field {self.file_field!r} on the page")


def _role_for(app: Flask, endpoint: str) -> str:
    roles = getattr(app.view_functions[endpoint], "required_roles", ("admin",))
    return "admin" if "admin" in roles else roles[0]


def _counts(app: Flask) -> dict[str, int]:
    with app.extensions["itembank_sessionmaker"]() as db:
        return _table_counts(db)


def _table_counts(db: Session) -> dict[str, int]:
    return {t.name: db.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables if t.name not in BOOKKEEPING}


def _uploads(app: Flask) -> Iterator[tuple[Upload, str]]:
    for upload in find_uploads(app):
        for name in upload.fields:
            yield upload, name


@pytest.mark.parametrize("entry", sorted(f"{e}:{f}" for e, f in KNOWN_UPLOADS) + ["found later"])
def test_generated_files_at_every_upload_are_never_a_500(fuzz_app: Flask, entry: str) -> None:
    app = fuzz_app
    entries = list(_uploads(app))
    if entry == "found later":  # uploads the enumeration finds beyond the known ones
        entries = [(u, f) for u, f in entries if (u.endpoint, f) not in KNOWN_UPLOADS]
        if not entries:
            return
    else:
        entries = [(u, f) for u, f in entries if f"{u.endpoint}:{f}" == entry]
        assert entries, f"{entry} was not found"
    for upload, file_field in entries:
        _fuzz_upload(app, upload, file_field)


def _fuzz_upload(app: Flask, upload: Upload, file_field: str) -> None:
    client = login_as(app, app.config["FUZZ_USERS"][_role_for(app, upload.endpoint)])
    with app.test_request_context():
        from flask import url_for

        page_url = url_for(upload.page, **{k: v for k, v in URL_VALUES.items()
                                           if k in _arguments(app, upload.page)})
        post_args = {k: v for k, v in URL_VALUES.items() if k in _arguments(app, upload.endpoint)}
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    reader = _FormReader(file_field)
    reader.feed(page.get_data(as_text=True))
    base = [(k, v) for k, v in reader.fields() if k not in FILLS.get(upload.endpoint, {})]
    base += list(FILLS.get(upload.endpoint, {}).items())

    names = sorted({k for k, _v in base if k != "csrf_token"}) or ["name"]

    @EXAMPLES
    @given(data=files, filename=filenames, ident=st.one_of(st.just(""), odd_ids),
           changed=st.one_of(st.none(), st.tuples(st.sampled_from(names), field_values)))
    def run(data: bytes, filename: str, ident: str, changed: tuple[str, str] | None) -> None:
        post_url = _path(next(iter(app.url_map.iter_rules(upload.endpoint))),
                         {k: ident or v for k, v in post_args.items()})
        before = _counts(app)
        form: dict[str, Any] = {}
        for key, value in base:
            form.setdefault(key, []).append(value)
        if changed is not None:  # one of the page's other fields, generated too
            form[changed[0]] = changed[1]
        for other in upload.fields:
            if other != file_field and other in OTHER_FILES:
                form[other] = (io.BytesIO(OTHER_FILES[other][0]), OTHER_FILES[other][1])
        form[file_field] = (io.BytesIO(data), filename)
        reply = client.post(post_url, data=form, content_type="multipart/form-data")
        assert reply.status_code < 500, (post_url, file_field, filename, data[:120], changed and changed[0])
        if reply.status_code >= 400:
            assert reply.get_data(as_text=True).strip(), "a refusal says why"
            assert _counts(app) == before, f"{upload.endpoint} refused the file but wrote rows"

    run()


def _arguments(app: Flask, endpoint: str) -> set[str]:
    return {a for rule in app.url_map.iter_rules(endpoint) for a in rule.arguments}


# -- the JSON API -----------------------------------------------------------------------------------
json_leaf = st.one_of(
    st.none(), st.booleans(), st.text(max_size=30), st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, 1e-320, 0.5, -0.0]),
    st.sampled_from(["", " ", "\ufeff", "中文", "x" * 20_000, "../../etc", "T-01\n", "\u202e", "0" * 400]),
)
json_values = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
API_FIELDS = ["test", "access_code", "student", "language", "resume_code", "password", "school",
              "item", "response", "response_id"]
# Sent to every API rule before the generated ones, so a known bad shape is never left to chance.
SPECIAL_BODIES = [b"[" * 20_000 + b"]" * 20_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
                  b"NaN", b'{"test": NaN, "access_code": Infinity}', b"\xef\xbb\xbf{}", b'"\xff"',
                  b'{"test": "\\ud800"}', b"1" * 5000, b"{}" * 3, b"", b"null", b"\x00",
                  b'{"item": 1e999, "response": -1e999, "response_id": 123456789012345678901234567890}']
api_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(API_FIELDS), json_values, max_size=len(API_FIELDS)).map(
        lambda d: json.dumps(d).encode()),
    st.binary(max_size=200),
    st.sampled_from(SPECIAL_BODIES),
)
odd_ids = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["%00", "%ff%fe", "x" * 5000, "..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "中文",
                     "\u202e", "-1", "0" * 200, "1e400", "%F0%9F%98%80", "a b", "%20"]),
)
# what an HTTP header can carry (bytes as latin-1; no line breaks, which the test client refuses)
tokens = st.one_of(st.none(), st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
                   st.sampled_from(["x" * 5000, "\u00e9", "", "\x00", "Bearer"]))


def _api_rules(app: Flask) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")),
                  key=lambda r: (r.endpoint, r.rule))


def test_every_api_entry_point_is_found(fuzz_app: Flask) -> None:
    found = {r.endpoint for r in _api_rules(fuzz_app)}
    assert KNOWN_API <= found, f"API entry points no longer found: {KNOWN_API - found}"


def _path(rule: Any, values: dict[str, str]) -> str:
    url = rule.rule
    for arg in rule.arguments:
        value = values[arg]
        quoted = value if "%" in value else quote(value.encode("utf-8", "surrogatepass"), safe="")
        url = re.sub(rf"<(?:\w+:)?{arg}>", quoted, url)
    return url


@pytest.mark.parametrize("endpoint", sorted(KNOWN_API) + ["found later"])
def test_generated_bodies_and_ids_at_every_api_entry_point_are_never_a_500(
        fuzz_app: Flask, endpoint: str) -> None:
    app = fuzz_app
    rules = [r for r in _api_rules(app) if r.endpoint == endpoint or
             (endpoint == "found later" and r.endpoint not in KNOWN_API)]
    if endpoint == "found later" and not rules:
        return
    assert rules, f"{endpoint} was not found"
    client = app.test_client()
    started = start_api_session(client, f"fuzz-{endpoint}")

    for rule in rules:
        _fuzz_api_rule(app, client, rule, started)


def _fuzz_api_rule(app: Flask, client: FlaskClient, rule: Any, started: dict[str, Any]) -> None:
    real = {"session_id": started["session"]}
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})

    def send(method: str, body: bytes, ident: str, authorization: str | None) -> None:
        values = {arg: (ident or real.get(arg, "x")) for arg in rule.arguments}
        headers = {"Authorization": authorization} if authorization is not None else {}
        before = _counts(app)
        reply = client.open(_path(rule, values), method=method, data=body, headers=headers,
                            content_type="application/json")
        assert reply.status_code < 500, (rule.rule, method, values, body[:120])
        if reply.status_code >= 400:
            assert (reply.get_json(silent=True) or {}).get("message"), "a refusal says why"
            assert _counts(app) == before, f"{rule.endpoint} refused the body but wrote rows"

    for method in methods:
        for body in SPECIAL_BODIES:
            send(method, body, "", f"Bearer {started['token']}")

    @EXAMPLES
    @given(method=st.sampled_from(methods), body=api_bodies, ident=st.one_of(st.just(""), odd_ids),
           token=tokens, real_token=st.booleans())
    def run(method: str, body: bytes, ident: str, token: str | None, real_token: bool) -> None:
        send(method, body, ident, f"Bearer {started['token']}" if real_token else
             None if token is None else f"Bearer {token}")

    run()


# -- what the fuzzing found, as plain examples ------------------------------------------------------
DEEP_JSON = b"[" * 20_000 + b"]" * 20_000  # under the API's 64 KB; Python's parser gives up at ~1000


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/sessions/{session}/responses"])
def test_deeply_nested_json_is_a_400_that_says_why(fuzz_app: Flask, path: str) -> None:
    """It was a 500: ``RecursionError`` passes through ``get_json(silent=True)``."""
    client = fuzz_app.test_client()
    started = start_api_session(client, f"deep-{len(path)}")
    before = _counts(fuzz_app)
    reply = client.post(path.format(session=started["session"]), data=DEEP_JSON,
                        content_type="application/json",
                        headers={"Authorization": f"Bearer {started['token']}"})
    assert reply.status_code == 400
    assert "nested too deeply" in reply.get_json()["message"]
    assert _counts(fuzz_app) == before


def test_a_broken_json_body_is_a_400_naming_line_and_column(fuzz_app: Flask) -> None:
    reply = fuzz_app.test_client().post("/api/v1/sessions", data=b'{"test": "demo-cat",\n "student": }',
                                        content_type="application/json")
    assert reply.status_code == 400
    assert "line 2 column" in reply.get_json()["message"]


def test_deeply_nested_json_in_the_unit_editor_is_refused_not_a_500(fuzz_app: Flask) -> None:
    """The editor keeps blocks it cannot edit (tables) as JSON in a hidden field."""
    client = login_as(fuzz_app, fuzz_app.config["FUZZ_USERS"]["admin"])
    reader = _FormReader("image_file")
    reader.feed(client.get("/author/units/T-02/edit").get_data(as_text=True))
    form: dict[str, Any] = {}
    for key, value in reader.fields():
        form.setdefault(key, []).append(value)
    form["u.stimulus.0.json"] = DEEP_JSON.decode()
    before = _counts(fuzz_app)
    reply = client.post("/author/units/T-02/edit", data=form, content_type="multipart/form-data")
    assert reply.status_code == 422, reply.status_code
    assert _counts(fuzz_app) == before
