"""The interface language: zh-TW by default, English on request, remembered in a cookie.

Flask-Babel locales are ``zh_Hant_TW`` and ``en``; item content uses the bank's codes ``zh-TW``
and ``en``.  During a test the pages follow the session's language.

The form library's own messages ("This field is required.") come from our ``wtforms`` catalog
(``translations/zh_Hant_TW/LC_MESSAGES/wtforms.po``), not from WTForms' bundled ones: Flask-WTF
asks WTForms' catalogs for ``zh_Hant_TW``, which gettext expands to ``zh`` (Simplified Chinese).
See docs/i18n.md.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from babel import support
from flask import Blueprint, Flask, Response, current_app, g, redirect, request, url_for
from flask_babel import get_locale

DEFAULT_LOCALE = "zh_Hant_TW"
LOCALES = {"zh_Hant_TW": "zh-TW", "en": "en"}  # Babel locale -> content language
HTML_LANG = {"zh_Hant_TW": "zh-Hant-TW", "en": "en"}
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600
FORM_MESSAGES = Path(__file__).resolve().parent / "translations"  # <locale>/LC_MESSAGES/wtforms.mo

bp = Blueprint("i18n", __name__)


def locale_for(language: str) -> str:
    return "en" if language == "en" else DEFAULT_LOCALE


def select_locale() -> str:
    forced = g.get("force_locale")
    if forced:
        return forced
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def current_language() -> str:
    """The content language of the interface ("zh-TW" or "en")."""
    return LOCALES.get(str(get_locale()), "zh-TW")


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site (no scheme, no host) is followed after a switch or a login."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.get("/language/<code>")
def switch(code: str) -> Response:
    target = safe_next(request.args.get("next"), url_for("deliver.join"))
    response = redirect(target)
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_AGE, samesite="Lax", httponly=True,
                            secure=bool(current_app.config.get("ITEMBANK_PRODUCTION")))
    return response


class FormMessages:
    """WTForms' validator messages in the language of the page, looked up when a message is made
    (so a test page that switches to its session's language mid-request is followed).  A locale
    without a ``wtforms`` catalog here (``en``) shows WTForms' English text."""

    _catalogs: dict[str, support.NullTranslations] = {}

    def _catalog(self) -> support.NullTranslations:
        locale = str(get_locale() or DEFAULT_LOCALE)
        catalog = self._catalogs.get(locale)
        if catalog is None:
            catalog = support.Translations.load(str(FORM_MESSAGES), [locale], domain="wtforms")
            self._catalogs[locale] = catalog
        return catalog

    def ugettext(self, string: str) -> str:
        return self._catalog().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ungettext(singular, plural, n)


FORM_TRANSLATIONS = FormMessages()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _form_messages() -> None:
        # Flask-WTF (WTF_I18N_ENABLED, its default) takes the translations of every form from
        # ``request.wtforms_translations`` when set, else loads WTForms' bundled catalog for
        # get_locale(); setting it here gives every FlaskForm our catalog, with no change to forms.
        request.wtforms_translations = FORM_TRANSLATIONS  # type: ignore[attr-defined]

    @app.context_processor
    def _languages() -> dict[str, object]:
        locale = str(get_locale())
        return {
            "html_lang": HTML_LANG.get(locale, "zh-Hant-TW"),
            "current_locale": locale,
            "other_locales": [code for code in LOCALES if code != locale],
            # after a label: Taiwan writes the full-width colon with no space
            "colon": "：" if locale.startswith("zh") else ": ",
            # between two sentences: none after a full-width 。, a space after an English period
            "sentence_gap": "" if locale.startswith("zh") else " ",
        }
