"""A set's booklets assembled from unit fragments laid out once per set.

A unit starts on a new page and prints the same in every booklet but for its question numbers
(numbered through the booklet) and the page margin boxes (running header and footer, "page /
pages", the continuation cue with the page the unit starts on).  So a cluster's units are laid out
and drawn once per set as a *fragment* (:func:`render_fragment`: margin boxes off, question numbers
laid out but not drawn), and each booklet gets a *frame* (:func:`assemble_booklet`), a WeasyPrint
document of the booklet's own parts: its cover, one empty page per unit page carrying the margin
boxes, the question numbers at the places the fragment's layout gives and the end note, then its
answer sheet.  The fragment's pages go under the frame's (pikepdf: each as a form XObject drawn
before the frame's content, the order in which WeasyPrint draws a page's body and its margin
boxes).  The frame takes the fragments' bookmarks and anchors, so WeasyPrint writes the booklet's
outline and named destinations as for a booklet rendered whole.

The pages look like :func:`itembank.paper.render.render_booklet`'s (compared pixel by pixel in
``tests/itembank/paper/test_booklet_assembly.py``).  Each fragment brings its own font subsets
(renamed per fragment, :func:`_rename_subsets`); :mod:`.font_programs` then replaces each font's
subsets with one holding all their glyphs, so a booklet is about as large as one rendered whole.
In the content streams the question numbers come after the page's body text.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from itembank.bank.schema import LocalText, Unit

from .font_programs import share_font_programs
from .render import fragment_html, frame_html, layout, render_booklet


class AssemblyError(RuntimeError):
    """A fragment's layout is not what the assembly needs (a bug, not bad input)."""


@dataclass(frozen=True)
class FragmentPage:
    """One page of a unit in a fragment: where its question numbers go (question index in the
    unit, x, y in CSS px from the page's content box), the bottom of its last box (``bottom``,
    same origin), and what WeasyPrint records of it for the outline and the named destinations."""

    numbers: tuple[tuple[int, float, float], ...]
    bottom: float | None
    bookmarks: tuple[Any, ...]
    anchors: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Fragment:
    """Units laid out and drawn once: the PDF, and per unit its first page in it and its pages."""

    key: str
    pdf: bytes
    first_page: Mapping[str, int]
    pages: Mapping[str, tuple[FragmentPage, ...]] = field(default_factory=dict)


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def _classes(box: Any) -> list[str]:
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []


def _page_boxes(page: Any) -> tuple[Any, float, float]:
    box = page._page_box  # WeasyPrint's laid-out page (no public accessor)
    return box, box.content_box_x(), box.content_box_y()


def render_fragment(key: str, units: Sequence[Unit], language: str,
                    images: Mapping[str, Mapping[str, bytes]]) -> Fragment:
    """Lay out and draw ``units`` (each on its new page) once, and read from the layout what
    every booklet's frame needs."""
    document = layout(fragment_html(units, language, images=images))
    first_page: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for unit in units:
            if f"unit-{unit.id}" in page.anchors:
                first_page.setdefault(unit.id, index)
    if len(first_page) != len(units):
        raise AssemblyError(f"fragment {key}: units without a first page: "
                            f"{sorted({u.id for u in units} - set(first_page))}")
    ends = [first_page[u.id] for u in units[1:]] + [len(document.pages)]
    pages: dict[str, tuple[FragmentPage, ...]] = {}
    for unit, end in zip(units, ends, strict=True):
        unit_pages = []
        numbered = 0
        for index in range(first_page[unit.id], end):
            page = document.pages[index]
            root, x0, y0 = _page_boxes(page)
            numbers = []
            seen: set[int] = set()
            section = None
            for box in _boxes(root):
                element = getattr(box, "element", None)
                if element is None:
                    continue
                if "item-number" in _classes(box) and id(element) not in seen:
                    seen.add(id(element))
                    numbers.append((numbered, box.content_box_x() - x0, box.content_box_y() - y0))
                    numbered += 1
                elif element.get("id") == f"unit-{unit.id}" and section is None:
                    section = box
            bottom = None
            if section is not None and getattr(section, "children", None):
                last = section.children[-1]
                bottom = last.border_box_y() + last.border_height() - y0
            unit_pages.append(FragmentPage(tuple(numbers), bottom, tuple(page.bookmarks),
                                           tuple(page.anchors.items())))
        if numbered != len(unit.items):
            raise AssemblyError(f"fragment {key}: unit {unit.id} has {len(unit.items)} questions, "
                                f"its layout {numbered} question numbers")
        pages[unit.id] = tuple(unit_pages)
    return Fragment(key, _rename_subsets(document.write_pdf(), key), first_page, pages)


