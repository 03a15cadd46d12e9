"""Malformed JSON API bodies (hypothesis) through Flask's test client: random JSON, wrong types,
huge strings, bytes that are not JSON.  Every reply is 4xx JSON ``{"error", "message"}`` (never a
500 or a traceback) and nothing is stored; bodies over the API's limit get 413 before they are
read, and uploads over ``MAX_CONTENT_LENGTH`` get 413 on pages too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from itembank.delivery.models import Response, TestSession
from tests.webapp.conftest import app, client  # noqa: F401  (fixtures)

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["demo-cat", "DEMO", "en", "zh-TW", ""]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
start_fields = st.fixed_dictionaries({}, optional={
    "test": json_values, "access_code": json_values, "student": json_values, "language": json_values,
})
answer_fields = st.fixed_dictionaries({}, optional={
    "item": json_values, "response": json_values, "response_id": json_values,
})


def _counts(flask_app: Flask) -> tuple[int, int]:
    from webapp.database import get_db

    with flask_app.app_context():
        db = get_db()
        return (db.scalar(select(func.count()).select_from(TestSession)) or 0,
                db.scalar(select(func.count()).select_from(Response)) or 0)


def _is_clean_error(reply: Any) -> None:
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.get_data(as_text=True)[:300])
    body = reply.get_json()
    assert set(body) >= {"error", "message"} and body["message"]
    assert "Traceback" not in reply.get_data(as_text=True)


@pytest.fixture
def session(client: FlaskClient) -> dict[str, Any]:  # noqa: F811
    reply = client.post("/api/v1/sessions", json={
        "test": "demo-cat", "access_code": "DEMO", "student": "bad-input", "language": "en"})
    assert reply.status_code == 201
    return reply.get_json()


@FAST
@given(body=st.one_of(start_fields, json_values))
def test_random_start_bodies_are_clean_4xx_and_store_nothing(
    app: Flask, client: FlaskClient, body: Any  # noqa: F811
) -> None:
    before = _counts(app)
    reply = client.post("/api/v1/sessions", json=body)
    if reply.status_code == 201:  # a valid start by chance: a session, nothing else
        return
    _is_clean_error(reply)
    assert _counts(app) == before


@FAST
@given(body=st.one_of(answer_fields, json_values))
def test_random_answer_bodies_are_clean_4xx_and_store_nothing(
    app: Flask, client: FlaskClient, session: dict[str, Any], body: Any  # noqa: F811
) -> None:
    before = _counts(app)
    reply = client.post(f"/api/v1/sessions/{session['session']}/responses", json=body,
                        headers={"Authorization": f"Bearer {session['token']}"})
    _is_clean_error(reply)
    assert _counts(app) == before


@FAST
@given(raw=st.binary(max_size=200), kind=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]))
def test_bytes_that_are_not_json_are_400(
    app: Flask, client: FlaskClient, session: dict[str, Any], raw: bytes, kind: str  # noqa: F811
) -> None:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    before = _counts(app)
    reply = client.post(f"/api/v1/sessions/{session['session']}/responses", data=raw,
                        content_type=kind,
                        headers={"Authorization": f"Bearer {session['token']}"})
    _is_clean_error(reply)
    if value is None or kind != "application/json":
        assert reply.status_code == 400 and reply.get_json()["error"] == "invalid_json"
    assert _counts(app) == before


@pytest.mark.parametrize("route", ["start", "answer"])
def test_a_body_over_the_api_limit_is_413_json(
    app: Flask, client: FlaskClient, session: dict[str, Any], route: str  # noqa: F811
) -> None:
    before = _counts(app)
    huge = "x" * (app.config["ITEMBANK_MAX_API_BODY"] + 1)
    if route == "start":
        reply = client.post("/api/v1/sessions", json={
            "test": "demo-cat", "access_code": "DEMO", "student": huge, "language": "en"})
    else:
        item = session["item"]
        reply = client.post(f"/api/v1/sessions/{session['session']}/responses",
                            json={"item": item["id"], "response": huge, "response_id": "r1"},
                            headers={"Authorization": f"Bearer {session['token']}"})
    assert reply.status_code == 413
    assert reply.get_json()["error"] == "too_large" and "64 KB" in reply.get_json()["message"]
    assert _counts(app) == before


def test_wrong_types_and_long_strings_in_fields_are_422(
    client: FlaskClient, session: dict[str, Any]  # noqa: F811
) -> None:
    auth = {"Authorization": f"Bearer {session['token']}"}
    url = f"/api/v1/sessions/{session['session']}/responses"
    item = session["item"]["id"]
    for body in ({"item": item, "response": "A", "response_id": "x" * 65},
                 {"item": item, "response": "A", "response_id": 7},
                 {"item": [item], "response": "A", "response_id": "r"},
                 {"item": item, "response": {"deep": [[[["A"]]]]}, "response_id": "r"}):
        reply = client.post(url, json=body, headers=auth)
        assert reply.status_code == 422, body
    for body in ({"test": "demo-cat", "access_code": "DEMO", "student": "s" * 65, "language": "en"},
                 {"test": "demo-cat", "access_code": "DEMO", "student": "s", "language": "fr"},
                 {"test": 1, "access_code": "DEMO", "student": "s", "language": "en"}):
        assert client.post("/api/v1/sessions", json=body).status_code == 422, body


def test_uploads_over_max_content_length_are_413_on_pages(app: Flask) -> None:  # noqa: F811
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024  # ITEMBANK_MAX_UPLOAD_MB default
    app.config["MAX_CONTENT_LENGTH"] = 4096
    reply = app.test_client().post("/auth/login", data={"username": "x" * 10_000, "password": "y"})
    assert reply.status_code == 413
    assert "Traceback" not in reply.get_data(as_text=True)
