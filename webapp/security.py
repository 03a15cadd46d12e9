"""Security headers on every response (a CSP without inline scripts or styles, no framing, no
sniffing, no caching of test pages and API answers) and the size limits on what a request may
send: ``MAX_CONTENT_LENGTH`` for every request (uploads, forms) from ``ITEMBANK_MAX_UPLOAD_MB``,
and a much smaller one for the JSON API (``ITEMBANK_MAX_API_BODY_KB``); a larger body is refused
with 413 before it is read; and the login rate limit (failures counted in the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, Response, request
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
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config.setdefault("ITEMBANK_MAX_API_BODY", settings.max_api_body_kb * 1024)

    @app.before_request
    def _api_body_limit() -> None:
        if request.path.startswith("/api/"):
            # Flask >= 3.1: a per-request limit; werkzeug raises 413 when the body is read.
            request.max_content_length = app.config["ITEMBANK_MAX_API_BODY"]

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
        if not is_media and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# -- the login rate limit ----------------------------------------------------------------------
# Failures per (username, client address) are rows of ``login_attempts``, so every gunicorn worker
# and every host behind the proxy counts the same attempts.  After ``login_max_failures`` failures
# within ``login_lock_minutes`` the pair is locked until the oldest of them leaves the window; the
# password is not even checked meanwhile.  A success clears the pair's failures.
LOCKED_MESSAGES = {
    "zh-TW": "登入失敗次數過多，請於 {minutes} 分鐘後再試，或請管理員協助。",
    "en": "Too many failed attempts. Try again in {minutes} minutes, or ask an administrator.",
}


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


def locked_message(language: str) -> str:
    text = LOCKED_MESSAGES["zh-TW" if language.lower().startswith("zh") else "en"]
    return text.format(minutes=config.load().login_lock_minutes)
