"""/admin/users: an administrator lists accounts, changes a user's role and scope, disables (the
user's signed-in browser stops working at once) and enables them, sets a new password; every form
needs its CSRF token, names are escaped, and an administrator cannot lock themselves out."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from itembank.accounts.models import AuditEntry, User
from itembank.orgs.models import City, School

from .conftest import csrf_token

PASSWORD = "pw-123456-long"


def setup(app: Flask) -> dict[str, int]:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        city = City(code="taipei", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        db.add(city)
        db.flush()
        db.add(School(city_id=city.id, code="north", name={"zh-TW": "北", "en": "North"}))
        users = [User(username=n, role=r, display_name=d, active=True,
                      password_hash=generate_password_hash(PASSWORD))
                 for n, r, d in (("ada", "admin", None), ("tom", "teacher", "<script>x</script>"))]
        db.add_all(users)
        db.flush()
        return {u.username: u.id for u in users}


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    return client.post("/auth/login", data={"csrf_token": csrf_token(page), "username": username,
                                            "password": password})  # fmt: skip


def user_row(app: Flask, username: str) -> User:
    with app.extensions["itembank_sessionmaker"]() as db:
        user = db.scalars(select(User).where(User.username == username)).one()
        db.expunge(user)
        return user


def test_an_admin_edits_disables_enables_and_resets_a_user(app: Flask, client: FlaskClient) -> None:
    ids = setup(app)
    tom = app.test_client()
    assert login(tom, "tom").status_code == 302
    assert tom.get("/admin/users").status_code == 403
    assert tom.get(f"/admin/users/{ids['ada']}").status_code == 403
    login(client, "ada")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{ids['tom']}" in listing and "<script>x</script>" not in listing
    page = client.get(f"/admin/users/{ids['tom']}").get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>x" not in page
    token = csrf_token(page)

    reply = client.post(f"/admin/users/{ids['tom']}", data={
        "csrf_token": token, "edit-role": "school_admin", "edit-display_name": "Tom",
        "edit-city": "", "edit-school": "north"})
    assert reply.status_code == 302
    row = user_row(app, "tom")
    assert row.role == "school_admin" and row.school_id is not None and row.city_id is not None
    bad = client.post(f"/admin/users/{ids['tom']}", data={
        "csrf_token": token, "edit-role": "teacher", "edit-city": "", "edit-school": "nowhere"})
    assert bad.status_code == 422 and user_row(app, "tom").role == "school_admin"

    assert client.post(f"/admin/users/{ids['tom']}/disable", data={}).status_code == 400
    assert client.post(f"/admin/users/{ids['tom']}/disable",
                       data={"csrf_token": token}).status_code == 302
    assert not user_row(app, "tom").active
    assert tom.get("/teach/").status_code == 302  # signed out at once
    assert login(app.test_client(), "tom").status_code == 200  # refused
    assert client.post(f"/admin/users/{ids['tom']}/enable",
                       data={"csrf_token": token}).status_code == 302
    assert user_row(app, "tom").active

    weak = client.post(f"/admin/users/{ids['tom']}/password", data={
        "csrf_token": token, "pw-password": "1234567890", "pw-confirm": "1234567890"})
    assert weak.status_code == 422
    reply = client.post(f"/admin/users/{ids['tom']}/password", data={
        "csrf_token": token, "pw-password": "a new long passphrase", "pw-confirm": "a new long passphrase"})
    assert reply.status_code == 302
    assert check_password_hash(user_row(app, "tom").password_hash, "a new long passphrase")
    assert login(app.test_client(), "tom", "a new long passphrase").status_code == 302

    # no lock-out: an administrator keeps their own role and account
    own = client.post(f"/admin/users/{ids['ada']}", data={"csrf_token": token, "edit-role": "teacher"})
    assert own.status_code == 422 and user_row(app, "ada").role == "admin"
    client.post(f"/admin/users/{ids['ada']}/disable", data={"csrf_token": token})
    assert user_row(app, "ada").active
    with app.extensions["itembank_sessionmaker"]() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
    assert {"user.edit", "user.disable", "user.enable", "user.password"} <= actions
    assert client.get("/admin/users/99999").status_code == 404
