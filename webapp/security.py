"""Security headers on every response: a CSP without inline scripts or styles, no framing, no
sniffing, no caching of test pages and API answers."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def init_app(app: Flask) -> None:
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
