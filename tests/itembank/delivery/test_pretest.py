"""Pretest seeding on SQLite and PostgreSQL: pretest units come at the configured place, never
change the adaptive part, θ or the score, and collect responses at the same rate."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.models import ItemVersion, UnitVersion
from itembank.delivery import pretest
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache, delivery_bank
from itembank.delivery.models import Test, TestSession

from .test_sessions import good

PRETEST_UNITS = ("T-06", "T-07", "T-08")
CONFIG: dict[str, Any] = {
    "estimation": {"interim": "eap", "final": "wle"},
    "stopping": {"se": None, "min_items": 12, "max_items": 12},
}


def _unit(item_id: str) -> str:
    return item_id.rsplit("-", 1)[0]


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    """The test bank with three approved units whose parameters are not published (pretest
    units), a test that seeds them and its twin without pretest."""
    with demo_bank() as db, db.begin():
        versions = select(UnitVersion.id).where(UnitVersion.unit_id.in_(PRETEST_UNITS))
        db.execute(
            update(ItemVersion)
            .where(ItemVersion.unit_version_id.in_(versions))
            .values(parameters_id=None)
        )
        for test_id, extra in (
            ("plain", {}),
            ("seeded", {"pretest": {"count": 1, "after": 4}}),
            ("two", {"pretest": {"count": 2, "after": [4, 8]}}),
        ):
            delivery.create_test(
                db, id=test_id, title={"zh-TW": test_id, "en": test_id},
                access_code=f"{test_id.upper()}99", kind="adaptive",
                cat_config_data={**CONFIG, **extra}, max_attempts=None,
            )  # fmt: skip
    clear_cache()
    return demo_bank


def _sit(
    db: Session, test: str, student: str, start: datetime, seed: int | None = None
) -> TestSession:
    """Take the test to the end, answering every item the same way, one answer a second."""
    started = delivery.start_session(db, test, f"{test.upper()}99", student, "en", now=start)
    sid, token = started.state.session.id, started.token
    if seed is not None:
        with db.begin():
            db.execute(update(TestSession).where(TestSession.id == sid).values(seed=seed))
    now = start
    state = delivery.session_state(db, sid, token, now=now)
    while not state.finished:
        assert state.item is not None
        now += timedelta(seconds=1)
        state = delivery.record_response(
            db, sid, token, state.item.item.id, good(state.item), f"r{state.answered}", now=now
        )
    ts = db.get(TestSession, sid)
    assert ts is not None
    return ts


def test_pretest_units_are_found_and_never_route(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        bank = delivery_bank(db)
        config = delivery.cat_config(db.get_one(Test, "seeded")).pretest
        units = pretest.pretest_units(bank, config)
        assert sorted(bank.cat.unit_ids[u] for u in units) == sorted(PRETEST_UNITS)
        assert all(bank.cat.unit_routing_count[u] == 0 for u in units)


def test_delivered_at_the_place_and_never_change_theta(factory: sessionmaker[Session]) -> None:
    start = delivery.utcnow()
    with factory() as db:
        plain = _sit(db, "plain", "S-1", start, seed=4242)
        seeded = _sit(db, "seeded", "S-1", start + timedelta(minutes=5), seed=4242)
        two = _sit(db, "two", "S-1", start + timedelta(minutes=10), seed=4242)
        order = {ts.id: [r.item_id for r in ts.responses] for ts in (plain, seeded, two)}
    base = order[plain.id]
    assert len(base) == 12 and not {_unit(i) for i in base} & set(PRETEST_UNITS)
    # one pretest unit (4 items) right after the 4th operational item
    got = order[seeded.id]
    assert len(got) == 16 and {_unit(i) for i in got[4:8]} <= set(PRETEST_UNITS)
    assert len({_unit(i) for i in got[4:8]}) == 1
    assert got[:4] + got[8:] == base
    # two pretest units, after the 4th and the 8th operational item, not the same one
    got = order[two.id]
    assert len(got) == 20 and got[:4] + got[8:12] + got[16:] == base
    first, second = {_unit(i) for i in got[4:8]}, {_unit(i) for i in got[12:16]}
    assert len(first) == len(second) == 1 and first != second
    assert (first | second) <= set(PRETEST_UNITS)
    # θ, its SE, the score and the scored answers are those of the session without pretest
    for ts in (seeded, two):
        assert ts.status == "finished"
        assert ts.theta == pytest.approx(plain.theta, abs=1e-12)
        assert ts.se == pytest.approx(plain.se, abs=1e-12)
        assert ts.scale_score == pytest.approx(plain.scale_score, abs=1e-9)
        assert ts.level == plain.level and ts.scored_items == plain.scored_items


def test_pretest_units_collect_responses_at_the_same_rate(
    factory: sessionmaker[Session],
) -> None:
    start = delivery.utcnow()
    given: Counter[str] = Counter()
    with factory() as db:
        for n in range(15):  # sessions a few minutes apart, as students come
            ts = _sit(db, "seeded", f"B-{n}", start + timedelta(minutes=3 * n))
            units = {_unit(r.item_id) for r in ts.responses} & set(PRETEST_UNITS)
            assert len(units) == 1
            given.update(units)
        bank = delivery_bank(db)
        config = delivery.cat_config(db.get_one(Test, "seeded")).pretest
        units = pretest.pretest_units(bank, config)
        counts = pretest.response_counts(db, bank, units)
    assert sorted(given) == sorted(PRETEST_UNITS)
    assert max(given.values()) <= 1.1 * min(given.values())
    assert list(counts) == [5.0, 5.0, 5.0]  # responses per item of each unit


def test_the_choice_is_stable_between_requests(factory: sessionmaker[Session]) -> None:
    """At the slot, the pretest item shown stays the current one while other sessions answer
    pretest items (only answers older than the snapshot count)."""
    start = delivery.utcnow()
    with factory() as db:
        started = delivery.start_session(db, "seeded", "SEEDED99", "C-1", "en", now=start)
        sid, token = started.state.session.id, started.token
        state = started.state
        now = start
        for n in range(4):
            now += timedelta(seconds=1)
            state = delivery.record_response(
                db, sid, token, state.item.item.id, good(state.item), f"r{n}", now=now
            )
        shown = state.item.item.id
        assert _unit(shown) in PRETEST_UNITS
        # other students answer the shown unit in the meantime (a test seeding only that one)
        with db.begin():
            delivery.create_test(
                db, id="only", title={"zh-TW": "only", "en": "only"}, access_code="ONLY99",
                cat_config_data={**CONFIG, "pretest": {"count": 1, "units": [_unit(shown)]}},
                max_attempts=None,
            )  # fmt: skip
        for n in range(2):
            other = _sit(db, "only", f"C-{n + 2}", now + timedelta(seconds=1 + 30 * n))
            assert _unit(shown) in {_unit(r.item_id) for r in other.responses}
        again = delivery.session_state(db, sid, token, now=now + timedelta(minutes=5))
        assert again.item is not None and again.item.item.id == shown
        after = delivery.record_response(
            db, sid, token, shown, good(again.item), "r4", now=now + timedelta(minutes=5)
        )
        assert after.item is not None and _unit(after.item.item.id) == _unit(shown)
