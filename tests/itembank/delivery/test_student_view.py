"""What a student is shown: stimulus, prompt and choices in one language, sanitised HTML, and
never a key, accepted answers, scoring rules, a coding guide or parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from itembank.bank.schema import Unit
from itembank.bank.validation import load_bank
from itembank.delivery.student_view import item_view, render_markdown

ROOT = Path(__file__).resolve().parents[3]
BANKS = [ROOT / "tests" / "data" / "units"]
FORBIDDEN_KEYS = {"key", "accepted", "scoring", "coding_guide", "irt", "numeric", "parameters",
                  "min_correct", "max_score", "examples", "descriptor", "credit", "code",
                  "calibration", "a", "b", "c", "process", "metadata", "rationale"}  # fmt: skip


def _units() -> list[Unit]:
    bank = load_bank(BANKS)
    assert not bank.problems, bank.problems[:3]
    units = [loaded.unit for loaded in bank.units]
    # the demo bank too, while it validates (content writers are still adding to it)
    demo = load_bank([ROOT / "items"])
    if not demo.problems:
        units += [loaded.unit for loaded in demo.units]
    return units


UNITS = _units()
ITEMS = [(unit, item) for unit in UNITS for item in unit.items]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _secrets(item: Any, language: str) -> set[str]:
    """Texts found only in the key side of the item."""
    out: set[str] = set()
    if getattr(item, "accepted", None) is not None:
        out |= set(item.accepted.zh_TW if language == "zh-TW" else item.accepted.en)
    for code in getattr(item, "coding_guide", None) or []:
        out.add(code.descriptor.get(language))
        out |= {example.get(language) for example in code.examples}
    for part in (getattr(item, "options", None) or []) + (getattr(item, "statements", None) or []):
        if part.rationale is not None:
            out.add(part.rationale.get(language))
    if getattr(item, "irt", None) is not None:
        out.add(f'"model": "{item.irt.model}"')
    return {s for s in out if s}


def _shown_text(unit: Unit, item: Any, language: str) -> str:
    """The texts the unit's author meant students to see, straight from the schema objects."""
    parts = [item.prompt.get(language)]
    for block in unit.stimulus:
        data = block.model_dump(by_alias=True)
        parts.append(json.dumps(data, ensure_ascii=False))
    for field in ("options", "statements", "choices"):
        parts += [o.text.get(language) for o in getattr(item, field, None) or []]
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["zh-TW", "en"])
@pytest.mark.parametrize(("unit", "item"), ITEMS, ids=[i.id for _, i in ITEMS])
def test_no_key_guide_or_parameter_reaches_the_student(
    unit: Unit, item: Any, language: str
) -> None:
    view = item_view(item, unit, language, {})
    assert not _keys(view) & FORBIDDEN_KEYS
    text = json.dumps(view, ensure_ascii=False)
    shown = _shown_text(unit, item, language)
    for secret in _secrets(item, language):
        if secret in shown:
            continue  # an accepted answer may be read off the stimulus itself ("rice wine")
        assert secret not in text, (item.id, secret)
    # the key's option ids appear only as option ids, never as a marked answer
    if item.type == "single_choice":
        assert [o["id"] for o in view["options"]] == [o.id for o in item.options]


@pytest.mark.parametrize(("unit", "item"), ITEMS, ids=[i.id for _, i in ITEMS])
def test_the_view_is_in_one_language_with_the_fields_of_its_type(unit: Unit, item: Any) -> None:
    zh = item_view(item, unit, "zh-TW", {})
    en = item_view(item, unit, "en", {})
    assert zh["prompt"] == item.prompt.zh_TW and en["prompt"] == item.prompt.en
    assert zh["id"] == en["id"] == item.id and zh["type"] == item.type
    assert (
        item.prompt.en not in json.dumps(zh, ensure_ascii=False)
        or item.prompt.en == item.prompt.zh_TW
    )
    expected = {
        "single_choice": {"options"},
        "multiple_choice": {"options"},
        "complex_choice": {"statements", "choices"},
        "short_response": set(),
        "open_response": set(),
    }[item.type]
    assert expected <= set(en) and not ({"options", "statements", "choices"} - expected) & set(en)
    assert en["unit"]["id"] == unit.id and len(en["stimulus"]) == len(unit.stimulus)


def test_images_are_addressed_by_their_stored_hash() -> None:
    unit = next(u for u in UNITS if any(b.type == "image" for b in u.stimulus))
    src = next(b.src for b in unit.stimulus if b.type == "image")
    view = item_view(unit.items[0], unit, "en", {src: "ab" * 32}, "/media/")
    image = next(b for b in view["stimulus"] if b["type"] == "image")
    assert image["src"] == "/media/" + "ab" * 32 and image["alt"]


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render_markdown(
        "**bold** <script>alert(1)</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<strong>bold</strong>" in html
    for bad in ("<script", "javascript:", "onerror", "<img", "<a "):
        assert bad not in html


def test_a_table_cell_reads_the_same_on_the_test_page_and_on_paper() -> None:
    """One rule for table cells (``cell_text``): a whole number written as ``8000.0`` in YAML is
    8000 online and on paper, a decimal stays as written, a translated cell is in the language."""
    from itembank.bank.schema import TableBlock
    from itembank.delivery.student_view import stimulus_view
    from itembank.paper.render import booklet_html

    unit = next(u for u in UNITS if any(isinstance(b, TableBlock) for b in u.stimulus))
    table = TableBlock.model_validate({"type": "table", "columns": [{"zh-TW": "年", "en": "Year"}, "kWh"],
                                       "rows": [[2020, 8000.0], [2024, 12.5]]})
    unit = unit.model_copy(update={"stimulus": [table]})
    online = next(b for b in stimulus_view(unit, "en", lambda src: None) if b["type"] == "table")
    assert online["columns"] == ["Year", "kWh"]
    assert online["rows"] == [["2020", "8000"], ["2024", "12.5"]]
    paper = booklet_html([unit], "zh-TW", answer_sheet=False)
    assert "<td>8000</td>" in paper.replace(" ", "") or ">8000<" in paper
    assert "8000.0" not in paper and "12.5" in paper and ">年<" in paper
