"""The coding pages (/research/coding): the coder sees the response with the item's coding guide in
the interface language, a second coder's page is blind, a lead coder sees both codes, codes land
in Response.score; researchers and administrators reach the pages, and teachers too, over their own
classes' responses only (without the share coded twice)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from itembank.accounts.users import create_user
from itembank.delivery.models import Response, TestSession
from itembank.research.models import Dataset, ResponseCode

from ..itembank.research.test_coding import (
    CITY,
    OPEN,
    PASSWORD,
    set_share,
    set_up_class_test,
    set_up_other_classes,
    sit,
)
from .conftest import csrf_token

ANSWERS = ["因為每個人的立場不同，所以看法不同。", "<script>alert(1)</script> I think so", ""]


@pytest.fixture
def coded_app(app: Flask, session_factory: sessionmaker[Session]) -> Flask:
    with session_factory() as s, s.begin():
        set_up_class_test(s)  # a roster class of city tp takes the test; ann and ben code for tp
        for name, role in (("ann", "researcher"), ("ben", "researcher"), ("lee", "admin"),
                           ("tom", "teacher"), ("stu", "student")):
            create_user(s, name, role, PASSWORD, city=CITY if role == "researcher" else None)
    sit(session_factory, ANSWERS)
    return app


def login(app: Flask, name: str, language: str | None = None) -> FlaskClient:
    client = app.test_client()
    if language:
        client.set_cookie("lang", language)
    page = client.get("/auth/login")
    r = client.post("/auth/login", data={"username": name, "password": PASSWORD,
                                         "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert r.status_code == 302, r.status_code
    return client


def task_of(html: str) -> tuple[int, str]:
    rid = re.search(r'name="response" value="(\d+)"', html)
    kind = re.search(r'name="kind" value="(\w+)"', html)
    assert rid and kind, html
    return int(rid.group(1)), kind.group(1)


def post_code(client: FlaskClient, html: str, code: str, **override: str) -> str:
    rid, kind = task_of(html)
    data = {"csrf_token": csrf_token(html), "response": str(rid), "kind": kind, "code": code}
    data.update(override)
    r = client.post(f"/research/coding/{OPEN}", data=data, follow_redirects=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_coder_sees_the_guide_in_her_language(coded_app: Flask) -> None:
    zh = login(coded_app, "ann").get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert ANSWERS[0] in zh and "測試題目 T-01-Q4" in zh
    for text in ("完整", "完整答案一", "部分答案二", "錯誤答案一", "滿分", "部分分數"):
        assert text in zh, text
    assert "Full answer one" not in zh and "Test question" not in zh
    assert 'name="kind" value="first"' in zh
    en = login(coded_app, "ben", "en").get(f"/research/coding/{OPEN}").get_data(as_text=True)
    for text in ("Complete", "Full answer one", "Partial two", "Wrong one", "full credit"):
        assert text in en, text
    assert "完整答案一" not in en


def test_second_coder_is_blind_and_lead_resolves(coded_app: Flask,
                                                 session_factory: sessionmaker[Session]) -> None:
    set_share(session_factory, 1.0)
    ann, ben, lee = (login(coded_app, n) for n in ("ann", "ben", "lee"))
    page = ann.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    first_rid, _ = task_of(page)
    after = post_code(ann, page, "2")
    assert "已儲存評分" in after
    # ann cannot code her response again as second coder, even by forging the form
    forged = post_code(ann, after, "1", response=str(first_rid), kind="second")
    assert "須由另一位評分者" in forged  # the translated refusal
    with session_factory() as s:
        assert s.scalars(select(ResponseCode.kind).where(
            ResponseCode.response_id == first_rid)).all() == ["first"]
    # ben's page for that response: second, blind
    page = ben.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert task_of(page) == (first_rid, "second")
    assert "盲" in page
    assert "第一次評分" not in page and "earlier-codes" not in page
    assert "checked" not in page  # no code pre-selected
    post_code(ben, page, "1")
    with session_factory() as s:
        assert s.get(Response, first_rid).score is None  # type: ignore[union-attr]
    # the lead coder (admin, coded neither) sees both codes and decides
    page = lee.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert task_of(page) == (first_rid, "final")
    assert "第一次評分： <strong>2</strong> 滿分 · 第二次評分： <strong>1</strong> 部分分數" in page
    post_code(lee, page, "1")
    with session_factory() as s:
        assert s.get(Response, first_rid).score == 1  # type: ignore[union-attr]
    overview = lee.get("/research/coding").get_data(as_text=True)
    assert "0.0" in overview  # 0 % agreement on the one doubly coded response


def test_answers_are_escaped_and_empty_ones_said(coded_app: Flask,
                                                session_factory: sessionmaker[Session]) -> None:
    set_share(session_factory, 0.0)
    ann = login(coded_app, "ann")
    page = ann.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    page = post_code(ann, page, "2")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    page = post_code(ann, page, "0")
    assert "沒有作答" in page  # the empty answer
    page = post_code(ann, page, "9")
    assert "這一題已沒有需要您評分的作答" in page and 'name="response"' not in page
    with session_factory() as s:
        assert s.scalars(select(Response.score).where(Response.item_id == OPEN)
                         .order_by(Response.id)).all() == [2, 0, 0]


def test_students_cannot_reach_coding(coded_app: Flask,
                                     session_factory: sessionmaker[Session]) -> None:
    client = login(coded_app, "stu")
    assert client.get("/research/coding").status_code == 403
    assert client.get(f"/research/coding/{OPEN}").status_code == 403
    with session_factory() as s:
        rid = s.scalars(select(Response.id).where(Response.item_id == OPEN)).first()
    r = client.post(f"/research/coding/{OPEN}", data={"response": str(rid), "kind": "first",
                                                      "code": "2"})
    assert r.status_code in (400, 403)  # CSRF or role: either way nothing is coded
    r = client.post("/research/coding", data={"share": "100"})
    assert r.status_code in (400, 403)
    with session_factory() as s:
        assert s.scalars(select(ResponseCode)).first() is None
    anonymous = coded_app.test_client()
    assert anonymous.get(f"/research/coding/{OPEN}").status_code == 302


def test_share_is_set_as_a_percentage(coded_app: Flask,
                                      session_factory: sessionmaker[Session]) -> None:
    from itembank.research import coding

    ann = login(coded_app, "ann")
    page = ann.get("/research/coding").get_data(as_text=True)
    assert 'value="20"' in page  # the default share
    ann.post("/research/coding", data={"csrf_token": csrf_token(page), "share": "100"})
    with session_factory() as s:
        assert coding.double_share(s) == 1.0
    r = ann.post("/research/coding", data={"csrf_token": csrf_token(page), "share": "150"},
                 follow_redirects=True)
    assert "0 到 100" in r.get_data(as_text=True)
    with session_factory() as s:
        assert coding.double_share(s) == 1.0


# Every URL of the research blueprint, by method; a new endpoint fails the coverage check below
# until it is given arguments here and walked.
URL_VALUES = {"item_id": OPEN, "run_id": "1", "dataset_id": "1", "name": "information", "kind": "groups",
              "test_id": "open-t", "job_id": "1"}


def _url(rule: Rule, **values: str) -> str:
    values = URL_VALUES | values
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", values[arg]).replace(f"<{arg}>", values[arg])
    return url + ("?source=test:open-t&grouping=school" if "/reports" in url else "")


@pytest.mark.parametrize("outsider", ["kay", "nic"])  # a researcher of city kh; one with no city
def test_every_research_url_hides_another_citys_answers(coded_app: Flask,
                                                        session_factory: sessionmaker[Session],
                                                        outsider: str) -> None:
    """Issue 18: a researcher of another city, or one with no city, reads no answer, person id or
    session of city tp on any research page (GET), and no POST (coding, a data set of the test, a
    run) codes or scores anything of tp."""
    from itembank.orgs.roster import import_roster

    with session_factory() as s, s.begin():
        import_roster(s, b"city,school,class,student_id,name,grade,language,gender\n"
                         b"kh,kh-001,8B,K001,Other,8,zh-TW,\n", "other.csv")
        create_user(s, "kay", "researcher", PASSWORD, city="kh")
        create_user(s, "nic", "researcher", PASSWORD)
    with session_factory() as s:
        session_ids = list(s.scalars(select(TestSession.id).where(TestSession.test_id == "open-t")))
        rid = s.scalars(select(Response.id).where(Response.item_id == OPEN)).first()
        # a blank answer is scored 0 when it is recorded (no coder needs to see it)
        scored_before = s.scalar(select(func.count(Response.id)).where(
            Response.item_id == OPEN, Response.score.is_not(None)))
    assert scored_before == ANSWERS.count("")
    assert len(session_ids) == len(ANSWERS)
    secrets = [ANSWERS[0], "I think so", "S000", "S001", *session_ids]
    # the city's own researcher does see an answer (so the checks below can fail)
    own = login(coded_app, "ann").get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert ANSWERS[0] in own and f'name="response" value="{rid}"' in own
    client = login(coded_app, outsider)
    rules = [r for r in coded_app.url_map.iter_rules() if r.endpoint.startswith("research.")]
    walked: set[tuple[str, str]] = set()
    token = csrf_token(client.get("/research/coding").get_data(as_text=True))
    for rule in rules:  # POSTs first: a data set or run they made is then read by the GETs
        if "POST" not in (rule.methods or ()):
            continue
        for kind in ("first", "second", "final"):
            reply = client.post(_url(rule), data={"csrf_token": token, "response": str(rid),
                                                  "kind": kind, "code": "2", "test": "open-t",
                                                  "source": "test:open-t"})
            assert reply.status_code < 500, rule.rule
        walked.add((rule.endpoint, "POST"))
    with session_factory() as s:  # the data set of the test's sessions is read by the GETs below
        dataset_id = s.scalar(select(func.max(Dataset.id)))
    assert dataset_id is not None
    for rule in rules:
        if "GET" not in (rule.methods or ()):
            continue
        reply = client.get(_url(rule, dataset_id=str(dataset_id)))
        assert reply.status_code < 500, rule.rule
        body = reply.get_data(as_text=True)
        for secret in secrets:
            assert secret not in body, (rule.rule, secret)
        walked.add((rule.endpoint, "GET"))
    assert walked == {(r.endpoint, m) for r in rules for m in ("GET", "POST") if m in (r.methods or ())}
    assert len(walked) >= 15
    with session_factory() as s:
        assert s.scalar(select(func.count(ResponseCode.id))) == 0  # nothing was coded
        assert s.scalar(select(func.count(Response.id)).where(
            Response.item_id == OPEN, Response.score.is_not(None))) == scored_before
    # the same POST by the city's own researcher codes the answer
    set_share(session_factory, 0.0)
    own_client = login(coded_app, "ann")
    page = own_client.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert task_of(page) == (rid, "first")
    post_code(own_client, page, "2")
    with session_factory() as s:
        coded = s.get(Response, rid)
        assert coded is not None and coded.score == 2


@pytest.fixture
def classes_app(app: Flask, session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Class 7A (teacher tom), 7B (teacher una) of school tp-001, a class of city kh, the shared
    off-roster test and tom's own: one open response each (their ids by place)."""
    with session_factory() as s, s.begin():
        set_up_class_test(s)
        create_user(s, "ann", "researcher", PASSWORD, city=CITY)
    return set_up_other_classes(session_factory)


