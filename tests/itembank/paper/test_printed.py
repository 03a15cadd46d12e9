"""Designs frozen when printed: printing the same design from the same versions finds the same
saved version; approving a new version of one of its units (with another key) changes neither the
saved design nor the scoring of paper answers for it; printing after the change saves a new
version.  On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.authoring.workflow import Actor, approve, editable_content, save_version, submit
from itembank.bank.models import Unit as UnitRow
from itembank.bank.schema import OpenResponse, SingleChoice, Unit
from itembank.paper import printed
from itembank.paper.booklet_set import approved_units
from itembank.paper.design import design_document, make_design
from itembank.paper.models import PrintedDesign
from itembank.paper.paper_responses import score_answers

AUTHOR = Actor(None, "tina", "teacher")
REVIEWER = Actor(None, "rita", "reviewer")


def change_key(session: Session, unit_id: str, item_id: str) -> str:
    """Approve a new version of ``unit_id`` whose item ``item_id`` has another key; the new key."""
    content = editable_content(session.get(UnitRow, unit_id).latest)
    item = next(i for i in content["items"] if i["id"] == item_id)
    item["key"] = next(o["id"] for o in item["options"] if o["id"] != item["key"])
    assert save_version(session, Unit.model_validate(content), AUTHOR).version is not None
    submit(session, unit_id, AUTHOR)
    approve(session, unit_id, REVIEWER)
    return str(item["key"])


def first_single_choice(units: list[Unit], ids: list[str]) -> tuple[str, SingleChoice]:
    by_id = {u.id: u for u in units}
    for unit_id in ids:
        for item in by_id[unit_id].items:
            if isinstance(item, SingleChoice):
                return unit_id, item
    raise AssertionError("no single-choice item in booklet 1")


def answers_file(tmp_path: Path, header: list[str], booklet: int, cells: dict[str, str]) -> Path:
    path = tmp_path / "ANSWERS.csv"
    row = ["p-1", str(booklet), *(cells.get(h, "") for h in header)]
    path.write_text(",".join(["person_id", "booklet", *header]) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    return path


def test_printing_again_finds_the_same_version(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as session, session.begin():
        bank = approved_units(session)
        design = make_design(bank.units, 4, 2)
        first = printed.freeze(session, design, bank)
        again = printed.freeze(session, make_design(bank.units, 4, 2), approved_units(session))
        assert again.id == first.id and first.version == 1
        assert session.scalar(select(func.count()).select_from(PrintedDesign)) == 1
        assert design_document(printed.design_of(first)) == design_document(design)


def test_approving_a_unit_after_printing_changes_neither_the_design_nor_its_scoring(
    demo_bank: sessionmaker[Session], tmp_path: Path
) -> None:
    with demo_bank() as session, session.begin():
        bank = approved_units(session)
        design = make_design(bank.units, 4, 2)
        unit_id, item = first_single_choice(bank.units, design.units_of(1))
        frozen = printed.freeze(session, design, bank)
        frozen_id, pins = frozen.id, dict(frozen.pins)
        old_key = item.key
        new_key = change_key(session, unit_id, item.id)
        assert new_key != old_key

    with demo_bank() as session, session.begin():
        row = session.get(PrintedDesign, frozen_id)
        assert row is not None and row.pins == pins and row.version == 1
        # the saved design still holds the version printed, with its key
        then = printed.pinned_bank(session, row)
        assert then.pins[unit_id] == pins[unit_id]
        printed_item = next(i for i in then.by_id[unit_id].items if i.id == item.id)
        assert isinstance(printed_item, SingleChoice) and printed_item.key == old_key
        # a paper answer with the printed key scores as right against the printed design ...
        header = [i.id for u in design.unit_ids() for i in then.by_id[u].items]
        coded = {i.id: "9" for u in design.units_of(1) for i in then.by_id[u].items if isinstance(i, OpenResponse)}
        path = answers_file(tmp_path, header, 1, {**coded, item.id: old_key})
        scored = score_answers(path, printed.design_of(row), then.units)
        assert scored.scores[0, header.index(item.id)] == 1
        # ... and would be wrong against today's bank, where the key has changed
        today = approved_units(session)
        assert today.pins[unit_id]["unit_version"] != pins[unit_id]["unit_version"]
        assert score_answers(path, design, today.units).scores[0, header.index(item.id)] == 0
        # printing the same design now saves a new version, pinned to the new unit version
        again = printed.freeze(session, make_design(today.units, 4, 2), today)
        assert again.id != frozen_id and again.version == 2 and again.name == row.name
        assert again.pins[unit_id]["unit_version"] == today.pins[unit_id]["unit_version"]
