"""Response shapes and scoring rules, the same for online and paper answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itembank.bank.schema import ShortResponse
from itembank.bank.validation import load_bank
from itembank.delivery.scoring import ResponseShapeError, normalise_text, score_response
from tests.conftest import REPO, TEST_UNITS

ITEMS = {i.id: i for u in load_bank([TEST_UNITS]).units for i in u.unit.items}
GC001 = {i.id: i for u in load_bank([REPO / "items" / "GC-001.yaml"]).units for i in u.unit.items}
# a numeric short response with accepted variants and a tolerance (the first edition's GC-001-Q2)
NUMERIC = ShortResponse.model_validate({
    "id": "N-Q1", "type": "short_response", "process": "evaluate_information",
    "prompt": {"zh-TW": "大約是幾倍？", "en": "About how many times?"},
    "accepted": {"zh-TW": ["2.8", "2.8倍", "約2.8倍"], "en": ["2.8", "2.8 times", "about 2.8"]},
    "numeric": {"value": 2.8, "tolerance": 0.05},
})


def test_single_choice() -> None:
    item = ITEMS["T-02-Q4"]
    assert item.type == "single_choice"
    assert score_response(item, "B") == 1
    assert score_response(item, "A") == 0
    for bad in ("E", ["B"], 2, None):
        with pytest.raises(ResponseShapeError):
            score_response(item, bad)


def test_multiple_choice_all_or_nothing() -> None:
    item = ITEMS["T-01-Q1"]
    assert item.type == "multiple_choice"
    assert score_response(item, ["A", "C"]) == 1
    assert score_response(item, ["C", "A"]) == 1
    assert score_response(item, ["A"]) == 0
    assert score_response(item, ["A", "B", "C"]) == 0
    assert score_response(item, []) == 0
    for bad in ("A", ["A", "A"], ["Z"], {"A": 1}):
        with pytest.raises(ResponseShapeError):
            score_response(item, bad)


def test_complex_choice_partial_credit() -> None:
    item = GC001["GC-001-Q3"]
    key = {"S1": "Y", "S2": "N", "S3": "Y", "S4": "N"}
    assert score_response(item, key) == 2
    assert score_response(item, {**key, "S4": "Y"}) == 1
    assert score_response(item, {"S1": "Y", "S2": "N"}) == 0  # unanswered statements count as wrong
    assert score_response(item, {"S1": "N", "S2": "Y", "S3": "N", "S4": "Y"}) == 0
    for bad in (["Y"], {"S9": "Y"}, {"S1": "maybe"}):
        with pytest.raises(ResponseShapeError):
            score_response(item, bad)


@pytest.mark.parametrize(
    ("answer", "score"),
    [("2.8", 1), ("２．８", 1), (" 2.8 ", 1), ("2.8倍", 1), ("2.8 倍", 1), ("About 2.8", 1),
     ("2.80", 1), ("2.84", 1), ("2.9", 0), ("3", 0), ("", 0), ("二點八", 0)],
)
def test_short_response_normalisation(answer: str, score: int) -> None:
    assert score_response(NUMERIC, answer) == score


def test_open_response_waits_for_a_coder() -> None:
    assert score_response(GC001["GC-001-Q5"], "Farmers lose income, but it saves most water.") is None
    with pytest.raises(ResponseShapeError):
        score_response(GC001["GC-001-Q5"], ["not", "text"])
    with pytest.raises(ResponseShapeError):
        score_response(GC001["GC-001-Q5"], "x" * 10_001)


@given(st.text(max_size=40))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(st.text(alphabet="臺灣水資源乾旱 abcABC１２３", max_size=20))
def test_full_width_and_case_do_not_matter(text: str) -> None:
    import unicodedata

    assert normalise_text(text.upper()) == normalise_text(unicodedata.normalize("NFKC", text).lower())
