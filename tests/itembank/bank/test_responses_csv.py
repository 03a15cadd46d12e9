"""RESPONSES.csv: round trip, blanks as not administered, every bad cell named by row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from itembank.bank.responses_csv import ResponseData, read_columns, read_responses, write_responses
from itembank.errors import DataFileError

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference-data"


def _write(tmp_path: Path, text: str, name: str = "r.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_blanks_as_not_administered(tmp_path: Path) -> None:
    path = _write(tmp_path, "person_id,A,B,C\np1,1,,2\np2,0,1,\n")
    data = read_responses(path)
    assert data.person_ids == ["p1", "p2"]
    assert data.item_ids == ["A", "B", "C"]
    np.testing.assert_array_equal(data.scores, [[1, np.nan, 2], [0, 1, np.nan]])


def test_bom_and_extra_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeffperson_id,group,A\np1,F,1\np2,R,0\n")
    data = read_responses(path, extra_columns=["group"])
    assert data.item_ids == ["A"]
    assert read_columns(path, ["group"]) == {"group": ["F", "R"]}


def test_round_trip(tmp_path: Path) -> None:
    data = ResponseData(["x", "y"], ["I1", "I2"], np.array([[0.0, np.nan], [3.0, 1.0]]))
    path = tmp_path / "out.csv"
    write_responses(path, data)
    assert path.read_text() == "person_id,I1,I2\nx,0,\ny,3,1\n"
    back = read_responses(path)
    np.testing.assert_array_equal(back.scores, data.scores)


def test_reference_data_reads() -> None:
    assert REFERENCE.is_dir(), f"reference data missing at {REFERENCE}"
    data = read_responses(REFERENCE / "science.csv")
    assert data.scores.shape == (392, 4)
    assert set(np.unique(data.scores)) <= {0.0, 1.0, 2.0, 3.0}


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="empty file"):
        read_responses(_write(tmp_path, ""))


def test_missing_person_id_header(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as info:
        read_responses(_write(tmp_path, "id,A\np1,1\n"))
    assert str(info.value).startswith(f"{tmp_path / 'r.csv'}:1:1:")


def test_all_problems_collected_with_row_and_column(tmp_path: Path) -> None:
    text = "person_id,A,B,A\np1,1,x,0\np1,1,-1,0\np3,1.5,1\np4,1,1,1,1\n"
    path = _write(tmp_path, text)
    with pytest.raises(DataFileError) as info:
        read_responses(path)
    places = {(p.line, p.column) for p in info.value.problems}
    assert (1, 4) in places  # duplicate item column A
    assert (2, 3) in places  # non-numeric
    assert (3, 1) in places  # duplicate person id
    assert (3, 3) in places  # negative
    assert (4, 2) in places  # non-integer
    assert (4, 4) in places  # ragged (too short)
    assert (5, 5) in places  # ragged (too long)
    messages = str(info.value)
    assert "not a number" in messages and "negative" in messages and "not an integer" in messages
