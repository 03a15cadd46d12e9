"""Each class of validation problem is reported with its exact FILE:LINE:COLUMN, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.bank.validation import load_bank
from itembank.cli import main
from tests.conftest import TEST_UNITS

GOOD = (TEST_UNITS / "T-01.yaml").read_text(encoding="utf-8")
WITH_2PL = (TEST_UNITS / "T-02.yaml").read_text(encoding="utf-8")  # has a single_choice 2PL item


def problems_for(tmp_path: Path, text: str | bytes, name: str = "unit.yaml") -> list[str]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return [str(p) for p in load_bank([path]).problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def test_the_test_bank_is_valid() -> None:
    bank = load_bank([TEST_UNITS])
    assert bank.problems == []
    assert len(bank.units) == 8
    assert bank.units[0].images  # the SVG was read


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    text = "id: U1\ntitle: {zh-TW: a, en: b\nitems: []\n"
    (problem,) = problems_for(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'unit.yaml'}:3:")
    assert "YAML syntax error" in problem


def test_empty_file(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, "  \n")
    assert problem == f"{tmp_path / 'unit.yaml'}:1:1: the file is empty; a unit file holds one YAML mapping (id, title, ...)"


def test_binary_garbage(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, b"id: x\n\x00\x01\x02\xff")
    assert ":2:1: binary data" in problem


def test_not_utf8(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, "id: U1\ntitle: café\n".encode("latin-1"))
    assert ":2:" in problem and "not UTF-8" in problem


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, "- a\n- b\n")
    assert ":1:1: a unit file holds one mapping" in problem


def test_missing_translation_points_at_the_text(tmp_path: Path) -> None:
    text = GOOD.replace("      en: Test question T-01-Q2\n", "", 1)
    assert text != GOOD
    problems = problems_for(tmp_path, text)
    line = line_of(text, "zh-TW: 測試題目 T-01-Q2")
    assert problems == [
        f"{tmp_path / 'unit.yaml'}:{line}:7: items[1].prompt: the en text is missing; every text needs both zh-TW and en"
    ]


def test_wrong_type_of_value(tmp_path: Path) -> None:
    text = GOOD.replace("estimated_minutes: 5", "estimated_minutes: soon")
    (problem,) = problems_for(tmp_path, text)
    line = line_of(text, "estimated_minutes")
    assert problem.startswith(f"{tmp_path / 'unit.yaml'}:{line}:22: metadata.estimated_minutes:")


def test_unknown_field_points_at_the_key(tmp_path: Path) -> None:
    text = GOOD.replace("  author: tests\n", "  author: tests\n  colour: red\n")
    (problem,) = problems_for(tmp_path, text)
    line = line_of(text, "colour: red")
    assert problem == f"{tmp_path / 'unit.yaml'}:{line}:3: metadata: unknown field 'colour'; check its spelling against docs/item-format.md"


def test_key_that_is_not_an_option(tmp_path: Path) -> None:
    text = WITH_2PL.replace("key: B", "key: E")
    (problem,) = problems_for(tmp_path, text)
    line = line_of(text, "key: E")
    assert problem == f"{tmp_path / 'unit.yaml'}:{line}:10: items[3].key: 'E' is not an option id; use one of A, B, C, D"


def test_parameters_inconsistent_with_model(tmp_path: Path) -> None:
    text = WITH_2PL.replace("model: 2pl", "model: grm  # changed", 1)
    problems = problems_for(tmp_path, text)
    line = line_of(text, "# changed") + 2  # the b: line, two below
    assert problems == [f"{tmp_path / 'unit.yaml'}:{line}:10: items[3].irt.b: model grm takes b as a list of boundaries"]


def test_unknown_stimulus_type(tmp_path: Path) -> None:
    text = GOOD.replace("  - type: image", "  - type: picture")
    (problem,) = problems_for(tmp_path, text)
    assert f":{line_of(text, 'type: picture')}:5: stimulus[1]: unknown type 'picture'" in problem


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = GOOD.replace("  author: tests\n", "  author: tests\n  author: again\n")
    problems = problems_for(tmp_path, text)
    assert f":{line_of(text, 'author: again')}:3: key 'author' appears twice" in problems[0]


def test_every_problem_at_once_across_files(tmp_path: Path) -> None:
    shutil.copytree(TEST_UNITS, tmp_path / "bank")
    one = tmp_path / "bank" / "T-02.yaml"
    one.write_text(one.read_text(encoding="utf-8").replace("estimated_minutes: 5", "estimated_minutes: -1"),
                   encoding="utf-8")
    two = tmp_path / "bank" / "T-03.yaml"
    two.write_text(two.read_text(encoding="utf-8").replace("id: T-03-Q1", "id: T-01-Q1"), encoding="utf-8")
    (tmp_path / "bank" / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    problems = [str(p) for p in load_bank([tmp_path / "bank"]).problems]
    assert len(problems) == 3, problems
    assert any("T-02.yaml" in p and "estimated_minutes" in p for p in problems)
    assert any("T-03.yaml" in p and "item id 'T-01-Q1' is also used in" in p for p in problems)
    assert any("broken.yaml" in p and "YAML syntax error" in p for p in problems)


def test_duplicate_unit_id_across_files(tmp_path: Path) -> None:
    shutil.copy(TEST_UNITS / "T-01.yaml", tmp_path / "a.yaml")
    (tmp_path / "images").mkdir()
    shutil.copy(TEST_UNITS / "images" / "T-01-chart.svg", tmp_path / "images")
    (tmp_path / "b.yaml").write_text(GOOD.replace("-Q", "-R"), encoding="utf-8")
    (tmp_path / "calibrations").mkdir()
    shutil.copy(TEST_UNITS / "calibrations" / "test-calibration.yaml", tmp_path / "calibrations")
    problems = [str(p) for p in load_bank([tmp_path]).problems]
    assert problems == [f"{tmp_path / 'b.yaml'}:1:5: unit id 'T-01' is also used by {tmp_path / 'a.yaml'}; unit ids must be unique"]


def test_unknown_calibration_and_missing_image(tmp_path: Path) -> None:
    text = GOOD.replace("calibration: test-calibration", "calibration: nowhere", 1)
    problems = problems_for(tmp_path, text)
    assert any(f":{line_of(text, 'calibration: nowhere')}:" in p and "calibration 'nowhere' is not in the bank" in p
               for p in problems)
    assert any("image file 'images/T-01-chart.svg' not found" in p for p in problems)


@pytest.mark.parametrize("args", [["validate", str(TEST_UNITS)]])
def test_cli_validate_ok(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "OK: 8 units, 32 items" in result.output


def test_cli_validate_reports_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: [\n", encoding="utf-8")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'bad.yaml'}:2:1: YAML syntax error")
    assert lines[1].startswith(f"{tmp_path / 'empty.yaml'}:1:1: the file is empty")
    assert "Traceback" not in result.output


WEIGHTS = "    key: [A, C]\n    weights:\n      points: {A: 1, C: 1, B: -1, D: -1}\n      upper: 1\n"


def test_weights_are_valid_and_score_as_written(tmp_path: Path) -> None:
    from itembank.bank.validation import parse_unit_text
    from itembank.bank.yaml_export import unit_yaml
    from itembank.delivery.scoring import score_response
    text = GOOD.replace("    key: [A, C]\n", WEIGHTS, 1)
    unit, _, problems = parse_unit_text(text, "unit.yaml")
    assert problems == [] and unit is not None
    item = unit.items[0]
    assert item.max_score == 1
    assert [score_response(item, r) for r in (["A", "C"], ["A"], ["A", "B"], ["A", "B", "C", "D"], [])] == [1, 1, 0, 0, 0]
    written = unit_yaml(unit)
    assert "    weights:\n      points:\n        A: 1\n        C: 1\n        B: -1\n        D: -1\n      upper: 1\n" in written
    again, _, _ = parse_unit_text(written, "unit.yaml")
    assert again == unit and again is not None and unit_yaml(again) == written


@pytest.mark.parametrize(("weights", "needle", "column", "message"), [
    ("{A: 1.5, C: 1}", "points:", 19, "items[0].weights.points.A: Input should be a valid integer, got a number "
                                      "with a fractional part"),
    ("{A: 1, X: 1}", "points:", 15, "items[0].weights.points: 'X' is not an option id; use one of A, B, C, D"),
    ("{A: 2, C: 2}", "points:", 15, "items[0].weights.points: no answer scores 1, 3 of 0..4; the scores must be "
                                    "the categories 0..max of the IRT models (e.g. 1 point per key part)"),
    ("{A: 1, B: 1}", "points:", 7, "items[0].weights: the key scores 1 but the best answer scores 2; make the key "
                                    "the best answer"),
    ("{A: 1, C: 1, B: -1, D: -1}\n    also_correct: [[B]]", "also_correct:", 19,
     "items[0].also_correct: other correct answers need all-or-nothing scoring; leave out scoring and weights, "
     "or also_correct"),
])
def test_bad_weights_name_line_and_field(tmp_path: Path, weights: str, needle: str, column: int,
                                         message: str) -> None:
    text = GOOD.replace("    key: [A, C]\n", f"    key: [A, C]\n    weights:\n      points: {weights}\n", 1)
    text = text.replace("    irt:\n      model: 3pl\n      a: 1.155\n      b: -0.369\n      c: 0.15\n"
                        "      calibration: test-calibration\n", "", 1)
    problems = problems_for(tmp_path, text)
    assert len(problems) == 1, problems
    file, line, col, rest = problems[0].split(":", 3)
    assert (int(line), rest.strip()) == (line_of(text, needle), message)
    assert int(col) == column
