"""The unit editor's validation errors as sentences that name the field by its label, in the page's
language (webapp/authoring/problems.py), from the schema's real errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from pydantic import ValidationError

from itembank.bank.schema import Unit
from itembank.bank.validation import SchemaError, schema_errors
from itembank.bank.yaml_export import dump_yaml
from itembank.bank.yaml_source import parse_yaml
from webapp.authoring.problems import field_label, sentence, source_message


def _unit() -> dict[str, Any]:
    def text() -> dict[str, str]:
        return {"zh-TW": "文字", "en": "Text"}

    return {
        "id": "GC-T1", "title": text(),
        "metadata": {"dimension": "examine_issues", "content_domain": "culture", "context": text(),
                     "grade_band": ["junior_high"], "estimated_minutes": 10, "author": "A"},
        "items": [{"id": "GC-T1-Q1", "type": "single_choice", "prompt": text(), "process": "evaluate_information",
                   "options": [{"id": "A", "text": text()}, {"id": "B", "text": text()}], "key": "A"}],
    }  # fmt: skip


def _sentences(app: Flask, content: dict[str, Any], lang: str) -> list[str]:
    doc, problems = parse_yaml(dump_yaml(content), "u.yaml")
    assert doc is not None and not problems
    with pytest.raises(ValidationError) as caught:
        Unit.model_validate(doc.data)
    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        return [sentence(e, doc.data) for e in schema_errors(doc, caught.value)]


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh_Hant_TW", "第 1 題的選項 B（中文）不能空白。"),
    ("en", "Question 1, option B (Chinese) must not be empty."),
])  # fmt: skip
def test_a_blank_option_names_question_option_and_language(app: Flask, lang: str, expected: str) -> None:
    content = _unit()
    content["items"][0]["options"][1]["text"]["zh-TW"] = ""
    assert _sentences(app, content, lang) == [expected]


@pytest.mark.parametrize(("change", "zh", "en"), [
    (lambda u: u["metadata"].update(estimated_minutes=0), "學生所需分鐘數不能小於 1。",
     "Minutes a student needs must be at least 1."),
    (lambda u: u["metadata"].update(estimated_minutes="ten"), "學生所需分鐘數必須是整數。",
     "Minutes a student needs must be a whole number."),
    (lambda u: u["metadata"].update(dimension="x"), "向度必須是", "Dimension must be one of Examine local"),
    (lambda u: u.pop("metadata"), "分類不能空白。", "Classification must not be empty."),
    (lambda u: u["items"][0].update(key="Z"), "第 1 題的答案：Z 不是選項之一（A, B）。",
     "Question 1, key: Z is not one of the options (A, B)."),
    (lambda u: u["items"][0].update(key=""), "第 1 題：請選擇正確答案。", "Question 1: choose the right answer."),
    (lambda u: u["items"][0]["options"].pop(), "第 1 題的選項至少需要 2 項。", "Question 1, options: at least 2 needed."),
    (lambda u: u["metadata"].update(sdgs=[18]), "永續發展目標：沒有第 18 項永續發展目標", "SDGs: there is no SDG 18"),
    (lambda u: u["items"][0].pop("prompt"), "第 1 題的題幹不能空白。", "Question 1, question text must not be empty."),
    (lambda u: u["title"].update(en=" "), "標題（英文）不能空白。", "Title (English) must not be empty."),
    (lambda u: u.update(colour="red"), "Colour不是題組的欄位。", "Colour is not a field of a unit."),
    (lambda u: u["items"][0].update(type="essay"), "第 1 題：請選擇類型。", "Question 1: choose a type."),
    (lambda u: u.update(id="bad id!"), "代號只能使用英文字母", "Id may hold only letters"),
])  # fmt: skip
def test_each_kind_of_schema_error_is_a_sentence_in_both_languages(app: Flask, change, zh: str, en: str) -> None:
    content = _unit()
    change(content)
    zh_found, en_found = _sentences(app, content, "zh_Hant_TW"), _sentences(app, content, "en")
    assert any(s.startswith(zh) for s in zh_found), zh_found
    assert any(s.startswith(en) for s in en_found), en_found
    for s in zh_found:
        assert "items." not in s and "should" not in s, s


def test_an_unknown_validator_message_still_names_the_field(app: Flask) -> None:
    error = SchemaError(("items", 0, "irt"), "value_error", "item X: something new", {})
    with app.test_request_context(headers={"Cookie": "lang=zh_Hant_TW"}):
        assert sentence(error, _unit()) == "第 1 題的題目參數有問題：item X: something new"
        assert field_label(("stimulus", 1, "text", "en"), {}) == "情境材料第 2 段的文字（英文）"


def test_yaml_reader_messages_are_translated(app: Flask) -> None:
    with app.test_request_context(headers={"Cookie": "lang=zh_Hant_TW"}):
        assert source_message("the file is empty; a unit file holds one YAML mapping (id, title, ...)").startswith("內容是空的")
        assert source_message("something else") == "something else"


def test_the_editor_shows_the_sentence_beside_the_field(app: Flask) -> None:
    from itembank.accounts.users import create_user

    from .conftest import csrf_token

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        create_user(db, "tina", "teacher", "a long password 1")
    client = app.test_client()
    client.set_cookie("lang", "zh_Hant_TW")
    page = client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/login", data={"csrf_token": csrf_token(page), "username": "tina",
                                     "password": "a long password 1"})  # fmt: skip
    form = client.get("/author/new").get_data(as_text=True)
    reply = client.post("/author/new", data={"csrf_token": csrf_token(form), "action": "save", "u.id": "GC-T9",
                                             "u.items.0.type": "single_choice"})  # fmt: skip
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "第 1 題的題幹（中文）不能空白。" in html
    assert "String should have" not in html and "items.0." not in html.replace('id="', "").split("<main", 1)[1].split(
        'name="', 1)[0]
