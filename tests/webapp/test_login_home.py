"""After signing in, every role lands on a page it may use (never a 403)."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from itembank.accounts.models import User
from tests.webapp.conftest import csrf_token


@pytest.mark.parametrize("role", ["teacher", "reviewer", "translator", "researcher", "school_admin", "admin"])
def test_each_role_lands_on_a_page_it_can_use(app, client, role: str) -> None:
    from webapp.database import get_db

    with app.app_context():
        db = get_db()
        db.add(User(username=f"u-{role}", password_hash=generate_password_hash("a long password"), role=role))
        db.commit()
    page = client.get("/auth/login")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/auth/login", data={"username": f"u-{role}", "password": "a long password",
                                                "csrf_token": token})
    assert response.status_code == 302
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 200, (role, response.headers["Location"])
