"""The floor of the answer path on this stack: the web app as served, with the answer route replaced
by the least an answer can do.  ``run_load.py --app floor`` serves it like ``itembank serve``.

What the floor's answer does, on one connection in one transaction: lock the session's row
(``SELECT ... FOR UPDATE``), look the response id up (a retry is answered without a second row),
insert the answer, update the session's count (and status after 15 answers), commit, and answer
with the next item's student view (cached, as the real route caches it).  No CAT step, no scoring,
no ORM session, no history read.  Starting a session and reading its state are the app's own
routes.  So the gap between this and the app is what the answer logic costs; what this costs is
Flask, gunicorn, SQLAlchemy Core, psycopg and PostgreSQL on this host.

Not a part of the product: a measuring stick for ``benchmarks/README.md``.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request, url_for
from sqlalchemy import text

from itembank.delivery import sessions as delivery
from itembank.delivery.models import Test
from itembank.delivery.student_view import item_view
from webapp import create_app
from webapp.database import get_db

LENGTH = 15  # answers per session, about what the demo test's CAT gives

LOCK = text("SELECT token_hash, answered, language FROM test_sessions WHERE id = :id FOR UPDATE")
SEEN = text("SELECT sequence FROM responses WHERE session_id = :id AND response_id = :rid")
INSERT = text(
    "INSERT INTO responses (session_id, sequence, response_id, item_id, item_version_id, response,"
    " score, created_at) VALUES (:id, :seq, :rid, :item, :version, :response, :score, :now)"
)
UPDATE = text("UPDATE test_sessions SET answered = :n, status = :status, updated_at = :now WHERE id = :id")

_views: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}


def _items(language: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(item id, item version id, student view) of the demo test's single-choice items."""
    if language not in _views:
        db = get_db()
        test = db.get(Test, "demo-cat")
        assert test is not None, "run `itembank init --demo` first"
        bank = delivery._bank(db, test)
        prefix = url_for("deliver.media", digest="x").removesuffix("x")
        chosen = [e for e in bank.items.values() if e.item.type == "single_choice"][:LENGTH]
        _views[language] = [
            (e.item.id, e.item_version_id, item_view(e.item, e.unit, language, e.media, prefix))
            for e in chosen
        ]
    return _views[language]


def respond(session_id: str) -> Any:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    data = request.get_json()
    now = datetime.now(UTC)
    with get_db().get_bind().begin() as connection:  # type: ignore[union-attr]
        row = connection.execute(LOCK, {"id": session_id}).first()
        if row is None or not hmac.compare_digest(row.token_hash, delivery.hash_token(token)):
            return jsonify(error="not_found"), 404
        items = _items(row.language)
        answered = row.answered
        if connection.execute(SEEN, {"id": session_id, "rid": data["response_id"]}).first() is None:
            answered += 1
            item_id, version, _view = items[(answered - 1) % len(items)]
            connection.execute(INSERT, {"id": session_id, "seq": answered, "rid": data["response_id"],
                                        "item": item_id, "version": version,
                                        "response": '"' + str(data["response"])[:60].replace('"', "") + '"',
                                        "score": 0, "now": now})  # fmt: skip
            status = "finished" if answered >= LENGTH else "in_progress"
            connection.execute(UPDATE, {"id": session_id, "n": answered, "status": status, "now": now})
    finished = answered >= LENGTH
    body = {"status": "finished" if finished else "in_progress",
            "item": None if finished else items[answered % len(items)][2], "answered": answered}  # fmt: skip
    return jsonify(body)


def make_app() -> Flask:
    app = create_app()
    app.view_functions["api.respond"] = respond
    return app


app = make_app()
