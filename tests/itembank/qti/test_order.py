"""The order item type (issue 19): its format and validation, scoring (exactly the key's order scores
1), QTI out (qti-order-interaction, ordered correct response, valid) and in (the IMS reference
order.xml), and printing (numbered boxes, the order in the answer key)."""

from __future__ import annotations

import pytest
from lxml import etree
from pydantic import ValidationError

from itembank.bank.schema import Order
from itembank.bank.validation import load_bank
from itembank.delivery.scoring import ResponseShapeError, score_response
from itembank.delivery.student_view import item_view
from itembank.paper.render import booklet_html, teacher_html
from itembank.qti import package_files, read_qti_files
from itembank.qti.names import QTI3
from itembank.qti.validate import validate_files
from tests.conftest import TEST_UNITS, shared_path

NS = {"q": QTI3}


def text(value: str) -> dict[str, str]:
    return {"zh-TW": f"{value}（中）", "en": value}


def order_item(**changes: object) -> Order:
    data = {"id": "O-1", "type": "order", "prompt": text("Put the steps in order."), "process": "evaluate_actions",
            "options": [{"id": s, "text": text(f"Step {s}")} for s in ("A", "B", "C", "D")],
            "key": ["C", "A", "D", "B"], **changes}
    return Order.model_validate(data)


def test_exactly_the_key_order_scores() -> None:
    item = order_item()
    assert item.max_score == 1 and item.auto_scored
    assert score_response(item, ["C", "A", "D", "B"]) == 1
    assert score_response(item, ["C", "A", "B", "D"]) == 0
    assert score_response(item, ["C", "A", "D"]) == 0  # not all placed
    assert score_response(item, []) == 0
    with pytest.raises(ResponseShapeError, match="listed twice"):
        score_response(item, ["C", "C", "D", "B"])
    with pytest.raises(ResponseShapeError, match="not options"):
        score_response(item, ["X"])


@pytest.mark.parametrize(("key", "message"), [
    (["C", "A", "B"], "D missing"),
    (["C", "A", "D", "X"], "'X' is not an option id"),
    (["A", "B", "C", "D"], "the right order is the order shown"),
    (["C", "C", "A", "B"], "used twice"),
])
def test_a_key_that_is_not_an_order_is_refused(key: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        order_item(key=key)


def test_order_goes_out_as_a_valid_order_interaction_and_comes_back() -> None:
    bank = load_bank([TEST_UNITS])
    loaded = bank.units[0]
    item = order_item()
    unit = loaded.unit.model_copy(update={"items": [item]})
    files = package_files([unit], {unit.id: loaded.images})
    assert validate_files(files, shared_path("qti-samples", "xsd", "qti-v3p0p1")) == []
    root = etree.fromstring(files["items/O-1.en.xml"])
    decl = root.find("q:qti-response-declaration", NS)
    assert decl.get("cardinality") == "ordered"
    assert [v.text for v in decl.iterfind(".//q:qti-value", NS)] == ["C", "A", "D", "B"]
    interaction = root.find(".//q:qti-order-interaction", NS)
    assert [c.get("identifier") for c in interaction.iterfind("q:qti-simple-choice", NS)] == ["A", "B", "C", "D"]
    assert interaction.get("shuffle") == "false"
    back = read_qti_files(files, "order.zip")
    assert back.problems == [] and back.units[0].unit == unit


def test_the_reference_order_item_imports_as_an_order() -> None:
    xml = shared_path("qti-samples", "qti21-qtiworks", "items", "order.xml").read_bytes()
    bank = read_qti_files({"order.xml": xml}, "ref.zip")
    assert bank.problems == []
    item = bank.units[0].unit.items[0]
    assert isinstance(item, Order) and item.key == ["DriverC", "DriverA", "DriverB"]
    assert [o.text.en for o in item.options] == ["Rubens Barrichello", "Jenson Button", "Michael Schumacher"]
    listed = xml.replace(b"<value>DriverC</value>", b"<value>X</value>").replace(
        b"<value>DriverB</value>", b"<value>DriverC</value>").replace(b"<value>DriverA</value>",
                                                                      b"<value>DriverB</value>").replace(
        b"<value>X</value>", b"<value>DriverA</value>")
    refused = read_qti_files({"order.xml": listed}, "r.zip")
    assert refused.units == [] and len(refused.problems) == 1
    problem = refused.problems[0]
    assert problem.line > 0 and problem.message.startswith("<qti-order-interaction>: the correct order is the order")


def test_students_see_no_key_and_paper_numbers_the_boxes() -> None:
    bank = load_bank([TEST_UNITS])
    unit = bank.units[0].unit.model_copy(update={"items": [order_item()]})
    view = item_view(unit.items[0], unit, "en")
    assert [o["id"] for o in view["options"]] == ["A", "B", "C", "D"] and "key" not in view
    html = booklet_html([unit], "zh-TW")
    assert html.count('class="mark box"') == 4 and "在第一個的方格內寫 1" in html
    key = teacher_html([unit], "en", "answer-key")
    assert "1 point for exactly this order" in key
    assert key.index("Step C") < key.index("Step A") < key.index("Step D") < key.index("Step B")
