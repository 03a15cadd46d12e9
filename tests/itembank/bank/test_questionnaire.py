"""The questionnaire format (itembank/bank/questionnaire.py): the demo questionnaire, problems
named by FILE:LINE:COLUMN and field, and questionnaire files inside a bank folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from itembank.bank.content_lint import lint_paths
from itembank.bank.questionnaire import (
    Construct,
    Questionnaire,
    load_questionnaire,
    parse_questionnaire,
)
from itembank.bank.validation import load_bank
from itembank.errors import ProblemsError
from tests.conftest import REPO

DEMO = REPO / "items" / "questionnaires" / "GCQ-DEMO.yaml"

SMALL = """\
id: Q-TEST
title: {zh-TW: 測試問卷, en: Test questionnaire}
response_scales:
  - id: agree4
    kind: agreement
    categories:
      - {zh-TW: 非常不同意, en: Strongly disagree}
      - {zh-TW: 不同意, en: Disagree}
      - {zh-TW: 同意, en: Agree}
      - {zh-TW: 非常同意, en: Strongly agree}
scales:
  - id: S1
    name: {zh-TW: 量表一, en: Scale one}
    construct: adaptability
    prompt: {zh-TW: 你同意嗎？, en: "Do you agree?"}
    response_scale: agree4
    items:
      - id: S1a
        stem: {zh-TW: 第一題, en: First}
      - id: S1b
        stem: {zh-TW: 第二題, en: Second}
      - id: S1c
        reverse: true
        stem: {zh-TW: 第三題, en: Third}
"""


@pytest.fixture(scope="module")
def demo() -> Questionnaire:
    return load_questionnaire(DEMO)


def test_the_demo_questionnaire_has_the_seven_scales_of_the_framework(demo: Questionnaire) -> None:
    assert len(demo.scales) >= 6
    assert all(4 <= len(s.items) <= 6 for s in demo.scales)
    constructs = {str(s.construct_) for s in demo.scales}
    assert constructs >= {
        "awareness_of_global_issues", "interest_in_other_cultures", "respect_for_other_cultures",
        "global_mindedness", "self_efficacy_global_issues", "adaptability", "perspective_taking",
    }
    assert constructs <= {c.value for c in Construct}
    assert {str(rs.kind) for rs in demo.response_scales} >= {"agreement", "frequency", "self_description"}
    assert sum(i.reverse for s in demo.scales for i in s.items) >= 4
    assert len(set(demo.item_ids)) == len(demo.item_ids) >= 30


def _texts(obj: object) -> list[tuple[str, str]]:
    """Every (zh-TW, en) pair in a parsed questionnaire."""
    if isinstance(obj, dict):
        if set(obj) == {"zh-TW", "en"}:
            return [(obj["zh-TW"], obj["en"])]
        return [t for v in obj.values() for t in _texts(v)]
    if isinstance(obj, list):
        return [t for v in obj for t in _texts(v)]
    return []


def test_every_demo_text_is_in_both_languages_and_traditional_characters(demo: Questionnaire) -> None:
    pairs = _texts(demo.model_dump(by_alias=True))
    assert len(pairs) >= 4 + 7 * 7  # title, introduction, categories, scales, items
    for zh, en in pairs:
        assert zh.strip() and en.strip()
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
        assert not re.search(r"[\u4e00-\u9fff]", en), en
        # simplified forms that Taiwan's Traditional characters write otherwise
        assert not set(zh) & set("这们国对说为时会个来过还样让现发经"), zh


def test_the_demo_questionnaire_passes_the_content_lint() -> None:
    # the bilingual copy editor's rules of the units (Taiwan usage, punctuation, lengths)
    assert lint_paths([DEMO]) == []


def test_a_small_questionnaire_parses(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(SMALL, encoding="utf-8")
    q = load_questionnaire(path)
    scale = q.scale("S1")
    assert q.n_categories(scale) == 4
    assert [i.reverse for i in scale.items] == [False, False, True]
    with pytest.raises(KeyError, match="no scale 'S9'"):
        q.scale("S9")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("        stem: {zh-TW: 第二題, en: Second}", "        stem: {zh-TW: 第二題}", 21,
         "scales[0].items[1].stem: the en text is missing"),
        ("    response_scale: agree4", "    response_scale: agree5", 16,
         "scales[0].response_scale: no response scale 'agree5'"),
        ("      - id: S1b", "      - id: S1a", 20, "scales[0].items[1].id: item id 'S1a' is also used"),
        ("    construct: adaptability", "    construct: kindness", 14, "scales[0].construct:"),
        ("        reverse: true", "        reversed: true", 23, "unknown field 'reversed'"),
        ("    kind: agreement", "    kind: agreement\n    labels: []", 6, "unknown field 'labels'"),
    ],
)
def test_problems_name_the_file_the_line_and_the_field(
    old: str, new: str, line: int, message: str
) -> None:
    assert old in SMALL
    q, problems = parse_questionnaire(SMALL.replace(old, new), "q.yaml")
    assert q is None
    assert any(p.file == "q.yaml" and p.line == line and message in p.message for p in problems), problems


def test_a_scale_needs_three_items() -> None:
    text = SMALL.split("      - id: S1b")[0]
    _, problems = parse_questionnaire(text, "q.yaml")
    assert any("scales[0].items" in p.message and "at least 3" in p.message for p in problems), problems


def test_not_a_mapping_and_unreadable_files_are_problems(tmp_path: Path) -> None:
    _, problems = parse_questionnaire("- a\n- b\n", "q.yaml")
    assert problems and "one mapping" in problems[0].message
    with pytest.raises(ProblemsError, match="cannot read the file"):
        load_questionnaire(tmp_path / "missing.yaml")


def test_a_bank_folder_validates_its_questionnaires_as_questionnaires(tmp_path: Path) -> None:
    bank = tmp_path / "items"
    shutil.copytree(REPO / "tests" / "data" / "units", bank)
    (bank / "questionnaires").mkdir()
    (bank / "questionnaires" / "good.yaml").write_text(SMALL, encoding="utf-8")
    clean = load_bank([bank])
    assert clean.problems == [], clean.problems
    n_units = len(clean.units)
    (bank / "questionnaires" / "bad.yaml").write_text(
        SMALL.replace("construct: adaptability", "construct: kindness"), encoding="utf-8"
    )
    loaded = load_bank([bank])
    assert len(loaded.units) == n_units
    assert [p.file for p in loaded.problems] == [str(bank / "questionnaires" / "bad.yaml")]


def test_validate_strict_lints_questionnaires_like_units(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from itembank.cli import main

    folder = tmp_path / "questionnaires"
    folder.mkdir()
    text = DEMO.read_text(encoding="utf-8")
    (folder / DEMO.name).write_text(text, encoding="utf-8")
    ok = CliRunner().invoke(main, ["validate", "--strict", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "1 questionnaire(s)" in ok.output
    first_zh = re.search(r"zh-TW: (\S+)", text)
    assert first_zh is not None
    # a half-width comma between Chinese characters is what the content lint reports
    bad = text.replace(first_zh.group(0), f"zh-TW: 我們,{first_zh.group(1)}", 1)
    (folder / DEMO.name).write_text(bad, encoding="utf-8")
    refused = CliRunner().invoke(main, ["validate", "--strict", str(tmp_path)])
    assert refused.exit_code == 1
    assert DEMO.name in refused.output
