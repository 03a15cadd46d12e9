"""The paper readers' and the design's problems in the page's language (webapp/printing/messages.py),
matched against the readers' real messages."""

from __future__ import annotations

import pytest
from flask import Flask

from itembank.errors import Problem
from webapp.printing import messages

CASES = [
    ("duplicate person_id 'P1' (first on line 2)", "person_id P1 重複出現（第一次在第 2 行）。",
     "The person_id P1 appears twice (first on line 2)."),
    ("booklet '9' is not in the design; use one of 1, 2", "題本 9 不在設計中，請使用下列其中之一：1, 2。",
     "Booklet 9 is not in the design; use one of 1, 2."),
    ("item GC-1-Q1: 'E' is not an option; use one of A, B", "題目 GC-1-Q1：E 不是選項，請使用下列其中之一：A, B。",
     "Item GC-1-Q1: E is not an option; use one of A, B."),
    ("more clusters than units", "題組群比已核准的題組還多，請減少題組群數量",
     "there are more clusters than approved units; choose fewer clusters"),
]


@pytest.mark.parametrize(("english", "zh", "en"), CASES)
def test_known_messages_are_translated(app: Flask, english: str, zh: str, en: str) -> None:
    with app.test_request_context(headers={"Cookie": "lang=zh_Hant_TW"}):
        assert messages.message(english) == zh
        assert messages.problems([Problem("A.csv", 3, 1, english)]) == [Problem("A.csv", 3, 1, zh)]
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert messages.message(english) == en


def test_an_unknown_message_is_shown_as_it_is(app: Flask) -> None:
    with app.test_request_context(headers={"Cookie": "lang=zh_Hant_TW"}):
        assert messages.message("something new") == "something new"


def test_the_patterns_match_what_the_readers_write() -> None:
    """A reader's wording changed without this table would fall back to English: read the sources."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "itembank"
    sources = "".join((root / f).read_text() for f in ("paper/paper_responses.py", "paper/design.py"))
    for needle in ("empty person_id", "duplicate person_id", "is not in the design; use one of",
                   "appears twice", "is not an item of the bank", "has two clusters in position",
                   "the header must be booklet,position,cluster,units", "booklet and position must be whole numbers"):
        assert needle in sources, needle