ANSWER_OF = {"7A": "7A answer", "7B": "7B answer", "kh": "kh answer", "demo": "off-roster answer",
             "own": "an answer on the own test"}


def test_a_teacher_codes_her_classes_and_nothing_else(app: Flask, classes_app: dict[str, int],
                                                      session_factory: sessionmaker[Session]) -> None:
    """Issue 16: the teacher's pages link the coding page where open responses wait; the
    teacher codes her classes' responses (and her own test's), sees no other class's, school's,
    city's or the demo's, cannot code one by forging its id, and cannot set the share coded twice."""
    from itembank.research import coding

    set_share(session_factory, 0.0)
    rids = classes_app
    tom = login(app, "tom", "en")
    home = tom.get("/teach/").get_data(as_text=True)
    assert "2 open responses wait for a code" in home and 'href="/research/coding"' in home
    test_page = tom.get("/teach/tests/open-t").get_data(as_text=True)
    assert "1 open response waits for a code" in test_page
    overview = tom.get("/research/coding")
    assert overview.status_code == 200
    html = overview.get_data(as_text=True)
    assert 'name="share"' not in html and "research-nav" not in html and 'href="/teach/"' in html
    assert f'href="/research/coding/{OPEN}"' in html
    # forged ids of another class, school, city and of the demo: refused, nothing coded
    page = tom.get(f"/research/coding/{OPEN}").get_data(as_text=True)
    for place in ("7B", "kh", "demo"):
        assert ANSWER_OF[place] not in page
        for kind in ("first", "second", "final"):
            after = post_code(tom, page, "2", response=str(rids[place]), kind=kind)
            assert "there is no such open response" in after, (place, kind)
    with session_factory() as s:
        assert s.scalar(select(func.count(ResponseCode.id))) == 0
    # the share stays with researchers: 403 and unchanged
    assert tom.post("/research/coding", data={"csrf_token": csrf_token(html), "share": "100"}).status_code == 403
    with session_factory() as s:
        assert coding.double_share(s) == 0.0
    # coding through: exactly her class's and her own test's responses
    seen = []
    while 'name="response"' in page:
        seen.append(next(p for p, a in ANSWER_OF.items() if a in page))
        page = post_code(tom, page, "2")
    assert sorted(seen) == ["7A", "own"]
    assert "Nothing left for you to code on this item." in page
    with session_factory() as s:
        assert s.get(Response, rids["7A"]).score == 2  # type: ignore[union-attr]
        assert s.get(Response, rids["7B"]).score is None  # type: ignore[union-attr]
    assert "wait for a code" not in tom.get("/teach/").get_data(as_text=True)
    # una (7B) codes hers; a teacher of no class sees an empty page
    una = login(app, "una", "en").get(f"/research/coding/{OPEN}").get_data(as_text=True)
    assert ANSWER_OF["7B"] in una and ANSWER_OF["7A"] not in una
    zed = login(app, "zed", "en")
    assert "No open responses to code yet." in zed.get("/research/coding").get_data(as_text=True)
    assert "wait for a code" not in zed.get("/teach/").get_data(as_text=True)
    # the city's researcher still sees the settings and the research menu
    assert 'name="share"' in login(app, "ann").get("/research/coding").get_data(as_text=True)
