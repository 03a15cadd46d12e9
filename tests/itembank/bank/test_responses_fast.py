"""The vectorised reader of plain RESPONSES.csv files gives exactly what the full reader gives, and
hands every file it does not recognise to the full reader (whose messages name row and column)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itembank.bank import responses_csv
from itembank.bank.responses_csv import read_responses
from itembank.errors import DataFileError

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference-data"


def full_reader(path: Path, monkeypatch: pytest.MonkeyPatch, **kw):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as m:
        m.setattr(responses_csv, "plain_responses", lambda *a, **k: None)
        return read_responses(path, **kw)


def assert_same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.person_ids == b.person_ids and a.item_ids == b.item_ids
    assert a.lines == b.lines and a.columns == b.columns
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.scores.dtype == b.scores.dtype == np.float64


cells = st.one_of(st.just(""), st.integers(0, 12).map(str))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 12), j=st.integers(1, 6), data=st.data(), crlf=st.booleans(), last_newline=st.booleans())
def test_plain_files_read_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             n: int, j: int, data: st.DataObject, crlf: bool,
                                             last_newline: bool) -> None:
    rows = [["person_id", *(f"i{k}" for k in range(j))]]
    rows += [[f"p{i}", *(data.draw(cells) for _ in range(j))] for i in range(n)]
    end = "\r\n" if crlf else "\n"
    text = end.join(",".join(r) for r in rows) + (end if last_newline else "")
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    fast = read_responses(path)
    assert_same(fast, full_reader(path, monkeypatch))
    assert_same(read_responses(path, extra_columns=["i0"]), full_reader(path, monkeypatch, extra_columns=["i0"]))


def test_the_fast_path_is_taken_for_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("person_id,a,b\np1,1,\np2,0,3\n", encoding="utf-8")
    found = responses_csv.plain_responses(path.read_bytes(), person_id="person_id", max_rows=10,
                                          max_columns=10)
    assert found is not None
    ids, items, scores, lines, columns = found
    assert ids == ["p1", "p2"] and items == ["a", "b"] and lines == (2, 3) and columns == (2, 3)
    np.testing.assert_array_equal(scores, [[1, np.nan], [0, 3]])


@pytest.mark.parametrize("text", [
    "person_id,a\np1,1.0\n",          # a decimal point
    "person_id,a\n\"p1\",1\n",        # quotes
    "person_id,a\np1, 1\n",           # a space
    "person_id,a\np1,1\n\np2,0\n",    # a blank line
    "person_id,a,b\np1,1\n",          # a short row
    "person_id,a\np1,1\np1,0\n",      # a duplicate person
    "person_id,a\np1,-1\n",           # a sign
    "person_id,a,a\np1,1,0\n",        # a duplicate item
    "id,a\np1,1\n",                   # the wrong first column
    "person_id,a\n,1\n",              # an empty person id
])
def test_anything_unusual_goes_to_the_full_reader(text: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert responses_csv.plain_responses(text.encode(), person_id="person_id", max_rows=10,
                                         max_columns=10) is None
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    try:
        expected = full_reader(path, monkeypatch)
    except DataFileError as exc:
        with pytest.raises(DataFileError) as got:
            read_responses(path)
        assert got.value.problems == exc.problems
    else:
        assert_same(read_responses(path), expected)


def test_reference_data_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(REFERENCE.rglob("*.csv"))
    compared = 0
    for path in files:
        try:
            expected = full_reader(path, monkeypatch)
        except DataFileError:
            continue
        assert_same(read_responses(path), expected)
        compared += 1
    assert compared >= 3
