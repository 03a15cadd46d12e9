"""What the server does for the test page, with or without its script, on SQLite and PostgreSQL:
a draft of the current item becomes the answer when the time runs out; an answer that arrives
just after the deadline (the countdown submitted it) is recorded; a blank answer the student
confirmed is stored once and scores 0; the device whose session was resumed elsewhere is told so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import Response
from itembank.delivery.scoring import is_blank


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as db, db.begin():
        delivery.create_test(
            db, id="timed", title={"zh-TW": "限時", "en": "Timed"}, access_code="TIMED1",
            kind="fixed", items=["T-01-Q3", "T-01-Q1", "T-03-Q2"], time_limit_minutes=10,
            max_attempts=None,
        )  # fmt: skip
    clear_cache()
    return demo_bank


def _responses(db: Session, session_id: str) -> list[Response]:
    return list(db.scalars(select(Response).where(Response.session_id == session_id)
                           .order_by(Response.sequence)))  # fmt: skip


def test_a_draft_of_the_current_item_is_the_answer_when_the_time_runs_out(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "timed", "TIMED1", "D-1", "en")
        ts = started.state.session
        delivery.save_draft(db, ts.id, started.token, "T-01-Q3", "half an ans")
        delivery.save_draft(db, ts.id, started.token, "T-01-Q3", "half an answer")
        late = delivery.deadline_of(ts) + timedelta(seconds=1)
        state = delivery.session_state(db, ts.id, started.token, now=late)
        assert state.status == "expired" and state.answered == 1
        stored = _responses(db, ts.id)
        assert [(r.item_id, r.response) for r in stored] == [("T-01-Q3", "half an answer")]
        assert state.session.draft_item is None
        # asked again, nothing more is recorded
        assert delivery.session_state(db, ts.id, started.token, now=late).answered == 1
        with pytest.raises(delivery.SessionClosed):
            delivery.save_draft(db, ts.id, started.token, "T-01-Q3", "more", now=late)


def test_a_draft_of_another_item_or_a_blank_one_is_not_recorded(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        for student, item, draft in (("D-2", "T-01-Q1", "not this item"), ("D-3", "T-01-Q3", "  ")):
            started = delivery.start_session(db, "timed", "TIMED1", student, "en")
            ts = started.state.session
            delivery.save_draft(db, ts.id, started.token, item, draft)
            late = delivery.deadline_of(ts) + timedelta(seconds=1)
            state = delivery.session_state(db, ts.id, started.token, now=late)
            assert state.status == "expired" and state.answered == 0
            assert _responses(db, ts.id) == []


def test_a_draft_is_bounded_and_needs_the_token(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "timed", "TIMED1", "D-4", "en")
        ts = started.state.session
        with pytest.raises(delivery.InvalidRequest, match="at most"):
            delivery.save_draft(db, ts.id, started.token, "T-01-Q3", "x" * 30_000)
        with pytest.raises(delivery.SessionNotFound):
            delivery.save_draft(db, ts.id, "wrong-token", "T-01-Q3", "x")


def test_an_answer_just_after_the_deadline_is_recorded_and_ends_the_session(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "timed", "TIMED1", "D-5", "en")
        ts = started.state.session
        deadline = delivery.deadline_of(ts)
        state = delivery.record_response(
            db, ts.id, started.token, "T-01-Q3", "in time", "r1",
            now=deadline + delivery.ANSWER_GRACE - timedelta(seconds=1),
        )  # fmt: skip
        assert state.status == "expired" and state.answered == 1
        other = delivery.start_session(db, "timed", "TIMED1", "D-6", "en")
        with pytest.raises(delivery.SessionClosed, match="time"):
            delivery.record_response(
                db, other.state.session.id, other.token, "T-01-Q3", "too late", "r1",
                now=deadline + delivery.ANSWER_GRACE + timedelta(seconds=5),
            )  # fmt: skip


def test_a_confirmed_blank_answer_is_stored_once_and_scores_zero(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "timed", "TIMED1", "D-7", "en")
        ts = started.state.session
        delivery.record_response(db, ts.id, started.token, "T-01-Q3", "", "b1")
        # a single choice takes no None unless the student confirmed the blank (the API's
        # contract keeps one option id)
        with pytest.raises(delivery.ResponseShapeError):
            delivery.record_response(db, ts.id, started.token, "T-01-Q1", None, "b2")
        delivery.record_response(
            db, ts.id, started.token, "T-01-Q1", None, "b2", allow_blank=True
        )
        delivery.record_response(
            db, ts.id, started.token, "T-01-Q1", None, "b2", allow_blank=True
        )  # a resend
        stored = _responses(db, ts.id)
        assert [(r.item_id, r.response, r.score) for r in stored] == [
            ("T-01-Q3", "", 0), ("T-01-Q1", None, 0)]  # fmt: skip
        assert delivery.answer_counts(db, ts.id) == (0, 2)


@pytest.mark.parametrize("response, blank", [
    (None, True), ("", True), ("  \n", True), ([], True), ({}, True), ({"S1": None}, True),
    ("A", False), (["A"], False), ({"S1": "Y"}, False), ("0", False),
])  # fmt: skip
def test_blank_is_the_same_rule_for_every_type(response: object, blank: bool) -> None:
    assert is_blank(response) is blank


def test_the_device_whose_session_was_resumed_elsewhere_is_told_so(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        first = delivery.start_session(db, "timed", "TIMED1", "D-8", "en")
        ts = first.state.session
        second = delivery.start_session(
            db, "timed", "TIMED1", "D-8", "en", resume_code=ts.resume_code
        )
        assert second.resumed and second.token != first.token
        with pytest.raises(delivery.SessionTakenOver):
            delivery.session_state(db, ts.id, first.token)
        with pytest.raises(delivery.SessionTakenOver):
            delivery.record_response(db, ts.id, first.token, "T-01-Q3", "x", "t1")
        with pytest.raises(delivery.SessionTakenOver):
            delivery.save_draft(db, ts.id, first.token, "T-01-Q3", "x")
        # a token never issued is still just "not found"
        with pytest.raises(delivery.SessionNotFound) as caught:
            delivery.session_state(db, ts.id, "never-issued")
        assert not isinstance(caught.value, delivery.SessionTakenOver)
        assert delivery.session_state(db, ts.id, second.token).status == "started"


def test_an_answer_sent_by_the_countdown_ends_the_session_a_moment_early(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "timed", "TIMED1", "D-9", "en")
        ts = started.state.session
        early = delivery.deadline_of(ts) - timedelta(seconds=2)  # the browser's clock is ahead
        state = delivery.record_response(
            db, ts.id, started.token, "T-01-Q3", "typed", "c1", now=early, closing=True
        )
        assert state.status == "expired" and state.answered == 1
        # well before the deadline, "closing" changes nothing (no way to end a test early)
        other = delivery.start_session(db, "timed", "TIMED1", "D-10", "en")
        state = delivery.record_response(
            db, other.state.session.id, other.token, "T-01-Q3", "typed", "c1", closing=True
        )
        assert state.status == "in_progress"
