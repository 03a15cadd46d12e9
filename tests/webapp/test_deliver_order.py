"""An order item in the student's page (issue 19): each option has a number select (works without
script, with the keyboard), a duplicate number is refused, an unnumbered one asked about once, and
exactly the key's order scores 1."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from itembank.bank.importer import import_paths
from itembank.bank.schema import Order
from itembank.bank.validation import load_bank
from itembank.bank.yaml_export import unit_yaml
from itembank.delivery.models import Response as StoredResponse
from itembank.delivery.sessions import create_test
from tests.conftest import TEST_UNITS
from webapp.database import get_db

from .conftest import csrf_token
from .test_deliver import current_item


def order_unit(tmp_path: Path) -> Path:
    source = load_bank([TEST_UNITS]).units[0].unit
    step = {"zh-TW": "步驟{}", "en": "Step {}"}
    item = Order.model_validate({
        "id": "ORD-Q1", "type": "order", "prompt": {"zh-TW": "請排出順序。", "en": "Put the steps in order."},
        "process": "evaluate_actions", "key": ["C", "A", "B"],
        "options": [{"id": s, "text": {k: v.format(s) for k, v in step.items()}} for s in "ABC"]})
    unit = source.model_copy(update={"id": "ORD", "items": [item],
                                     "stimulus": [b for b in source.stimulus if b.type == "text"]})
    path = tmp_path / "ORD.yaml"
    path.write_text(unit_yaml(unit), encoding="utf-8")
    return path


def test_a_student_orders_with_number_selects(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    with app.app_context():
        db = get_db()
        with db.begin():
            import_paths(db, [order_unit(tmp_path)])
            create_test(db, id="ORDER", title={"zh-TW": "排序", "en": "Order"}, access_code="order1",
                        kind="fixed", items=["ORD-Q1"], max_attempts=None)
    reply = client.post("/", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True)),
                                   "access_code": "order1", "student": "W-ORD", "language": "en"})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]
    page = client.get("/test").get_data(as_text=True)
    client.post("/test/start", data={"csrf_token": csrf_token(page)})
    html = client.get("/test").get_data(as_text=True)
    item, response_id = current_item(html)
    assert item == "ORD-Q1"
    selects = re.findall(r'<select id="(ord-\d)" name="o-([ABC])">', html)
    assert [name for _, name in selects] == ["A", "B", "C"]
    for sid, name in selects:  # each select is labelled by its option's text
        assert re.search(rf'<label for="{sid}">Step {name}</label>', html)
    assert "C, A, B" not in html and "key" not in html.lower().split("<form", 1)[1].split("</form>")[0]
    base = {"csrf_token": csrf_token(html), "item": item, "response_id": response_id}
    clash = client.post("/test/answer", data={**base, "o-A": "2", "o-B": "2", "o-C": "1"})
    assert clash.status_code == 422 and "give each a different number" in clash.get_data(as_text=True)
    partial = client.post("/test/answer", data={**base, "o-A": "2", "o-B": "", "o-C": "1"})
    assert partial.status_code == 422 and "Some have no number yet" in partial.get_data(as_text=True)
    assert 'name="o-C">' in partial.get_data(as_text=True)  # the page again, numbers kept
    saved = client.post("/test/answer", data={**base, "o-A": "2", "o-B": "3", "o-C": "1"})
    assert saved.status_code == 302
    with app.app_context():
        stored = get_db().query(StoredResponse).filter_by(item_id="ORD-Q1").one()
        assert stored.response == ["C", "A", "B"] and stored.score == 1
