"""Printed booklets: the right text in the right language and order, no key or coding-guide text
in a student booklet, fonts embedded; the booklets command writes every file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    ShortResponse,
    SingleChoice,
)
from itembank.bank.validation import load_bank
from itembank.cli import main
from itembank.paper.design import make_design, read_design, write_design
from itembank.paper.render import render_booklet, render_teacher_materials
from tests.conftest import TEST_UNITS


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "x.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout


def squash(text: str) -> str:
    """Whitespace removed: pdftotext breaks lines where the page does."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def bank():
    loaded = load_bank([TEST_UNITS])
    assert loaded.ok
    return loaded


@pytest.fixture(scope="module")
def two_units(bank):
    return [bank.units[0], bank.units[3]]  # T-01 (image, open response) and T-04


@pytest.fixture(scope="module", params=["zh-TW", "en"])
def booklet(request, two_units, tmp_path_factory):
    language = request.param
    units = [u.unit for u in two_units]
    pdf = render_booklet(units, language, booklet_label="2", images={u.unit.id: u.images for u in two_units})
    tmp = tmp_path_factory.mktemp(f"booklet-{language}")
    return language, units, pdf, pdf_text(pdf, tmp), tmp


def _student_texts(unit, language):
    """Every text a student must see, in print order."""
    texts = [unit.title.get(language)]
    for block in unit.stimulus:
        if block.type == "text":
            texts.append(re.sub(r"[*_`]", "", block.text.get(language)))
        elif block.type == "image" and block.caption:
            texts.append(block.caption.get(language))
    for item in unit.items:
        texts.append(item.prompt.get(language))
        if isinstance(item, SingleChoice | MultipleChoice):
            texts += [o.text.get(language) for o in item.options]
        if isinstance(item, ComplexChoice):
            texts += [s.text.get(language) for s in item.statements]
    return texts


def test_booklet_holds_units_in_order_and_language(booklet) -> None:
    language, units, _pdf, text, _ = booklet
    flat = squash(text)
    position = 0
    for unit in units:
        for expected in _student_texts(unit, language):
            found = flat.find(squash(expected), position)
            assert found >= 0, f"{expected!r} missing or out of order"
            position = found
    other = "en" if language == "zh-TW" else "zh-TW"
    for unit in units:
        assert squash(unit.items[0].prompt.get(other)) not in flat


def test_booklet_has_cover_fields_and_answer_sheet(booklet) -> None:
    language, _units, _pdf, text, _ = booklet
    words = {"zh-TW": ["姓名", "班級", "學號", "日期", "作答說明", "答案卡", "題本"],
             "en": ["Name", "Class", "Student ID", "Date", "Instructions", "Answer sheet", "Booklet 2"]}
    for word in words[language]:
        assert word in text


def test_no_key_or_coding_guide_text_in_student_booklet(booklet) -> None:
    language, units, _pdf, text, _ = booklet
    flat = squash(text)
    for unit in units:
        for item in unit.items:
            if isinstance(item, OpenResponse):
                for code in item.coding_guide:
                    assert squash(code.descriptor.get(language)) not in flat
                    for example in code.examples:
                        if len(squash(example.get(language))) > 4:
                            assert squash(example.get(language)) not in flat
            if isinstance(item, ShortResponse):
                for answer in (*item.accepted.zh_TW, *item.accepted.en):
                    if len(squash(answer)) > 3:
                        assert squash(answer) not in flat
    assert "Answer key" not in text and "參考答案" not in text


def test_fonts_embedded(booklet) -> None:
    _language, _units, pdf, _text, tmp = booklet
    path = tmp / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert any("Noto-Sans-CJK-TC" in r for r in rows) and any("Noto-Serif-CJK-TC" in r for r in rows)
    for row in rows:  # every font embedded: the "emb" column says yes
        assert row.split()[-5] == "yes", row


def test_unit_starts_on_new_page_and_continuation_cue(bank, tmp_path) -> None:
    first = bank.units[0].unit  # its open response gets 30 answer lines: the items must continue
    long_items = [i.model_copy(update={"lines": 30}) if isinstance(i, OpenResponse) else i for i in first.items]
    units = [first.model_copy(update={"items": long_items}), bank.units[1].unit]
    pdf = render_booklet(units, "en", answer_sheet=False)
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf)
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")
    starts = [i for i, p in enumerate(pages) for u in units if p.lstrip().startswith(f"Unit {u.id}\n")]
    assert len(starts) == 2 and starts[0] >= 1
    cues = [re.search(r"Unit (\S+) \(continued\) — refer to the text on page (\d+)", p) for p in pages]
    assert cues[starts[0] + 1] is not None  # the page after T-01 starts
    assert cues[starts[0]] is None and cues[starts[1]] is None  # never on a unit's first page
    for m in filter(None, cues):  # a cue names the page where the unit's text starts
        assert pages[int(m.group(2)) - 1].lstrip().startswith(f"Unit {m.group(1)}\n")
    # an item is never split: a question's header and its prompt are on the same page
    headers = [(i, m.group(1)) for i, p in enumerate(pages) for m in re.finditer(r"Question \d+ +(T-0\d-Q\d)", p)]
    assert len(headers) == sum(len(u.items) for u in units)
    for i, item_id in headers:
        assert f"Test question {item_id}" in pages[i]


