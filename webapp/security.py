"""Security headers on every response (a CSP without inline scripts or styles, no framing, no
sniffing, no caching of test pages and API answers) and the size limits on what a request may
send: ``MAX_CONTENT_LENGTH`` for every request (uploads, forms) from ``ITEMBANK_MAX_UPLOAD_MB``,
and a much smaller one for the JSON API (``ITEMBANK_MAX_API_BODY_KB``); a larger body is refused
with 413 before it is read."""

from __future__ import annotations

from flask import Flask, Response, request

from itembank import config

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def init_app(app: Flask) -> None:
    settings = config.load()
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
