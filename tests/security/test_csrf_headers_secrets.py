"""CSRF on every form (templates walked for POST forms; every POST endpoint outside the token
API refuses a request without the token), the security headers on pages and the API, and the
secret key taken only from the environment (the app refuses to start in production with the
development key)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from itembank import config
from webapp import create_app

from .conftest import login_as

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
POST = re.compile(r"""method\s*=\s*["']?post""", re.I)
HAS_TOKEN = re.compile(r"csrf_token|hidden_tag\(\)")


def _post_forms() -> list[tuple[str, str]]:
    found = []
    for path in sorted(WEBAPP.rglob("templates/**/*.html")):
        for form in FORM.findall(path.read_text("utf-8")):
            opening = form.split(">", 1)[0]
            if POST.search(opening):
                found.append((str(path.relative_to(WEBAPP)), form))
    return found


def test_every_post_form_in_every_template_carries_the_csrf_token() -> None:
    forms = _post_forms()
    assert len(forms) >= 20  # the walk finds the app's forms
    missing = [(name, form.split(">", 1)[0]) for name, form in forms if not HAS_TOKEN.search(form)]
    assert missing == []


def _value(rule, argument: str):  # type: ignore[no-untyped-def]
    """A value the rule's converter takes: the first choice of an ``any(...)``, else 1."""
    converter = rule._converters[argument]  # noqa: SLF001
    return sorted(converter.items)[0] if type(converter).__name__ == "AnyConverter" else 1


def test_every_post_without_the_token_is_refused(app: Flask, users: dict[str, int]) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    for who in (None, users["admin"]):
        c = login_as(app, who)
        accepted = []
        for rule in app.url_map.iter_rules():
            if "POST" not in (rule.methods or ()) or rule.endpoint.startswith("api."):
                continue  # the API is token-authenticated (no cookies), hence exempt
            url = rule.build({a: _value(rule, a) for a in rule.arguments}, append_unknown=False)[1]
            reply = c.post(url, data={"anything": "x"})
            if reply.status_code != 400:
                accepted.append((rule.endpoint, reply.status_code))
        assert accepted == [], who


@pytest.mark.parametrize("url", ["/", "/auth/login", "/api/v1/openapi.json", "/no-such-page"])
def test_security_headers(client, url: str) -> None:  # type: ignore[no-untyped-def]
    reply = client.get(url)
    csp = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in reply.headers["Content-Security-Policy"].split(";")
    )
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"])
    assert "'unsafe-eval'" not in reply.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert reply.headers["Cache-Control"] == "no-store"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ITEMBANK_ENV", "production")
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.delenv("ITEMBANK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="ITEMBANK_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("ITEMBANK_SECRET_KEY", config.DEFAULT_SECRET_KEY)
    with pytest.raises(RuntimeError):
        create_app()
    monkeypatch.setenv("ITEMBANK_SECRET_KEY", "a-real-secret-from-the-environment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-real-secret-from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    reply = app.test_client().get("/auth/login")
    assert "max-age" in reply.headers["Strict-Transport-Security"]


def test_no_module_but_config_reads_the_environment() -> None:
    root = WEBAPP.parent
    readers = [
        str(path.relative_to(root))
        for package in ("itembank", "webapp", "irt")
        for path in (root / package).rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text("utf-8"))
    ]
    assert set(readers) <= {"itembank/config.py"}, readers
