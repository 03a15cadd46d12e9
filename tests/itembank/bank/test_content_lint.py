"""The content lint: one failing and one passing example per rule, in the language the rule reads,
with the other language beside it; places as FILE:LINE:COLUMN; ``validate --strict`` fails on a
warning and the demo bank passes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.bank.content_lint import lint_document, lint_text
from itembank.bank.yaml_source import parse_yaml
from itembank.cli import main

ROOT = Path(__file__).resolve().parents[3]

# rule: (bad zh, bad en), (good zh, good en)
CASES = {
    "space-after-fullwidth": (
        ("請說明理由， 以及你的看法。", "Explain your reason and your view."),
        ("請說明理由，以及你的看法。", "Explain your reason and your view."),
    ),
    "halfwidth-in-chinese": (
        ("兩件事：(1) 回應擔心；(2) 尊重選擇。", "Two things: (1) respond; (2) respect."),
        ("兩件事：（1）回應擔心；（2）尊重選擇。", "Two things: (1) respond; (2) respect."),
    ),
    "curly-quotes": (
        ("他把「冷笑話」說成 “cold jokes”。", "He said “cold jokes” in English."),
        ("他把「冷笑話」說成「cold jokes」。", "He said “cold jokes” in English."),
    ),
    "tai": (
        ("門口有一個台階，三台車停在臺灣大道。", "A step at the door; three buses on Taiwan Boulevard."),
        ("門口有一個臺階，三臺車停在臺灣大道；他在台積電上班。", "A step at the door; he works at TSMC."),
    ),
    "english-punctuation": (
        ("謝謝關心！", "Thanks for caring~ See you，Siti."),
        ("謝謝關心！", "Thanks for caring! The term 「簽章」 means to sign."),
    ),
    "length-ratio": (
        ("根據群組中的訊息，爺爺一共要付多少元？",
         "According to the messages, how much will Grandpa pay in total? Give the amount in NT$."),
        ("根據群組中的訊息，爺爺一共要付多少元？請寫出金額。",
         "According to the messages, how much will Grandpa pay in total? Give the amount."),
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fails_the_bad_example_and_passes_the_good(rule: str) -> None:
    (bad_zh, bad_en), (good_zh, good_en) = CASES[rule]
    assert rule in {found[1] for found in lint_text(bad_zh, bad_en)}
    assert rule not in {found[1] for found in lint_text(good_zh, good_en)}


def test_the_good_examples_are_clean_for_every_rule() -> None:
    for rule, (_, (zh, en)) in CASES.items():
        assert lint_text(zh, en) == [], rule


UNIT = """\
id: GC-900
title:
  zh-TW: 測試
  en: Test
items:
  - prompt:
      zh-TW: 請說明理由， 以及你的看法。
      en: Explain your reason and your view.
  - prompt:
      zh-TW: |-
        第一段。

        門口有台階。
      en: |-
        First paragraph.

        There is a step at the door. Dr Chen and Dr. Chen met Chang Jia-Wei and Zhang Jia-Wei.
"""


def test_places_name_the_line_and_column_of_the_text() -> None:
    doc, problems = parse_yaml(UNIT, "u.yaml")
    assert doc is not None and not problems
    found = {p.message.split("]")[0] + "]": (p.line, p.column) for p in lint_document(doc)}
    assert found["warning [space-after-fullwidth]"] == (7, 20)
    assert found["warning [tai]"] == (13, 12)
    assert "warning [romanisation]" in found
    messages = " ".join(p.message for p in lint_document(doc))
    assert "Chang Jia-Wei and Zhang Jia-Wei" in messages
    assert "Dr Chen and Dr. Chen" in messages


def test_validate_warns_by_default_and_fails_with_strict(tmp_path: Path) -> None:
    import shutil

    bank = tmp_path / "bank"
    shutil.copytree(ROOT / "tests" / "data" / "units", bank)
    first = sorted(bank.glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    (bank / first.name).write_text(text.replace("zh-TW: ", "zh-TW: 台", 1), encoding="utf-8")
    runner = CliRunner()
    relaxed = runner.invoke(main, ["validate", str(bank)])
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning [tai]" in relaxed.output and "1 warning(s)" in relaxed.output
    strict = runner.invoke(main, ["validate", "--strict", str(bank)])
    assert strict.exit_code == 1
    assert f"{bank / first.name}:" in strict.output and "[tai]" in strict.output


def test_the_demo_bank_passes_strict() -> None:
    result = CliRunner().invoke(main, ["validate", "--strict", str(ROOT / "items")])
    assert result.exit_code == 0, result.output
