"""Every endpoint of the app (walked from ``app.url_map``, so new pages are covered the day they
land): anonymous visitors get the login page, 401 or 403 except on a short, documented list of
public endpoints; a student's test-session cookie opens no teacher, author, research or manage
page; logged-in users reach an endpoint with ``required_roles`` only with one of those roles; and
one student cannot reach another's session."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from itembank.accounts.models import ROLES

from .conftest import login_as, start_api_session, student_client

# Endpoints anyone may call, and why.
PUBLIC = {
    "deliver.join": "students join a test with its access code",
    "i18n.switch": "the language switch",
    "static": "style sheets and images of the app",
    "deliver.media": "a unit's images by content hash (no key, guide or parameter)",
    "api.start": "a session is created with the test's access code",
    "api.openapi": "the API's public description",
    "auth.login": "the login form",
    "comfort.choose": "text size and contrast, kept in the visitor's own cookie",
    "comfort.favicon": "the site's icon",
}
# A student's pages: anonymous visitors are sent back to the join page, nothing is shown.
STUDENT_PAGES = {"deliver.current", "deliver.start", "deliver.answer", "deliver.done",
                 "deliver.leave", "deliver.draft", "deliver.status", "deliver.questionnaire_page"}
# The API's session endpoints: the bearer token is the credential.
TOKEN = {"api.show", "api.respond", "api.questionnaire", "api.questionnaire_answers"}


def _public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint.endswith(".static")


def _url(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]  # noqa: SLF001
        if type(converter).__name__ == "AnyConverter":
            values[arg] = sorted(converter.items)[0]  # type: ignore[attr-defined]
        else:
            values[arg] = 1 if type(converter).__name__ in ("IntegerConverter",) else "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def _calls(app: Flask) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, _url(rule)))
    return sorted(out)


def _refused(reply: Any) -> bool:
    """The login page (redirect), 401 or 403; nothing of the page itself."""
    if reply.status_code in (401, 403):
        return True
    return reply.status_code in (302, 303) and "/auth/login" in reply.headers.get("Location", "")


@pytest.fixture
def app_no_csrf(app: Flask) -> Flask:
    # CSRF would refuse every POST before the role check; test_csrf.py tests it on its own.
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_every_endpoint_is_known_to_this_table(app: Flask) -> None:
    """A new endpoint must be protected; if it is public, add it to PUBLIC with the reason."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) | STUDENT_PAGES | TOKEN <= endpoints | {"static"}
    assert len(endpoints) > 30


def test_anonymous_visitors_are_refused_everywhere_but_the_public_endpoints(
    app_no_csrf: Flask, users: dict[str, int]
) -> None:
    c = login_as(app_no_csrf, None)
    leaks = []
    for endpoint, method, url in _calls(app_no_csrf):
        if _public(endpoint):
            continue
        reply = c.open(url, method=method)
        if endpoint in STUDENT_PAGES:
            ok = reply.status_code in (302, 303, 400, 404) and "/auth/" not in reply.headers.get(
                "Location", "") and reply.status_code != 200
        elif endpoint in TOKEN:
            ok = reply.status_code == 401
        else:
            ok = _refused(reply)
        if not ok:
            leaks.append((endpoint, method, url, reply.status_code))
    assert leaks == []


def test_a_student_session_cookie_opens_no_staff_page(
    app_no_csrf: Flask, users: dict[str, int]
) -> None:
    c, _started = student_client(app_no_csrf)
    assert c.get("/test").status_code == 200  # the cookie works for the student's own pages
    leaks = []
    for endpoint, method, url in _calls(app_no_csrf):
        if _public(endpoint) or endpoint in STUDENT_PAGES or endpoint in TOKEN:
            continue
        reply = c.open(url, method=method)
        if not _refused(reply):
            leaks.append((endpoint, method, url, reply.status_code))
    assert leaks == []