def test_teacher_materials(bank, tmp_path) -> None:
    units = [u.unit for u in bank.units[:3]]
    for language in ("en", "zh-TW"):
        key = squash(pdf_text(render_teacher_materials(units, language, "answer-key"), tmp_path, "k.pdf"))
        guide = squash(pdf_text(render_teacher_materials(units, language, "coding-guide"), tmp_path, "g.pdf"))
        for unit in units:
            for item in unit.items:
                assert item.id in key
                if isinstance(item, ShortResponse):
                    accepted = item.accepted.zh_TW if language == "zh-TW" else item.accepted.en
                    assert squash(accepted[0]) in key
                parts = item.statements if isinstance(item, ComplexChoice) else getattr(item, "options", [])
                for part in parts:  # the teacher pack says why a student would choose each option
                    assert part.rationale is not None
                    assert squash(part.rationale.get(language)) in key
                if isinstance(item, OpenResponse):
                    for code in item.coding_guide:
                        assert squash(code.descriptor.get(language)) in guide
                        for example in code.examples:
                            assert squash(example.get(language)) in guide


def test_design_file_round_trip(bank, tmp_path) -> None:
    design = make_design([u.unit for u in bank.units], n_clusters=4, positions=2)
    for name in ("d.yaml", "d.csv"):
        write_design(tmp_path / name, design)
        again = read_design(tmp_path / name, known_units=[u.unit.id for u in bank.units])
        assert again.booklets == design.booklets
        assert [c.units for c in again.clusters] == [c.units for c in design.clusters]


def test_design_errors_name_the_field(tmp_path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("booklets:\n  - {booklet: 1, position: 1, cluster: C1, units: [T-01]}\n"
                    "  - {booklet: 1, position: 1, cluster: C2, units: [T-02]}\n"
                    "  - {booklet: x, position: 1, cluster: C3, units: [NOPE]}\n", encoding="utf-8")
    from itembank.errors import ProblemsError

    with pytest.raises(ProblemsError) as caught:
        read_design(path, known_units=["T-01", "T-02"])
    text = str(caught.value)
    assert "booklets[1].position: booklet 1 has two clusters in position 1" in text
    assert "booklets[2].booklet: expected a booklet number" in text


def test_booklets_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.setenv("ITEMBANK_ITEMS_PATH", str(TEST_UNITS))
    design = make_design([u.unit for u in load_bank([TEST_UNITS]).units], n_clusters=3, positions=2)
    design.booklets = {1: design.booklets[1]}  # one small booklet keeps the test fast
    write_design(tmp_path / "design.yaml", design)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["booklets", "--out", str(out), "--language", "zh-TW",
                                       "--design", str(tmp_path / "design.yaml")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["answer-key-zh-TW.pdf", "booklet-01-zh-TW.pdf", "coding-guide-zh-TW.pdf"]
    assert "rendering" in result.stderr  # the progress bar goes to stderr


def test_booklets_command_rejects_unknown_units(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    path = tmp_path / "design.yaml"
    path.write_text("booklets:\n  - {booklet: 1, position: 1, cluster: C1, units: [GHOST]}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["booklets", "--out", str(tmp_path / "o"), "--language", "en",
                                       "--design", str(path), "--items", str(TEST_UNITS)])
    assert result.exit_code == 1
    assert "unit GHOST is not in the bank" in result.output
    assert not (tmp_path / "o").exists()


def test_markdown_joins_wrapped_chinese_lines_but_keeps_paragraphs() -> None:
    from itembank.paper.render import render_markdown

    html = str(render_markdown("前一年，\n幾座水庫。\n\n有人認為\n<script>x</script>\n\nEnglish\nline"))
    assert "前一年，幾座水庫。</p>" in html and "<p>有人認為" in html
    assert "English\nline" in html
    assert "<script>" not in html


@pytest.mark.parametrize(("language", "points", "total"), [
    ("en", "points for what is chosen: A +2, B +1, C −1 (anything else 0)",
     "score = the sum of the points, at least 0 and at most 2"),
    ("zh-TW", "選擇的得分：A +2, B +1, C −1（其餘 0 分）", "得分為各項分數之和，最低 0 分，最高 2 分"),
])
def test_the_answer_key_shows_weights(bank, language: str, points: str, total: str) -> None:
    from itembank.paper.render import teacher_html
    unit = bank.units[0].unit
    item = unit.items[0]
    assert isinstance(item, MultipleChoice)
    options = [o.model_copy(update={"id": x}) for o, x in zip(item.options, "ABCD", strict=True)]
    weighted = MultipleChoice.model_validate({
        **item.model_dump(by_alias=True, exclude={"irt", "options"}), "key": ["A", "B"],
        "options": [o.model_dump(by_alias=True) for o in options],
        "weights": {"points": {"A": 2, "B": 1, "C": -1, "D": 0}, "upper": 2}})
    html = teacher_html([unit.model_copy(update={"items": [weighted]})], language, "answer-key")
    assert points in html and total in html
