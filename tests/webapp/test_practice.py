"""Practice tests and pretest counts on the web, on SQLite and PostgreSQL: a teacher creates a
practice test on /manage (operational items refused with the reason, in both languages); the
research pages never offer a practice test; a reviewer releases a retired unit on its page; the
teacher's test page shows the response counts of the pretest units (counts only), bilingual."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from itembank.authoring.workflow import Actor, events, release, retire
from itembank.bank.models import ItemParameters, ItemVersion, UnitVersion
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import Test, TestAssignment
from itembank.delivery.practice import is_practice

from .conftest import csrf_token, good_response
from .test_manage import new_test_form
from .test_scope import add_user, build_world, class_of, ids_of, login

REVIEWER = Actor(None, "rev", "reviewer")


def _db(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["itembank_sessionmaker"]()


def _release(app: Flask, unit_id: str) -> None:
    with _db(app) as db, db.begin():
        retire(db, unit_id, REVIEWER)
        release(db, unit_id, REVIEWER)
    clear_cache()


def test_a_teacher_creates_a_practice_test_of_released_units_only(app: Flask, client: FlaskClient) -> None:
    build_world(app)
    _release(app, "T-01")
    login(client, "t-north")
    client.get("/language/en")
    page, reply = new_test_form(client, test_id="practice-801", kind="practice",
                                items="T-01-Q1 T-02-Q1, NOPE-Q1")
    assert 'value="practice"' in page
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert ("Item T-02-Q1 is in unit T-02, which is approved: a practice test takes items of "
            "released units only") in text
    assert "There is no item NOPE-Q1 in the bank." in text
    assert "T-01-Q1 is in unit" not in text
    client.get("/language/zh_Hant_TW")
    _, reply = new_test_form(client, test_id="practice-801", kind="practice", items="T-02-Q1")
    zh = reply.get_data(as_text=True)
    assert reply.status_code == 422 and "T-02-Q1" in zh and "已核可" in zh and "練習測驗" in zh
    with _db(app) as db:
        assert db.get(Test, "practice-801") is None
    _, reply = new_test_form(client, test_id="practice-801", kind="practice",
                             items="T-01-Q1 T-01-Q2 T-01-Q4", classes=str(_class_801(app)))
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with _db(app) as db:
        test = db.get(Test, "practice-801")
        assert test is not None and is_practice(test) and test.items == ["T-01-Q1", "T-01-Q2", "T-01-Q4"]
    # its settings offer no questionnaire (practice answers are never research data)
    edit = client.get("/manage/tests/practice-801/edit").get_data(as_text=True)
    assert 'name="questionnaire"' not in edit
    _, reply = new_test_form(client, test_id="fixed-801", kind="fixed", items="T-02-Q1", access_code="F801AB",
                             classes=str(_class_801(app)))
    assert reply.status_code == 302, reply.get_data(as_text=True)
    assert 'name="questionnaire"' in client.get("/manage/tests/fixed-801/edit").get_data(as_text=True)


def _class_801(app: Flask) -> int:
    with _db(app) as db:
        return class_of(db, "north", "801").id


def test_research_pages_never_offer_a_practice_test(app: Flask, client: FlaskClient) -> None:
    build_world(app)
    _release(app, "T-01")
    with _db(app) as db, db.begin():
        delivery.create_test(db, id="practice-x", title={"zh-TW": "練習", "en": "Practice"},
                             access_code="PRACTX", kind="practice", items=["T-01-Q1"])
    login(client, "r-taipei")
    index = client.get("/research/").get_data(as_text=True)
    assert "practice-x" not in index and "t-spring" in index
    token = csrf_token(index)
    for path in ("/research/datasets/from-test", "/research/online-calibration"):
        assert client.post(path, data={"csrf_token": token, "test": "practice-x"}).status_code == 404
    assert client.get("/research/reports?source=test:practice-x&grouping=city").status_code == 404


def test_a_reviewer_releases_a_retired_unit_on_its_page(app: Flask, client: FlaskClient) -> None:
    with _db(app) as db, db.begin():
        add_user(db, "rev", "reviewer")
        add_user(db, "teach", "teacher")
        retire(db, "T-02", Actor(None, "someone", "reviewer"))
    login(client, "teach")
    client.get("/language/en")
    page = client.get("/author/units/T-02").get_data(as_text=True)
    assert "Release for practice" not in page
    reply = client.post("/author/units/T-02/step", data={"csrf_token": csrf_token(page), "action": "release"})
    assert reply.status_code == 302
    with _db(app) as db:
        assert db.get(UnitVersion, _latest_id(app, "T-02")).status == "retired"  # type: ignore[union-attr]
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login(client, "rev")
    client.get("/language/en")
    page = client.get("/author/units/T-02").get_data(as_text=True)
    assert "Release for practice" in page
    reply = client.post("/author/units/T-02/step", data={"csrf_token": csrf_token(page), "action": "release",
                                                         "comment": "for the practice set"})
    assert reply.status_code == 302
    page = client.get("/author/units/T-02").get_data(as_text=True)
    assert "Released: practice tests may now show its keys and rationales." in page
    assert "released for practice" in page and "Released for practice: not edited again." in page
    assert 'href="/author/units/T-02/edit"' not in page
    client.get("/language/zh_Hant_TW")
    zh = client.get("/author/units/T-02").get_data(as_text=True)
    assert "已開放練習" in zh
    with _db(app) as db:
        last = events(db, "T-02")[-1]
        assert (last.to_status, last.username, last.comment) == ("released", "rev", "for the practice set")


def _latest_id(app: Flask, unit_id: str) -> int:
    with _db(app) as db:
        return db.scalars(select(UnitVersion.id).where(UnitVersion.unit_id == unit_id)
                          .order_by(UnitVersion.version.desc())).first()  # type: ignore[return-value]


def test_the_teachers_test_page_shows_pretest_counts_only(app: Flask, client: FlaskClient) -> None:
    build_world(app)
    with _db(app) as db, db.begin():
        versions = select(UnitVersion.id).where(UnitVersion.unit_id.in_(("T-07", "T-08")))
        db.execute(update(ItemVersion).where(ItemVersion.unit_version_id.in_(versions))
                   .values(parameters_id=None))
        test = delivery.create_test(
            db, id="pilot", title={"zh-TW": "試題預試", "en": "Pilot"}, access_code="PILOT9",
            cat_config_data={"stopping": {"se": None, "min_items": 8, "max_items": 8},
                             "pretest": {"count": 1, "after": 4, "min_responses": 40}},
            max_attempts=None,
        )  # fmt: skip
        db.flush()
        db.add(TestAssignment(test_id=test.id, class_id=class_of(db, "north", "801").id))
        params = [f"{a:.3f}" for a in db.scalars(select(ItemParameters.a)) if a is not None]
    clear_cache()
    start = delivery.utcnow() - timedelta(days=1)
    with _db(app) as db:
        for n, student in enumerate(ids_of("north", "801")):
            now = start + timedelta(minutes=3 * n)
            started = delivery.start_session(db, "pilot", "PILOT9", student, "en", now=now)
            state = started.state
            while not state.finished:
                now += timedelta(seconds=5)
                view = {"type": state.item.item.type, "options": [{"id": o.id} for o in getattr(state.item.item, "options", [])],
                        "statements": [{"id": s.id} for s in getattr(state.item.item, "statements", [])],
                        "choices": [{"id": c.id} for c in getattr(state.item.item, "choices", [])]}
                state = delivery.record_response(db, state.session.id, started.token, state.item.item.id,
                                                 good_response(view), f"r{state.answered}", now=now)
        from itembank.delivery.pretest import unit_counts

        counts = {c.unit_id: c for c in unit_counts(db, db.get(Test, "pilot"))}  # type: ignore[arg-type]
    assert set(counts) == {"T-07", "T-08"}
    assert sum(c.fewest for c in counts.values()) == len(ids_of("north", "801"))
    login(client, "t-north")
    client.get("/language/en")
    page = client.get("/teach/tests/pilot").get_data(as_text=True)
    assert "Units being tried out" in page and "Each item needs 40 responses" in page
    for c in counts.values():
        for item_id, n in c.items.items():
            assert f"{item_id}: {n}" in page
    assert not [p for p in params if p in page]  # no parameter is shown
    client.get("/language/zh_Hant_TW")
    zh = client.get("/teach/tests/pilot").get_data(as_text=True)
    assert "預試中的題組" in zh and "T-07-Q1: " in zh
    # a test without pretest units shows no such section
    assert "Units being tried out" not in client.get("/language/en") .get_data(as_text=True) + \
        client.get("/teach/tests/t-spring").get_data(as_text=True)
