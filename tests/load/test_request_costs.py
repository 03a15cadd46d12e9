"""Guards on the per-request cost found while load testing: recording an answer takes a bounded
number of SQL statements (no N+1, one bank fingerprint query per answer), the fingerprint (the
bank's revision) changes when the bank changes, and the API's cached item view is exactly
what :func:`itembank.delivery.student_view.item_view` renders."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from itembank.bank.models import ItemParameters
from itembank.delivery.cat_bank import bank_fingerprint
from itembank.delivery.student_view import item_view
from tests.webapp.conftest import app, client, good_response  # noqa: F401  (fixtures)


def _start(client: FlaskClient, student: str = "cost", language: str = "en") -> dict[str, Any]:  # noqa: F811
    reply = client.post("/api/v1/sessions", json={
        "test": "demo-cat", "access_code": "DEMO", "student": student, "language": language})
    assert reply.status_code == 201
    return reply.get_json()


def test_an_answer_costs_a_bounded_number_of_statements(app: Flask, client: FlaskClient) -> None:  # noqa: F811
    started = _start(client)
    engine = app.extensions["itembank_sessionmaker"].kw["bind"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        item, n = started["item"], 0
        per_answer = []
        while item is not None:
            before = len(statements)
            reply = client.post(
                f"/api/v1/sessions/{started['session']}/responses",
                json={"item": item["id"], "response": good_response(item), "response_id": f"r{n}"},
                headers={"Authorization": f"Bearer {started['token']}"},
            )
            assert reply.status_code == 200
            per_answer.append(len(statements) - before)
            item, n = reply.get_json()["item"], n + 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # lock (+ SQLite's write-lock UPDATE), responses, test, fingerprint, insert, session update:
    # the same small number whatever the length of the history (no query per earlier answer).
    assert max(per_answer) <= 12, per_answer
    assert per_answer[1] == per_answer[-2], per_answer
    fingerprints = [s for s in statements if "from bank_revision" in s.lower()]
    assert len(fingerprints) <= len(per_answer) + 1  # one per answer (the last also finishes)


def test_the_fingerprint_changes_with_the_parameters(app: Flask) -> None:  # noqa: F811
    factory = app.extensions["itembank_sessionmaker"]
    with factory() as s:
        before = bank_fingerprint(s)
        assert len(before) == 1 and isinstance(before[0], int)  # the bank's revision
    with factory() as s, s.begin():
        first = s.scalars(select(ItemParameters.id).order_by(ItemParameters.id)).first()
        s.execute(update(ItemParameters).where(ItemParameters.id == first)
                  .values(a=ItemParameters.a + 0.25))
    with factory() as s:
        assert bank_fingerprint(s) != before


def test_the_cached_item_view_is_the_rendered_view(app: Flask, client: FlaskClient) -> None:  # noqa: F811
    from itembank.delivery import sessions as delivery
    from webapp.database import get_db

    for language in ("en", "zh-TW"):
        for student in ("view-a", "view-b"):  # the second is served from the cache
            started = _start(client, f"{student}-{language}", language)
            with app.test_request_context():
                state = delivery.session_state(get_db(), started["session"], started["token"])
                entry = state.item
                assert entry is not None
                expected = item_view(entry.item, entry.unit, language, entry.media, "/media/")
            if started["item"]["id"] == expected["id"]:
                assert started["item"] == expected
