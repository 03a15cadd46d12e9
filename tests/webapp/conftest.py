"""Fixtures of the web tests (flaskr style): ``app`` on a fresh database of each backend (through
the shared ``engine`` fixture) with the test bank and the demo test, ``client``, and helpers that
answer items the way a client would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from itembank.delivery.cat_bank import clear_cache
from itembank.demo import create_demo_content
from webapp import create_app


@pytest.fixture
def app(engine: Engine, demo_bank: sessionmaker[Session]) -> Iterator[Flask]:
    with demo_bank() as session, session.begin():
        create_demo_content(session)
    clear_cache()
    app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test-secret"})
    yield app
    clear_cache()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def good_response(item: dict[str, Any]) -> Any:
    """A well-shaped response to a student-view item (not necessarily right)."""
    kind = item["type"]
    if kind == "single_choice":
        return item["options"][0]["id"]
    if kind == "multiple_choice":
        return [item["options"][0]["id"], item["options"][-1]["id"]]
    if kind == "complex_choice":
        return {s["id"]: item["choices"][0]["id"] for s in item["statements"]}
    return "Because people see the issue differently."


BAD_RESPONSES: dict[str, list[Any]] = {
    "single_choice": [["A"], {"A": "B"}, 1, None, "no-such-option"],
    "multiple_choice": ["A", {"A": "B"}, [1], ["no-such-option"], None],
    "complex_choice": ["Y", ["Y"], {"no-such-statement": "Y"}, None],
    "short_response": [["text"], {"a": "b"}, 12, None, "x" * 10_001],
    "open_response": [["text"], {"a": "b"}, 12, None],
}


def bad_responses(item: dict[str, Any]) -> list[Any]:
    out = list(BAD_RESPONSES[item["type"]])
    if item["type"] == "complex_choice":
        first = item["statements"][0]["id"]
        out.append({first: "no-such-choice"})
    return out


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