def _rename_subsets(pdf: bytes, key: str) -> bytes:
    """The fragment with its font subsets' tags (``ABCDEF+`` in ``/BaseFont`` and ``/FontName``)
    made its own: WeasyPrint tags a font by the font, not by the glyphs kept, and a booklet holds
    several fragments' subsets of one font, which must not share a name."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for obj in doc.objects:
            if not isinstance(obj, pikepdf.Dictionary):
                continue
            for name in ("/BaseFont", "/FontName"):
                value = obj.get(name)
                if isinstance(value, pikepdf.Name) and str(value)[7:8] == "+":
                    tag = hashlib.sha256(f"{key}\0{value}".encode()).digest()
                    letters = "".join(chr(ord("A") + b % 26) for b in tag[:6])
                    obj[name] = pikepdf.Name(f"/{letters}{str(value)[7:]}")
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
    return out.getvalue()


def assemble_booklet(units: Sequence[Unit], fragments: Mapping[str, Fragment], language: str, *,
                     images: Mapping[str, Mapping[str, bytes]],
                     test_name: str | LocalText | None = None, booklet_label: str = "",
                     design_label: str = "", minutes: float | None = None) -> bytes:
    """The booklet of ``units`` (in print order) from their fragments (unit id → the fragment
    that holds it): the pages of :func:`~itembank.paper.render.render_booklet` with the same
    arguments.  Where the end note does not fit under the last unit (it would take the last
    question with it to a new page), the booklet is rendered whole instead."""
    import pikepdf

    frame_pages: dict[str, list[dict[str, Any]]] = {
        u.id: [{"numbers": list(p.numbers), "end_at": None} for p in fragments[u.id].pages[u.id]] for u in units
    }
    if units:
        last_page = fragments[units[-1].id].pages[units[-1].id][-1]
        if last_page.bottom is None:
            raise AssemblyError(f"unit {units[-1].id}: no box on its last page")
        frame_pages[units[-1].id][-1]["end_at"] = last_page.bottom
    document = layout(frame_html(units, language, frame_pages, test_name=test_name, booklet_label=booklet_label,
                                 design_label=design_label, minutes=minutes))
    starts = {}
    for index, page in enumerate(document.pages):
        for unit in units:
            if f"unit-{unit.id}" in page.anchors:
                starts[unit.id] = index
    end_page = next((i for i, page in enumerate(document.pages) for box in _boxes(_page_boxes(page)[0])
                     if "end-note" in _classes(box)), None)
    expected, position = [], starts.get(units[0].id, -1) if units else 0
    for unit in units:
        expected.append(position)
        position += len(frame_pages[unit.id])
    if units and ([starts.get(u.id) for u in units] != expected or end_page != position - 1):
        return render_booklet(units, language, test_name=test_name, booklet_label=booklet_label,
                              images=images, design_label=design_label, minutes=minutes)
    for unit in units:
        for k, page in enumerate(fragments[unit.id].pages[unit.id]):
            target = document.pages[starts[unit.id] + k]
            target.bookmarks = [*page.bookmarks, *target.bookmarks]
            target.anchors.update(dict(page.anchors))
    frame = pikepdf.open(io.BytesIO(document.write_pdf()))
    sources: dict[str, pikepdf.Pdf] = {}
    try:
        for unit in units:
            fragment = fragments[unit.id]
            if fragment.key not in sources:
                sources[fragment.key] = pikepdf.open(io.BytesIO(fragment.pdf))
            source = sources[fragment.key]
            first = fragment.first_page[unit.id]
            for k in range(len(fragment.pages[unit.id])):
                _underlay(frame, starts[unit.id] + k, source.pages[first + k])
        share_font_programs(frame)
        out = io.BytesIO()
        frame.save(out, deterministic_id=True)
        return out.getvalue()
    finally:
        for source in sources.values():
            source.close()
        frame.close()


def _underlay(frame: Any, index: int, under: Any) -> None:
    """Draw ``under`` (a page of the same size, from another PDF) before the content of the
    frame's page ``index``.  (pikepdf's ``add_underlay`` names the form XObject at random, and a
    set must be the same bytes every time; WeasyPrint's pages share one resource dictionary, so
    each page's fragment gets a name of its own.)"""
    import pikepdf

    page = frame.pages[index]
    name = pikepdf.Name(f"/ItembankFragment{index}")  # WeasyPrint's own are /x0, /x1, ...
    page.add_resource(frame.copy_foreign(under.as_form_xobject()), pikepdf.Name.XObject, name)
    page.contents_add(pikepdf.Stream(frame, f"q {name} Do Q\n".encode()), prepend=True)
