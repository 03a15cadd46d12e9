"""A booklet assembled from cluster fragments and its frame prints the pages of the booklet rendered
whole: the same pixels, the same text where it is on the page, the same outline and named
destinations, every font embedded; one booklet rendered alone is the set's bytes."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from itembank.bank.schema import OpenResponse
from itembank.bank.validation import load_bank
from itembank.paper.booklet_assembly import assemble_booklet, render_fragment
from itembank.paper.booklet_set import render_set
from itembank.paper.design import make_design
from itembank.paper.render import render_booklet
from tests.conftest import TEST_UNITS


@pytest.fixture(scope="module")
def bank():
    loaded = load_bank([TEST_UNITS])
    assert loaded.ok
    units = [u.unit for u in loaded.units[:6]]
    # T-01's open response gets 30 answer lines: its questions continue on a second page (a cue)
    first = units[0]
    long_items = [i.model_copy(update={"lines": 30}) if isinstance(i, OpenResponse) else i for i in first.items]
    units[0] = first.model_copy(update={"items": long_items})
    images = {u.unit.id: u.images for u in loaded.units[:6]}
    design = make_design(units, n_clusters=3, positions=2)
    return {u.id: u for u in units}, images, design


def _pages(pdf: bytes, tmp_path: Path, name: str) -> list[np.ndarray]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / name)], check=True)
    return [np.asarray(Image.open(p).convert("L"), dtype=np.int16) for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def _text(pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True).stdout


def _whole(bank, number: int, language: str) -> bytes:
    by_id, images, design = bank
    units = [by_id[u] for u in design.units_of(number)]
    return render_booklet(units, language, booklet_label=str(number), images=images,
                          minutes=design.stated_minutes(number))


@pytest.fixture(scope="module", params=["zh-TW", "en"])
def both(request, bank):
    language = request.param
    by_id, images, design = bank
    files = render_set(by_id, images, design, language, teacher=False, workers=1)
    number = next(b for b in design.booklets if design.units_of(b)[-1] != "T-01"
                  and "T-01" in design.units_of(b))  # T-01 inside, questions numbered after another unit's
    name = f"booklet-{number:02d}-{language}.pdf"
    return language, number, files[name], _whole(bank, number, language)


def test_assembled_pages_are_the_whole_booklets_pixels(both, tmp_path) -> None:
    _language, _number, assembled, whole = both
    new, old = _pages(assembled, tmp_path, "new"), _pages(whole, tmp_path, "old")
    assert len(new) == len(old) >= 4
    for k, (a, b) in enumerate(zip(new, old, strict=True)):
        assert a.shape == b.shape
        assert int(np.abs(a - b).max()) == 0, f"page {k + 1} differs"


def test_assembled_text_numbers_and_cues(both, bank, tmp_path) -> None:
    language, number, assembled, whole = both
    _by_id, _images, design = bank
    layout_new = _text(assembled, tmp_path, "-layout")
    assert layout_new == _text(whole, tmp_path, "-layout")  # every word where it was on its page
    word = {"en": r"Question (\d+)", "zh-TW": r"第 ?(\d+) ?題"}[language]
    numbers = [int(n) for n in re.findall(word + r" +T-0\d-Q\d", layout_new)]
    n_items = sum(len(_by_id[u].items) for u in design.units_of(number))
    assert numbers == list(range(1, n_items + 1))
    cue = {"en": "Unit T-01 (continued)", "zh-TW": "題組 T-01（續）"}[language]
    assert cue in layout_new
    raw = _text(assembled, tmp_path, "-raw")
    end = {"en": "End of the booklet", "zh-TW": "題本到此結束"}[language]
    assert end in raw


def test_assembled_outline_destinations_and_metadata(both) -> None:
    _language, _number, assembled, whole = both
    with pikepdf.open(io.BytesIO(assembled)) as new, pikepdf.open(io.BytesIO(whole)) as old:
        def outline(pdf: pikepdf.Pdf) -> list[tuple[int, str, int]]:
            pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
            rows: list[tuple[int, str, int]] = []

            def walk(items, depth: int) -> None:
                for item in items:
                    rows.append((depth, item.title, pages[item.destination[0].objgen]))
                    walk(item.children, depth + 1)

            with pdf.open_outline() as o:
                walk(o.root, 0)
            return rows

        assert outline(new) == outline(old) and len(outline(new)) >= 4

        def dests(pdf: pikepdf.Pdf) -> dict[str, tuple[int, list[float]]]:
            pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
            names = pdf.Root.Names.Dests.Names
            return {str(names[i]): (pages[names[i + 1][0].objgen], [round(float(v), 2) for v in names[i + 1][2:]])
                    for i in range(0, len(names), 2)}

        assert dests(new) == dests(old)
        assert new.Root.Lang == old.Root.Lang
        assert str(new.docinfo.Title) == str(old.docinfo.Title)


def test_every_font_embedded_and_named_once(both, tmp_path) -> None:
    _language, _number, assembled, _whole = both
    path = tmp_path / "fonts.pdf"
    path.write_bytes(assembled)
    rows = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert any("Noto-Serif-CJK-TC" in r for r in rows)
    for row in rows:
        assert row.split()[-5] == "yes", row
    with pikepdf.open(io.BytesIO(assembled)) as pdf:
        programs: dict[str, set[tuple[int, int]]] = {}
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                program = obj.get("/FontFile3") or obj.get("/FontFile2")
                programs.setdefault(str(obj.FontName), set()).add(program.objgen)
    assert all(len(refs) == 1 for refs in programs.values()), programs  # one subset, one name


def _programs_per_font(pdf_bytes: bytes) -> dict[str, set[tuple[int, int]]]:
    """Font name without its subset tag → the embedded programs of that font."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        programs: dict[str, set[tuple[int, int]]] = {}
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                program = obj.get("/FontFile3") or obj.get("/FontFile2")
                programs.setdefault(str(obj.FontName)[8:], set()).add(program.objgen)
    return programs


