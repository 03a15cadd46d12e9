"""Error handlers: JSON under /api, pages elsewhere, never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .roles import forbidden_message


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra: object):  # type: ignore[no-untyped-def]
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        message = _("This page had expired. Please try again.")
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            if status == 413:
                limit = request.max_content_length or 0
                return json_error(
                    413, "too_large", f"the body is larger than {limit // 1024} KB; nothing was read"
                )
            return json_error(status, code, exc.description or exc.name)
        if status == 403:
            return render_template("error.html", status=403, message=forbidden_message()), 403
        messages = {
            404: _("There is no page at this address."),
            405: _("This page cannot be used this way."),
            400: _("The request could not be understood."),
            413: _("What was sent is larger than this site accepts; send a smaller file."),
            429: _("Too many requests; wait a minute and try again."),
        }
        message = messages.get(status, _("Something went wrong."))
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if isinstance(exc, HTTPException):
            return _http(exc)
        current_app.logger.exception("unhandled error on %s", request.path)
        if wants_json():
            return json_error(500, "internal_error", "the server could not complete the request")
        message = _("Something went wrong on our side. Your answers so far are saved.")
        return render_template("error.html", status=500, message=message), 500
