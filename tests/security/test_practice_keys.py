"""Keys are shown only in practice tests of released units.  The end page of an operational test
(fixed or adaptive) holds no key, accepted answer, rationale or coding-guide text; a practice test
whose items are in operational units cannot be made (the service refuses it), and one slipped into
the database behind the service's back is never delivered (503) and shows nothing; a practice test
of released units does show them (so this walk can tell)."""

from __future__ import annotations

import html as html_lib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from itembank.authoring.workflow import Actor, release, retire
from itembank.bank.schema import rationale_parts
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache, delivery_bank
from itembank.delivery.models import Test
from tests.webapp.conftest import good_response
from tests.webapp.test_api import forbidden_strings

REVIEWER = Actor(None, "rev", "reviewer")
OPERATIONAL = ["T-02-Q1", "T-03-Q1", "T-03-Q2", "T-03-Q3"]  # approved units, in use
RELEASED = ["T-01-Q1", "T-01-Q2", "T-01-Q3", "T-01-Q4"]


def _secrets(items: list[Any]) -> set[str]:
    out: set[str] = set()
    for item in items:
        out |= forbidden_strings(item)
        for part in rationale_parts(item):
            if part.rationale is not None:
                out |= {part.rationale.en, part.rationale.zh_TW}
    return out


def _join(app: Flask, test_id: str, code: str, student: str, language: str) -> tuple[FlaskClient, Any]:
    from webapp.deliver import KEY

    c = app.test_client()
    reply = c.post("/api/v1/sessions", json={
        "test": test_id, "access_code": code, "student": student, "language": language})
    if reply.status_code != 201:
        return c, reply
    started = reply.get_json()
    with c.session_transaction() as sess:
        sess[KEY] = {"id": started["session"], "token": started["token"], "intro": True}
    item, n = started["item"], 0
    while item is not None:
        answer = c.post(f"/api/v1/sessions/{started['session']}/responses",
                        json={"item": item["id"], "response": good_response(item),
                              "response_id": f"k{n}"},
                        headers={"Authorization": f"Bearer {started['token']}"})
        assert answer.status_code == 200
        item, n = answer.get_json()["item"], n + 1
    return c, reply


def _page_text(c: FlaskClient, path: str) -> str:
    page = c.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return html_lib.unescape(page.get_data(as_text=True))


@pytest.fixture
def world(app: Flask) -> Flask:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        retire(db, "T-01", REVIEWER)
        release(db, "T-01", REVIEWER)
        delivery.create_test(db, id="fixed-op", title={"zh-TW": "固定", "en": "Fixed"},
                             access_code="FIXOP1", kind="fixed", items=OPERATIONAL,
                             max_attempts=None)
        delivery.create_test(db, id="practice", title={"zh-TW": "練習", "en": "Practice"},
                             access_code="PRACT1", kind="practice", items=RELEASED,
                             max_attempts=None)
        # behind the service's back: a "practice" test of operational units
        db.add(Test(id="sneaky", title={"zh-TW": "x", "en": "x"}, kind="practice", cat_config={},
                    items=OPERATIONAL, access_code="SNEAKY",
                    code_key="SNEAKY", status="open", max_attempts=None))
    clear_cache()
    return app


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_operational_end_pages_hold_no_key_and_practice_ones_do(world: Flask, language: str) -> None:
    with world.extensions["itembank_sessionmaker"]() as db:
        operational = _secrets([e.item for e in delivery_bank(db, kind="fixed", items=OPERATIONAL).items.values()])
        adaptive = _secrets([e.item for e in delivery_bank(db).items.values()])
        practised = _secrets([e.item for e in delivery_bank(db, kind="practice", items=RELEASED).items.values()])
    for test_id, code, secrets in (("fixed-op", "FIXOP1", operational), ("demo-cat", "DEMO", adaptive)):
        c, _ = _join(world, test_id, code, f"op-{language}", language)
        text = _page_text(c, "/test/done")
        assert "practice-review" not in text
        leaked = [s for s in secrets if len(s) >= 6 and s in text]
        assert leaked == [], (test_id, leaked)
    c, _ = _join(world, "practice", "PRACT1", f"pr-{language}", language)
    text = _page_text(c, "/test/done")
    assert "practice-review" in text
    mine = {s for s in practised if any("\u4e00" <= ch <= "\u9fff" for ch in s) == (language == "zh-TW")}
    shown = [s for s in mine if s in text]
    assert len(shown) >= 8, shown  # rationales, accepted answers and coding-guide examples


def test_a_practice_test_of_operational_units_cannot_be_reached(world: Flask) -> None:
    with world.extensions["itembank_sessionmaker"]() as db:
        with pytest.raises(delivery.InvalidRequest, match="which is approved"):
            delivery.create_test(db, id="p2", title={"zh-TW": "x", "en": "x"},
                                 access_code="PRACT2", kind="practice", items=OPERATIONAL)
        secrets = _secrets([e.item for e in delivery_bank(db, kind="fixed", items=OPERATIONAL).items.values()])
    c, reply = _join(world, "sneaky", "SNEAKY", "s-1", "en")
    assert reply.status_code == 503
    assert not [s for s in secrets if s in reply.get_data(as_text=True)]
    page = c.post("/", data={"access_code": "SNEAKY", "student": "s-2", "language": "en"})
    for path in ("/test", "/test/done"):
        text = html_lib.unescape(c.get(path).get_data(as_text=True))
        assert "practice-review" not in text
        assert not [s for s in secrets if len(s) >= 6 and s in text]
    assert page.status_code in (200, 302, 400, 503)