def test_each_font_is_embedded_once_and_the_booklet_is_as_small_as_one_rendered_whole(both) -> None:
    """The fragments' and the frame's subsets of a font become one program (the union of their
    glyphs), so the assembled booklet is about the size of the booklet rendered whole; before,
    each fragment brought its own subsets and a zh-TW booklet was four times as large."""
    _language, _number, assembled, whole = both
    programs = _programs_per_font(assembled)
    assert "Noto-Serif-CJK-TC" in programs
    assert {name: len(refs) for name, refs in programs.items()} == dict.fromkeys(programs, 1)
    assert len(assembled) < 1.2 * len(whole), (len(assembled), len(whole))


def test_subsets_stay_apart_when_their_font_is_not_installed(bank, monkeypatch, caplog) -> None:
    """Where the original font cannot be found, each fragment keeps its own subsets (a larger
    file that prints the same), and the assembly says so in the log."""
    from itembank.paper import font_programs

    monkeypatch.setattr(font_programs, "_original", lambda subset: None)
    by_id, images, design = bank
    number = next(iter(design.booklets))
    units = [by_id[u] for u in design.units_of(number)]
    fragments = {u.id: render_fragment(u.id, [u], "zh-TW", images) for u in units}
    pdf = assemble_booklet(units, fragments, "zh-TW", images=images, booklet_label=str(number))
    assert max(len(refs) for refs in _programs_per_font(pdf).values()) > 1
    assert "its original was not found" in caplog.text


def test_one_booklet_alone_is_the_sets_bytes(bank) -> None:
    by_id, images, design = bank
    full = render_set(by_id, images, design, "en", teacher=False, workers=2)
    number = max(design.booklets)
    alone = render_set(by_id, images, design, "en", numbers=[number], teacher=False, workers=1)
    name = f"booklet-{number:02d}-en.pdf"
    assert list(alone) == [name] and alone[name] == full[name]


def test_a_booklet_whose_end_note_does_not_fit_is_rendered_whole(bank) -> None:
    by_id, images, _design = bank
    unit = by_id["T-02"]
    fragment = render_fragment("x", [unit], "en", images)
    # the last page's content ends at the bottom of the page: no room for the end note
    page = fragment.pages[unit.id][-1]
    full = type(page)(page.numbers, 980.0, page.bookmarks, page.anchors)
    squeezed = type(fragment)(fragment.key, fragment.pdf, fragment.first_page,
                              {unit.id: (*fragment.pages[unit.id][:-1], full)})
    pdf = assemble_booklet([unit], {unit.id: squeezed}, "en", images=images, booklet_label="1")
    assert pdf == render_booklet([unit], "en", booklet_label="1", images=images)
