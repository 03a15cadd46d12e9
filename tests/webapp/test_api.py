"""The JSON API contract (/api/v1) on SQLite and PostgreSQL: start, answer to the end, retries,
conflicts, malformed responses, tokens, and what an item never contains."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from itembank.delivery.models import Response, TestSession

from .conftest import bad_responses, good_response

START = {"test": "demo-cat", "access_code": "DEMO", "student": "S-001", "language": "en"}


def start(client: FlaskClient, **changes: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/sessions", json={**START, **changes})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answer(
    client: FlaskClient,
    started: dict[str, Any],
    item: dict[str, Any],
    response: Any,
    response_id: str,
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/sessions/{started['session']}/responses",
        json={"item": item["id"], "response": response, "response_id": response_id},
        headers=auth(started["token"]),
    )


def recorded(app: Flask, session_id: str) -> list[Response]:
    with app.extensions["itembank_sessionmaker"]() as db:
        return list(
            db.scalars(
                select(Response)
                .where(Response.session_id == session_id)
                .order_by(Response.sequence)
            )
        )


def test_start_answer_to_the_end(app: Flask, client: FlaskClient) -> None:
    started = start(client)
    assert list(started) == ["session", "token", "status", "item", "resume_code"]
    assert started["status"] == "in_progress"
    item = started["item"]
    n = 0
    seen = set()
    while item is not None:
        assert item["id"] not in seen
        seen.add(item["id"])
        reply = answer(client, started, item, good_response(item), f"r-{n}")
        assert reply.status_code == 200, reply.get_json()
        body = reply.get_json()
        n += 1
        assert list(body) == ["status", "item", "answered"]
        assert body["answered"] == n
        item = body["item"]
        assert body["status"] == ("finished" if item is None else "in_progress")
    assert 6 <= n <= 20  # the demo's stopping rule: SE 0.35, at least 6, at most 20 items
    state = client.get(f"/api/v1/sessions/{started['session']}", headers=auth(started["token"]))
    assert state.get_json() == {"status": "finished", "answered": n, "item": None}
    rows = recorded(app, started["session"])
    assert [r.sequence for r in rows] == list(range(1, n + 1))
    # a finished session records nothing more
    late = answer(client, started, {"id": rows[-1].item_id}, "A", "late")
    assert late.status_code == 409
    with app.extensions["itembank_sessionmaker"]() as db:
        ts = db.get(TestSession, started["session"])
        assert ts.status == "finished" and ts.scale_score is not None and ts.level is not None


def test_a_retry_is_recorded_once_and_answered_the_same(app: Flask, client: FlaskClient) -> None:
    started = start(client)
    item = started["item"]
    first = answer(client, started, item, good_response(item), "same-id")
    second = answer(client, started, item, good_response(item), "same-id")
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert len(recorded(app, started["session"])) == 1
    # still the same reply after the session has moved on
    following = first.get_json()["item"]
    assert (
        answer(client, started, following, good_response(following), "next-id").status_code == 200
    )
    third = answer(client, started, item, good_response(item), "same-id")
    assert third.get_json() == first.get_json()
    assert len(recorded(app, started["session"])) == 2
    # the same response id for a different answer is a conflict
    other = answer(client, started, item, {"x": "y"}, "same-id")
    assert other.status_code == 409
    assert len(recorded(app, started["session"])) == 2


def test_an_answer_to_another_item_is_409_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    started = start(client)
    item = started["item"]
    for wrong in ("T-99-Q9", "T-08-Q4" if item["id"] != "T-08-Q4" else "T-01-Q1"):
        reply = answer(client, started, {"id": wrong}, "A", f"wrong-{wrong}")
        assert reply.status_code == 409
        assert reply.get_json()["error"] == "item_conflict"
        assert reply.get_json()["message"]
    assert recorded(app, started["session"]) == []
    state = client.get(f"/api/v1/sessions/{started['session']}", headers=auth(started["token"]))
    assert state.get_json()["item"] == item
    assert state.get_json()["answered"] == 0


def test_malformed_responses_are_422_per_type_and_change_nothing(
    app: Flask, client: FlaskClient
) -> None:
    started = start(client, student="S-shapes")
    item = started["item"]
    types_seen: set[str] = set()
    n = 0
    while item is not None and len(types_seen) < 5:
        for i, bad in enumerate(bad_responses(item)):
            reply = answer(client, started, item, bad, f"bad-{n}-{i}")
            assert reply.status_code == 422, (item["type"], bad, reply.get_json())
            assert reply.get_json()["error"] == "invalid_response"
            assert reply.get_json()["message"]
        assert len(recorded(app, started["session"])) == n
        types_seen.add(item["type"])
        reply = answer(client, started, item, good_response(item), f"good-{n}")
        assert reply.status_code == 200
        n += 1
        item = reply.get_json()["item"]
    assert types_seen == {
        "single_choice",
        "multiple_choice",
        "complex_choice",
        "short_response",
        "open_response",
    }


def test_a_session_is_reachable_only_with_its_own_token(client: FlaskClient) -> None:
    mine = start(client, student="S-a")
    other = start(client, student="S-b")
    url = f"/api/v1/sessions/{mine['session']}"
    assert client.get(url).status_code == 401
    assert client.get(url).headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get(url, headers=auth(other["token"])).status_code == 404
    assert client.get(url, headers=auth("made-up")).status_code == 404
    assert client.get("/api/v1/sessions/nope", headers=auth(mine["token"])).status_code == 404
    posted = client.post(
        f"{url}/responses",
        json={"item": mine["item"]["id"], "response": "A", "response_id": "x"},
        headers=auth(other["token"]),
    )
    assert posted.status_code == 404
    assert client.get(url, headers=auth(mine["token"])).get_json()["answered"] == 0


def test_bad_requests(client: FlaskClient) -> None:
    reply = client.post("/api/v1/sessions", data="{not json", content_type="application/json")
    assert reply.status_code == 400 and reply.get_json()["message"]
    reply = client.post("/api/v1/sessions", json=["a list"])
    assert reply.status_code == 400
    reply = client.post("/api/v1/sessions", json={"test": "demo-cat"})
    assert reply.status_code == 422 and "access_code" in reply.get_json()["message"]
    reply = client.post("/api/v1/sessions", json={**START, "language": "fr"})
    assert reply.status_code == 422
    reply = client.post("/api/v1/sessions", json={**START, "student": "  "})
    assert reply.status_code == 422
    reply = client.post("/api/v1/sessions", json={**START, "access_code": "WRONG"})
    assert reply.status_code == 403 and reply.get_json()["error"] == "access_denied"
    reply = client.post("/api/v1/sessions", json={**START, "test": "no-such-test"})
    assert reply.status_code == 404
    started = start(client)
    url = f"/api/v1/sessions/{started['session']}/responses"
    reply = client.post(url, json={"item": started["item"]["id"]}, headers=auth(started["token"]))
    assert reply.status_code == 422
    reply = client.post(url, data="nope", headers=auth(started["token"]))
    assert reply.status_code == 400
    assert client.get("/api/v1/nothing-here").get_json()["error"] == "not_found"
    assert client.get("/api/v1/sessions").status_code == 405


def test_the_access_code_ignores_case_and_rejoining_resumes(client: FlaskClient) -> None:
    first = start(client, access_code="demo")
    again = start(client, access_code=" Demo ", resume_code=first["resume_code"])
    assert again["session"] == first["session"]
    assert again["item"] == first["item"]
    # the new token replaces the old one
    url = f"/api/v1/sessions/{first['session']}"
    assert client.get(url, headers=auth(first["token"])).status_code == 404
    assert client.get(url, headers=auth(again["token"])).status_code == 200


def test_items_never_carry_keys_guides_or_parameters(app: Flask, client: FlaskClient) -> None:
    from itembank.delivery.cat_bank import delivery_bank

    with app.extensions["itembank_sessionmaker"]() as db:
        bank = delivery_bank(db)
        secrets = {item_id: forbidden_strings(entry.item) for item_id, entry in bank.items.items()}
    for language in ("en", "zh-TW"):
        started = start(client, student=f"S-keys-{language}", language=language)
        item = started["item"]
        n = 0
        while item is not None:
            assert_clean(item, secrets[item["id"]])
            reply = answer(client, started, item, good_response(item), f"k-{n}")
            n += 1
            item = reply.get_json()["item"]


FORBIDDEN_KEYS = {
    "key",
    "accepted",
    "scoring",
    "coding_guide",
    "irt",
    "numeric",
    "parameters",
    "a",
    "b",
    "c",
    "score",
    "max_score",
    "examples",
    "descriptor",
    "credit",
}


def forbidden_strings(item: Any) -> set[str]:
    """Texts that only the key, the accepted answers or the coding guide hold."""
    out: set[str] = set()
    accepted = getattr(item, "accepted", None)
    if accepted is not None:
        out |= {a for a in (*accepted.zh_TW, *accepted.en) if len(a) >= 3}
    for code in getattr(item, "coding_guide", None) or []:
        out |= {code.descriptor.en, code.descriptor.zh_TW}
        out |= {e.en for e in code.examples} | {e.zh_TW for e in code.examples}
    return out


def assert_clean(view: dict[str, Any], secrets: set[str]) -> None:
    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | set().union(*(keys(v) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(keys(v) for v in value)) if value else set()
        return set()

    assert not keys(view) & FORBIDDEN_KEYS, keys(view) & FORBIDDEN_KEYS
    text = json.dumps(view, ensure_ascii=False)
    stimulus = json.dumps(view["stimulus"], ensure_ascii=False)
    for secret in secrets:
        # an accepted answer may be a number that the stimulus itself shows (e.g. "2.8")
        if secret in stimulus and len(secret) < 6:
            continue
        assert secret not in text, secret


def test_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/sessions",
        "/sessions/{session}",
        "/sessions/{session}/responses",
        "/sessions/{session}/questionnaire",  # the questionnaire step (docs/api.md)
    }
    started = doc["components"]["schemas"]["Started"]
    assert started["required"] == ["session", "token", "status", "item", "resume_code"]
    assert doc["paths"]["/sessions"]["post"]["responses"].keys() >= {"201", "403", "409", "429"}
    result = doc["components"]["schemas"]["ResponseResult"]
    assert set(result["required"]) == {"status", "item", "answered"}
    assert doc["paths"]["/sessions/{session}/responses"]["post"]["responses"].keys() >= {
        "200",
        "401",
        "404",
        "409",
        "422",
    }


def test_security_headers_and_no_caching(client: FlaskClient) -> None:
    reply = client.post("/api/v1/sessions", json=START)
    assert reply.headers["Cache-Control"] == "no-store"
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_responses_count_matches_answered(app: Flask, client: FlaskClient) -> None:
    started = start(client, student="S-count")
    item = started["item"]
    for n in range(3):
        reply = answer(client, started, item, good_response(item), f"c-{n}")
        item = reply.get_json()["item"]
    with app.extensions["itembank_sessionmaker"]() as db:
        count = db.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.session_id == started["session"])
        )
        assert count == 3 == db.get(TestSession, started["session"]).answered


def test_a_takeover_attempt_gets_409_and_no_token(client: FlaskClient) -> None:
    victim = start(client, student="V-001")
    reply = client.post("/api/v1/sessions", json={**START, "student": " v-001"})
    assert reply.status_code == 409
    body = reply.get_json()
    assert body["error"] == "session_in_progress" and "token" not in body
    assert "session" not in body and victim["session"] not in reply.get_data(as_text=True)
    url = f"/api/v1/sessions/{victim['session']}"
    assert client.get(url, headers=auth(victim["token"])).status_code == 200
    wrong = client.post("/api/v1/sessions", json={**START, "student": "V-001",
                                                   "resume_code": "AAAAAA"})
    assert wrong.status_code == 409


def test_the_eleventh_wrong_code_in_a_minute_gets_429(client: FlaskClient) -> None:
    for _ in range(10):
        reply = client.post("/api/v1/sessions", json={**START, "access_code": "NOPE"})
        assert reply.status_code == 403
    reply = client.post("/api/v1/sessions", json=START)  # even the right code, for a while
    assert reply.status_code == 429
    assert reply.get_json()["error"] == "too_many_attempts"
    assert int(reply.headers["Retry-After"]) > 0
