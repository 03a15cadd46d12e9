"""Security headers on every response (a CSP without inline scripts or styles, no framing, no
sniffing, no caching of test pages and API answers) and the size limits on what a request may
send: ``MAX_CONTENT_LENGTH`` for every request (uploads, forms) from ``ITEMBANK_MAX_UPLOAD_MB``,
and a much smaller one for the JSON API (``ITEMBANK_MAX_API_BODY_KB``); a larger body is refused
with 413 before it is read; and the login rate limit (failures counted in the database)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from itembank import config
from itembank.accounts.models import LoginAttempt
from itembank.db import unit_of_work

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def init_app(app: Flask) -> None:
    settings = config.load()
    hops = int(app.config.get("ITEMBANK_TRUSTED_PROXIES", settings.trusted_proxies))
    if hops > 0:
        # Behind nginx: the client's address (the login limit's key) and scheme come from the
        # X-Forwarded-* headers the proxies set; never trusted without this setting.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.wsgi_app = _form_utf8_guard(app.wsgi_app)  # type: ignore[method-assign]
    sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = sort_keys  # type: ignore[attr-defined]
    if app.config.get("ITEMBANK_PRODUCTION"):
        # the session cookie is written after the after_request hooks: its flags are set here
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config.setdefault("ITEMBANK_MAX_API_BODY", settings.max_api_body_kb * 1024)

    app.config.setdefault("ITEMBANK_MAX_FORM_FIELD", settings.max_form_field_chars)

    @app.before_request
    def _api_body_limit() -> None:
        if request.path.startswith("/api/"):
            # Flask >= 3.1: a per-request limit; werkzeug raises 413 when the body is read.
            request.max_content_length = app.config["ITEMBANK_MAX_API_BODY"]

    @app.before_request
    def _clean_input() -> Response | tuple[Any, int] | None:
        problem = input_problem(app.config["ITEMBANK_MAX_FORM_FIELD"])
        if problem is None:
            return None
        from .errors import json_error, wants_json

        if wants_json():
            return json_error(400, "bad_input", problem)
        return render_template("error.html", status=400, message=problem), 400

    @app.after_request
    def _headers(response: Response) -> Response:
        is_media = request.path.startswith("/media/")
        response.headers.setdefault("Content-Security-Policy", MEDIA_CSP if is_media else CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config.get("ITEMBANK_PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            _secure_cookies(response)
        if not is_media and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


BAD_FORM = "itembank.form_not_utf8"
MAX_GUARDED_FORM = 1024 * 1024


def _form_utf8_guard(wsgi_app: Any) -> Any:
    """Mark a url-encoded form whose escapes are not UTF-8 (werkzeug would keep them as text);
    the body is read once here and handed on unchanged."""

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0) if (environ.get("CONTENT_LENGTH") or "").isdigit() else 0
            if 0 < length <= MAX_GUARDED_FORM:
                body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(body)
                try:
                    unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
                except UnicodeError:
                    environ[BAD_FORM] = True
        return wsgi_app(environ, start_response)

    return guarded


class BoundedJSONProvider(DefaultJSONProvider):
    """The app's JSON (``request.get_json`` everywhere reads through it): a body nested deeper than
    Python's parser follows raised ``RecursionError``, which ``get_json(silent=True)`` lets through
    as a 500; here it is a ``ValueError`` like any other unreadable JSON, so it is refused with 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply to read; the API's bodies need three levels at most") from None


def json_problem(data: bytes) -> str | None:
    """Why a JSON body cannot be read (with its line and column where the parser knows them), or
    None when it can."""
    from flask import current_app

    try:
        current_app.json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return str(exc)
    return None


def _secure_cookies(response: Response) -> None:
    """In production every cookie the app sets (session, language, remember-me, any later one)
    carries ``Secure``, whichever view set it."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies or all("; secure" in c.lower() for c in cookies):
        return
    del response.headers["Set-Cookie"]
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie if "; secure" in cookie.lower() else f"{cookie}; Secure")


# -- the edge: what no view should ever see --------------------------------------------------------
def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 50 and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif depth < 50 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def input_problem(max_field: int) -> str | None:
    """Why the request is refused at the edge (translated), or None: a NUL character or bytes that
    are not UTF-8 in the address, a query or form field, or a JSON body; a form field longer than
    ``max_field`` characters.  Uploaded files are the readers' business (they name file and line)."""
    query = request.environ.get("QUERY_STRING", "")
    try:
        request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        unquote_to_bytes(query.encode("latin-1").replace(b"+", b" ")).decode("utf-8")
    except UnicodeError:
        return _("The address holds bytes that are not UTF-8 text.")
    if "\ufffd" in request.path:
        return _("The address holds bytes that are not UTF-8 text.")
    if "\x00" in request.path or "%00" in request.environ.get("QUERY_STRING", ""):
        return _("The address holds a NUL character, which no field may contain.")
    fields = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            body = request.get_json(silent=True)
            if any("\x00" in s for s in _strings(body)):
                return _("The request holds a NUL character, which no field may contain.")
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and \
                not request.path.startswith("/api/"):
            if request.environ.get(BAD_FORM):
                return _("The form holds bytes that are not UTF-8 text.")
            fields += [*request.form.items(multi=True)]
    for name, value in fields:
        if "\x00" in value or "\x00" in name:
            return _("The field %(field)s holds a NUL character, which no field may contain.", field=name[:40])
        if "\ufffd" in value:
            return _("The field %(field)s holds bytes that are not UTF-8 text.", field=name[:40])
        if len(value) > max_field:
            return _("The field %(field)s is longer than %(n)s characters.", field=name[:40], n=max_field)
    return None


# -- the login rate limit ----------------------------------------------------------------------
# Failures per (username, client address) are rows of ``login_attempts``, so every gunicorn worker
# and every host behind the proxy counts the same attempts.  After ``login_max_failures`` failures
# within ``login_lock_minutes`` the pair is locked until the oldest of them leaves the window; the
# password is not even checked meanwhile.  A success clears the pair's failures.


def _login_key(username: str, address: str | None) -> tuple[str, str]:
    return username.strip().lower()[:120], (address or "unknown")[:64]


def login_locked(db: Session, username: str, address: str | None) -> bool:
    """True when the pair has had too many failures in the window."""
    settings = config.load()
    name, addr = _login_key(username, address)
    since = datetime.now(UTC) - timedelta(minutes=settings.login_lock_minutes)
    failures = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == name, LoginAttempt.address == addr,
               LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since)
    )
    return (failures or 0) >= settings.login_max_failures


def note_login(db: Session, username: str, address: str | None, succeeded: bool) -> None:
    """Record one attempt (its own transaction); a success clears the pair's failures."""
    name, addr = _login_key(username, address)
    with unit_of_work(db):
        if succeeded:
            db.execute(delete(LoginAttempt).where(
                LoginAttempt.username == name, LoginAttempt.address == addr))
        db.add(LoginAttempt(username=name, address=addr, succeeded=succeeded,
                            created_at=datetime.now(UTC)))


def locked_message() -> str:
    """What a locked login says, in the page's language."""
    return _("Too many failed attempts with this username. Try again in %(minutes)s minutes, "
             "or ask your school's or city's administrator to help.", minutes=config.load().login_lock_minutes)
