"""Paper answers back to data: scored exactly like online answers, blank where not administered,
errors named by row and column with nothing written."""

from __future__ import annotations

import csv
import math

import pytest
from click.testing import CliRunner

from itembank.bank.responses_csv import read_responses
from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    ShortResponse,
    SingleChoice,
)
from itembank.bank.validation import load_bank
from itembank.cli import main
from itembank.delivery.scoring import score_response
from itembank.errors import DataFileError
from itembank.paper.design import Cluster, Design, write_design
from itembank.paper.paper_responses import parse_answer, score_answers, score_paper_answer
from tests.conftest import TEST_UNITS


@pytest.fixture(scope="module")
def units():
    return [u.unit for u in load_bank([TEST_UNITS]).units]


@pytest.fixture()
def design(units) -> Design:
    ids = [u.id for u in units]
    clusters = [Cluster("C1", ids[0:2]), Cluster("C2", ids[2:4]), Cluster("C3", ids[4:6])]
    return Design("test", clusters, {1: ["C1", "C2"], 2: ["C2", "C3"], 3: ["C3", "C1"]})


def _item(units, kind):
    return next(i for u in units for i in u.items if isinstance(i, kind))


def test_paper_shapes_score_like_online(units) -> None:
    single = _item(units, SingleChoice)
    assert score_paper_answer(single, single.key) == score_response(single, single.key) == 1
    multi = _item(units, MultipleChoice)
    raw = ";".join(multi.key)
    assert parse_answer(multi, raw) == list(multi.key)
    assert score_paper_answer(multi, raw) == score_response(multi, list(multi.key))
    assert score_paper_answer(multi, multi.options[0].id) == score_response(multi, [multi.options[0].id])
    cc = _item(units, ComplexChoice)
    first = next(iter(cc.key))
    raw = ";".join(f"{s}={c}" for s, c in cc.key.items())
    assert parse_answer(cc, raw) == dict(cc.key)
    assert score_paper_answer(cc, raw) == score_response(cc, dict(cc.key)) == cc.max_score
    assert score_paper_answer(cc, f"{first}={cc.key[first]}") == score_response(cc, {first: cc.key[first]})
    short = _item(units, ShortResponse)
    answer = f"  {short.accepted.en[0].upper()} "
    assert score_paper_answer(short, answer) == score_response(short, answer) == 1
    assert score_paper_answer(short, "") == 0
    op = _item(units, OpenResponse)
    for code in op.coding_guide:
        assert score_paper_answer(op, code.code) == code.score


def _write_answers(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _answers_for(design, units, booklet, right: bool):
    by_id = {u.id: u for u in units}
    out = {}
    for uid in design.units_of(booklet):
        for item in by_id[uid].items:
            if isinstance(item, SingleChoice):
                out[item.id] = item.key if right else next(o.id for o in item.options if o.id != item.key)
            elif isinstance(item, MultipleChoice):
                out[item.id] = ";".join(item.key) if right else ""
            elif isinstance(item, ComplexChoice):
                out[item.id] = ";".join(f"{s}={c}" for s, c in item.key.items()) if right else ""
            elif isinstance(item, ShortResponse):
                out[item.id] = item.accepted.zh_TW[0] if right else "???"
            else:
                out[item.id] = max(item.coding_guide, key=lambda c: c.score).code if right else "9"
    return out


def test_answers_file_to_wide_responses(tmp_path, design, units) -> None:
    item_ids = [i.id for uid in design.unit_ids() for u in units if u.id == uid for i in u.items]
    header = ["person_id", "booklet", *item_ids]
    people = [("p1", 1, True), ("p2", 2, False), ("p3", 3, True)]
    rows = []
    for pid, b, right in people:
        answers = _answers_for(design, units, b, right)
        rows.append([pid, b, *(answers.get(i, "") for i in item_ids)])
    _write_answers(tmp_path / "answers.csv", header, rows)
    data = score_answers(tmp_path / "answers.csv", design, units)
    assert data.item_ids == item_ids and data.person_ids == ["p1", "p2", "p3"]
    max_score = {i.id: i.max_score for u in units for i in u.items}
    for r, (_pid, b, right) in enumerate(people):
        mine = {i.id for uid in design.units_of(b) for u in units if u.id == uid for i in u.items}
        for j, item_id in enumerate(item_ids):
            value = data.scores[r, j]
            if item_id not in mine:
                assert math.isnan(value)  # blank: not in that booklet
            else:
                assert value == (max_score[item_id] if right else 0)


def test_command_writes_responses_csv(tmp_path, design, units, monkeypatch) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    write_design(tmp_path / "design.yaml", design)
    item_ids = [i.id for uid in design.units_of(1) for u in units if u.id == uid for i in u.items]
    answers = _answers_for(design, units, 1, True)
    _write_answers(tmp_path / "answers.csv", ["person_id", "booklet", *item_ids], [["s1", 1, *(answers[i] for i in item_ids)]])
    result = CliRunner().invoke(main, ["paper-responses", str(tmp_path / "answers.csv"), "--design",
                                       str(tmp_path / "design.yaml"), "--out", str(tmp_path / "R.csv"),
                                       "--items", str(TEST_UNITS)])
    assert result.exit_code == 0, result.output
    data = read_responses(tmp_path / "R.csv")
    assert data.person_ids == ["s1"]
    assert len(data.item_ids) == sum(len(u.items) for u in units[:6])
    administered = [j for j, i in enumerate(data.item_ids) if i in item_ids]
    assert not any(math.isnan(data.scores[0, j]) for j in administered)
    assert sum(not math.isnan(x) for x in data.scores[0]) == len(item_ids)


def test_errors_name_row_and_column_and_nothing_is_written(tmp_path, design, units, monkeypatch) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    write_design(tmp_path / "design.yaml", design)
    single = next(i for i in units[0].items if isinstance(i, SingleChoice | MultipleChoice))
    op = next(i for i in units[0].items if isinstance(i, OpenResponse))
    other_booklet_item = units[4].items[0].id  # in C3: not in booklet 1
    header = ["person_id", "booklet", single.id, op.id, other_booklet_item]
    _write_answers(tmp_path / "answers.csv", header, [
        ["a", 1, "Z", "2", ""],      # Z is not an option
        ["b", 1, single.options[0].id, "7", ""],  # 7 is not a code
        ["c", 1, single.options[0].id, "2", "A"],  # answer for an item not in booklet 1
        ["d", 9, "", "", ""],        # no booklet 9
    ])
    result = CliRunner().invoke(main, ["paper-responses", str(tmp_path / "answers.csv"), "--design",
                                       str(tmp_path / "design.yaml"), "--out", str(tmp_path / "R.csv"),
                                       "--items", str(TEST_UNITS)])
    assert result.exit_code == 1
    out = result.output
    name = str(tmp_path / "answers.csv")
    assert f"{name}:2:3: item {single.id}" in out
    assert f"{name}:3:4: item {op.id}: '7' is not a code" in out
    assert f"{name}:4:5: item {other_booklet_item} is not in booklet 1" in out
    assert f"{name}:5:2: booklet '9' is not in the design" in out
    assert not (tmp_path / "R.csv").exists()
    with pytest.raises(DataFileError):
        score_answers(tmp_path / "answers.csv", design, units)
