"""The JSON API ``/api/v1`` (contract in docs/api.md and the OpenAPI document it serves).

Token auth (``Authorization: Bearer <token>``), so no CSRF.  Status codes: 400 unreadable JSON,
401 no bearer token, 403 wrong access code / closed window / not on the roster / a roster
password missing or wrong, 404 unknown test, or a session unknown *or* not reachable with this
token (the two look the same), 409 an answer to another item than the current one, a reused
response id or a closed session, a student's open session without its resume code
(``session_in_progress``), no attempt left (``attempts_used``), 422 a missing or ill-typed field
or a response in a shape its item type does not take, 429 too many wrong codes from this client,
503 a test without a bank.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from itembank import config
from itembank.delivery import questionnaire as questionnaires
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import BankUnavailableError
from itembank.delivery.scoring import ResponseShapeError
from itembank.delivery.student_view import item_view

from .database import get_db
from .errors import json_error
from .security import json_problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI = Path(__file__).resolve().parent / "openapi.json"

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (delivery.TooManyAttempts, 429),
    (delivery.SessionInProgress, 409),
    (delivery.AttemptsUsed, 409),
    (delivery.InvalidRequest, 422),
    (delivery.TestNotFound, 404),
    (delivery.AccessDenied, 403),
    (delivery.SessionNotFound, 404),
    (delivery.ItemConflict, 409),  # SessionClosed included
    (ResponseShapeError, 422),
    (BankUnavailableError, 503),
    (questionnaires.NoQuestionnaire, 404),
]


class Unauthorized(Exception):
    pass


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ResponseShapeError):
        return "invalid_response"
    if isinstance(exc, BankUnavailableError):
        return "bank_unavailable"
    return getattr(exc, "code", "error")


@bp.errorhandler(Unauthorized)
def _unauthorized(exc: Unauthorized) -> Response:
    response = json_error(401, "unauthorized", str(exc))
    response.headers["WWW-Authenticate"] = 'Bearer realm="itembank"'
    return response


def _handle(exc: Exception) -> Response:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            response = json_error(status, _error_code(exc), str(exc))
            if status == 429:
                response.headers["Retry-After"] = str(config.load().code_window_seconds)
            return response
    raise exc


for _kind, _code in STATUS_BY_ERROR:
    bp.register_error_handler(_kind, _handle)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None and request.is_json and (problem := json_problem(request.get_data())):
        raise _BadRequest(f"the body is not valid JSON ({problem}); send one JSON object")
    if data is None:
        raise _BadRequest("the body must be a JSON object (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


class _BadRequest(Exception):
    pass


@bp.errorhandler(_BadRequest)
def _bad_request(exc: _BadRequest) -> Response:
    return json_error(400, "invalid_json", str(exc))


def _require(data: dict[str, Any], *fields: str) -> None:
    missing = [f for f in fields if f not in data]
    if missing:
        raise delivery.InvalidRequest(f"missing field(s): {', '.join(missing)}")


def _token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the session's token as Authorization: Bearer <token>")
    return token.strip()


# Rendered item views, keyed by the stored (immutable) unit and item versions, the language and
# the media prefix: rendering Markdown and sanitising it was a fifth of an answer's time.  Read
# only after it is built (jsonify does not change it); cleared when full.
_VIEW_CACHE: dict[tuple[int, int, str, str], dict[str, Any]] = {}
_VIEW_CACHE_SIZE = 2048
_view_lock = threading.Lock()


def _item(state: delivery.SessionState) -> dict[str, Any] | None:
    if state.item is None:
        return None
    entry = state.item
    prefix = url_for("deliver.media", digest="x").removesuffix("x")
    key = (entry.unit_version_id, entry.item_version_id, state.session.language, prefix)
    with _view_lock:
        view = _VIEW_CACHE.get(key)
    if view is None:
        view = item_view(entry.item, entry.unit, state.session.language, entry.media, prefix)
        with _view_lock:
            if len(_VIEW_CACHE) >= _VIEW_CACHE_SIZE:
                _VIEW_CACHE.clear()
            _VIEW_CACHE[key] = view
    return view


def _status(state: delivery.SessionState) -> str:
    return "finished" if state.finished else "in_progress"


def _questionnaire_step(state: delivery.SessionState) -> dict[str, Any] | None:
    """The questionnaire section of a test that has one: ``pending`` (the cognitive part is
    over and the student has not finished it), ``finished``, or ``later`` (after the last
    item); None for a test without a questionnaire.  Clients that do not know it see the same
    ``status`` and ``item`` as before."""
    ts = state.session
    if ts.test.questionnaire_id is None:
        return None
    if not state.finished:
        step = "later"
    else:
        step = "finished" if ts.questionnaire_finished_at is not None else "pending"
    return {
        "id": ts.test.questionnaire_id,
        "status": step,
        "href": url_for("api.questionnaire", session_id=ts.id),
    }


@bp.post("/sessions")
def start() -> tuple[Response, int]:
    data = _body()
    _require(data, "test", "access_code", "student", "language")
    started = delivery.start_session(
        get_db(), data["test"], data["access_code"], data["student"], data["language"],
        resume_code=data.get("resume_code"), password=data.get("password"),
        school=data.get("school"), address=request.remote_addr,
    )  # fmt: skip
    state = started.state
    body = {
        "session": state.session.id,
        "token": started.token,
        "status": _status(state),
        "item": _item(state),
        "resume_code": state.session.resume_code,
    }
    if (step := _questionnaire_step(state)) is not None:
        body["questionnaire"] = step
    return jsonify(body), 201


@bp.post("/sessions/<session_id>/responses")
def respond(session_id: str) -> Response:
    token = _token()
    data = _body()
    _require(data, "item", "response", "response_id")
    state = delivery.record_response(
        get_db(), session_id, token, data["item"], data["response"], data["response_id"]
    )
    body = {"status": _status(state), "item": _item(state), "answered": state.answered}
    if (step := _questionnaire_step(state)) is not None:
        body["questionnaire"] = step
    return jsonify(body)


@bp.get("/sessions/<session_id>")
def show(session_id: str) -> Response:
    state = delivery.session_state(get_db(), session_id, _token())
    body = {"status": _status(state), "answered": state.answered, "item": _item(state)}
    if (step := _questionnaire_step(state)) is not None:
        body["questionnaire"] = step
    return jsonify(body)


@bp.get("/sessions/<session_id>/questionnaire")
def questionnaire(session_id: str) -> Response:
    """The questionnaire section (``kind: "questionnaire"``) once the last item is answered."""
    state = questionnaires.questionnaire_state(get_db(), session_id, _token())
    return jsonify(questionnaires.questionnaire_view(state, state.session.language))


@bp.post("/sessions/<session_id>/questionnaire")
def questionnaire_answers(session_id: str) -> Response:
    """Record answers ``{"answers": {statement: category or null}, "finish": false}``; the
    section is finished when every statement was sent, or with ``finish: true``."""
    token = _token()
    data = _body()
    _require(data, "answers")
    finish = data.get("finish", False)
    if not isinstance(finish, bool):
        raise delivery.InvalidRequest("finish must be true or false")
    state = questionnaires.record_questionnaire_answers(
        get_db(), session_id, token, data["answers"], finish=finish
    )
    return jsonify(questionnaires.questionnaire_view(state, state.session.language))


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(OPENAPI.read_text("utf-8"), mimetype="application/json")
