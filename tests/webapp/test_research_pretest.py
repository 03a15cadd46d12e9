"""Pretest units on the research pages: their response counts, and the online calibration run
(operational items anchored, pretest items free) started from there and done by the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.bank.models import ItemVersion, UnitVersion
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import DeliveryItem, clear_cache
from itembank.research import calibration_runs, jobs
from itembank.research.models import CalibrationRun

from .conftest import csrf_token

PRETEST_UNITS = ("T-07", "T-08")


def _answer(entry: DeliveryItem, rng: np.random.Generator) -> Any:
    item = entry.item
    if item.type == "single_choice":
        return item.options[int(rng.integers(len(item.options)))].id
    if item.type == "multiple_choice":
        return [o.id for o in item.options if rng.random() < 0.5] or [item.options[0].id]
    if item.type == "complex_choice":
        return {s.id: item.choices[int(rng.integers(len(item.choices)))].id
                for s in item.statements}
    return "an answer"


def test_counts_and_online_calibration(app: Flask, session_factory: sessionmaker[Session]) -> None:
    rng = np.random.default_rng(5)
    with session_factory() as db, db.begin():
        versions = select(UnitVersion.id).where(UnitVersion.unit_id.in_(PRETEST_UNITS))
        db.execute(update(ItemVersion).where(ItemVersion.unit_version_id.in_(versions))
                   .values(parameters_id=None))
        delivery.create_test(
            db, id="pilot", title={"zh-TW": "試題預試", "en": "Pilot"}, access_code="PILOT9",
            cat_config_data={"stopping": {"se": None, "min_items": 8, "max_items": 8},
                             "pretest": {"count": 1, "after": 4, "min_responses": 10}},
            max_attempts=None,
        )  # fmt: skip
        create_user(db, "rita", "researcher", "a-long-password-1")
    clear_cache()
    start = delivery.utcnow() - timedelta(days=1)
    with session_factory() as db:
        for n in range(30):
            now = start + timedelta(minutes=3 * n)
            lang = "zh-TW" if n % 2 else "en"
            started = delivery.start_session(db, "pilot", "PILOT9", f"P-{n}", lang, now=now)
            state = started.state
            while not state.finished:
                now += timedelta(seconds=5)
                state = delivery.record_response(
                    db, state.session.id, started.token, state.item.item.id,
                    _answer(state.item, rng), f"r{state.answered}", now=now,
                )  # fmt: skip
    c = app.test_client()
    page = c.get("/auth/login")
    c.post("/auth/login", data={"username": "rita", "password": "a-long-password-1",
                                "csrf_token": csrf_token(page.get_data(as_text=True))})
    c.get("/language/en")
    text = c.get("/research/").get_data(as_text=True)
    assert "Pretest units" in text and "T-07-Q1: 15" in text and "T-08-Q1: 15" in text
    assert text.count(">yes<") == 2  # 15 responses per item reach min_responses 10
    c.get("/language/zh_Hant_TW")
    zh = c.get("/research/").get_data(as_text=True)
    assert "預試題組" in zh and "開始 pilot 的線上校準" in zh
    r = c.post("/research/online-calibration",
               data={"csrf_token": csrf_token(text), "test": "pilot"})
    assert r.status_code == 302
    jobs.work(session_factory, calibration_runs.HANDLERS, "test", burst=True)
    with session_factory() as db:
        run = db.scalars(select(CalibrationRun)).one()
        assert run.settings["anchor"] and run.settings["dif"]["group"] == "language"
        assert run.result is not None
        anchored = set(run.result["anchored"])
        calibrated = {e["id"] for e in run.result["items"]}
    assert anchored and not {i for i in anchored if i.startswith(PRETEST_UNITS)}
    free = calibrated - anchored
    assert free and all(i.startswith(PRETEST_UNITS) for i in free)
    assert c.get(r.headers["Location"]).status_code == 200
