"""The web app: students take tests (``deliver``), teachers follow them (``teach``), client apps use
the JSON API (``api``); ``auth`` logs people in.  :func:`create_app` is the application factory;
settings come from :mod:`itembank.config` only.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from itembank import config

from . import comfort, database, errors, i18n, security, templating
from .extensions import babel, csrf, login_manager

HERE = Path(__file__).resolve().parent


MIN_SECRET_BYTES = 32


def _check_production_secret(secret: str) -> None:
    """In production the secret key signs every cookie: at least 32 bytes, not a repetition
    (``python -c "import secrets; print(secrets.token_urlsafe(32))"`` makes one)."""
    if secret == config.DEFAULT_SECRET_KEY:
        raise RuntimeError(
            "set ITEMBANK_SECRET_KEY: the development secret must not be used in production"
        )
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES or len(set(secret)) < 12:
        raise RuntimeError(
            f"ITEMBANK_SECRET_KEY must be at least {MIN_SECRET_BYTES} random bytes in production; "
            'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.  ``test_config`` overrides settings; ``ENGINE`` (an SQLAlchemy engine) or
    ``DATABASE_URL`` chooses the database."""
    settings = config.load()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        ITEMBANK_PRODUCTION=settings.is_production,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=f"{HERE / 'translations'};{HERE / 'authoring' / 'translations'};"
        f"{HERE / 'manage' / 'translations'};{HERE / 'research' / 'translations'};"
        f"{HERE / 'printing' / 'translations'};{HERE / 'materials' / 'translations'}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(days=3),
        # The cookie is sent only when a request changes the session.  Refreshed on every
        # response, a stylesheet or image fetched before a change and answered after it puts
        # the old session back (a student clicked "Begin" and got the instructions again).
        # A student's cookie so lasts three days from its last change.
        SESSION_REFRESH_EACH_REQUEST=False,
        # A student may stay on one item for long; the token is bound to the session cookie.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    if app.config["ITEMBANK_PRODUCTION"]:
        _check_production_secret(str(app.config["SECRET_KEY"]))

    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the contract's key order
    database.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=None)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    comfort.init_app(app)

    from . import api, auth, authoring, deliver, manage, teach

    app.register_blueprint(auth.bp)
    app.register_blueprint(deliver.bp)
    app.register_blueprint(teach.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    authoring.register(app)
    manage.register(app)
    from . import research

    research.register(app)
    from . import printing

    printing.register(app)
    from . import materials

    materials.register(app)
    return app