def test_each_role_reaches_only_the_endpoints_that_name_it(
    app_no_csrf: Flask, users: dict[str, int]
) -> None:
    wrong = []
    for role, endpoint, method, url in [
        (role, *call) for role in ROLES for call in _calls(app_no_csrf)
    ]:
        c = login_as(app_no_csrf, users[role])
        allowed = getattr(app_no_csrf.view_functions[endpoint], "required_roles", None)
        if allowed is None or role in allowed:
            continue  # (the pages a role may use are tested by their own blueprints' tests)
        reply = c.open(url, method=method)
        if reply.status_code != 403:
            wrong.append((role, endpoint, method, reply.status_code))
    assert wrong == []


def test_teachers_pages_refuse_students_and_authoring_roles(
    app_no_csrf: Flask, users: dict[str, int]
) -> None:
    for role in ("student", "reviewer", "translator"):
        c = login_as(app_no_csrf, users[role])
        for url in ("/teach/", "/teach/tests/demo-cat"):
            assert c.get(url).status_code == 403, (role, url)


def test_one_student_cannot_reach_another_students_session(app: Flask) -> None:
    api = app.test_client()
    mine = start_api_session(api, "alice")
    theirs = start_api_session(api, "bob")
    item = theirs["item"]
    bearer = {"Authorization": f"Bearer {mine['token']}"}
    assert api.get(f"/api/v1/sessions/{theirs['session']}", headers=bearer).status_code == 404
    reply = api.post(f"/api/v1/sessions/{theirs['session']}/responses", headers=bearer,
                     json={"item": item["id"], "response": "A", "response_id": "steal"})
    assert reply.status_code == 404
    # the page flow: alice's cookie with bob's session id and alice's token
    from webapp.deliver import KEY

    c, _ = student_client(app, "carol")
    with c.session_transaction() as sess:
        sess[KEY] = {"id": theirs["session"], "token": mine["token"], "intro": True}
    page = c.get("/test")
    assert page.status_code in (302, 303, 404)
    assert item["id"] not in page.get_data(as_text=True)
    # rejoining as bob needs the access code and gives a new token: alice's stops nothing of bob's
    assert api.get(f"/api/v1/sessions/{theirs['session']}",
                   headers={"Authorization": f"Bearer {theirs['token']}"}).status_code == 200


def test_student_pages_never_show_keys_guides_or_parameters(app: Flask) -> None:
    """Each item page a student sees (advanced through the API on the same session) holds no
    accepted answer, coding-guide text or IRT parameter of any item of the bank."""
    import html as html_lib

    from itembank.delivery.cat_bank import delivery_bank
    from tests.webapp.conftest import good_response
    from tests.webapp.test_api import forbidden_strings

    with app.extensions["itembank_sessionmaker"]() as db:
        bank = delivery_bank(db)
        secrets = set().union(*(forbidden_strings(e.item) for e in bank.items.values()))
        # slopes as a page could print them (difficulties are too often small round numbers)
        params = {f"{a:.3f}" for a in bank.cat.params.a}
    c, started = student_client(app, "no-keys")
    item, n = started["item"], 0
    while item is not None:
        page = c.get("/test")
        assert page.status_code == 200
        text = html_lib.unescape(page.get_data(as_text=True))
        stimulus = " ".join(b.get("text") or "" for b in item["stimulus"])
        leaked = [s for s in secrets if s in text and not (len(s) < 6 and s in stimulus)]
        assert leaked == [], leaked
        assert not [p for p in params if p in text]
        for marker in ("coding_guide", "coding guide", "accepted", "data-key"):
            assert marker not in text.lower(), marker
        reply = c.post(f"/api/v1/sessions/{started['session']}/responses",
                       json={"item": item["id"], "response": good_response(item),
                             "response_id": f"k{n}"},
                       headers={"Authorization": f"Bearer {started['token']}"})
        assert reply.status_code == 200
        item, n = reply.get_json()["item"], n + 1
    assert n >= 6
    # the end page of an operational test neither (keys are shown only in a practice test of
    # released units: tests/security/test_practice_keys.py walks those)
    text = html_lib.unescape(c.get("/test/done").get_data(as_text=True))
    assert "practice-review" not in text
    assert [s for s in secrets if len(s) >= 6 and s in text] == []
