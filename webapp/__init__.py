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

from . import database, errors, i18n, security, templating
from .extensions import babel, csrf, login_manager

HERE = Path(__file__).resolve().parent


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
        f"{HERE / 'printing' / 'translations'}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(days=3),
        # A student may stay on one item for long; the token is bound to the session cookie.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    if app.config["ITEMBANK_PRODUCTION"] and app.config["SECRET_KEY"] == config.DEFAULT_SECRET_KEY:
        raise RuntimeError(
            "set ITEMBANK_SECRET_KEY: the development secret must not be used in production"
        )

    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the contract's key order
    database.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=None)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

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
    return app
