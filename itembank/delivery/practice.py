"""Practice tests: fixed forms built only from *released* units (retired, then released by a
reviewer: :func:`itembank.authoring.workflow.release`), whose end page shows the student their
answers beside the key, the option rationales and the coding guide's examples, in the student's
language (docs/delivery.md, "Practice tests").

A practice test is a test of kind "practice" (delivered as a fixed form: ``FIXED_FORMS``), so that
``tests.kind`` tells it apart in SQL too; :func:`is_practice` is the test for it in Python.
Its sessions never enter research data: every path that reads sessions for research (data sets
from sessions, learning-outcome results, group results, pretest counts) leaves out the tests of
:func:`practice_test_ids`.

Safety: keys are shown only of items whose stored unit version is released *and* still the unit's
latest version (a released unit is never edited again; the check is repeated here so that no other
path can lead to a key), and only for a finished session of a practice test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from itembank.bank.models import Item, ItemVersion, Unit
from itembank.bank.queries import unit_schema
from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    ShortResponse,
    SingleChoice,
)

from .models import Response, Test, TestSession
from .student_view import render_markdown

RELEASED = "released"

__all__ = [
    "is_practice",
    "not_practice",
    "practice_test_ids",
    "practice_tests_select",
    "review",
    "unit_statuses",
    "unreleased_items",
]


def is_practice(test: Test) -> bool:
    """Whether ``test`` is a practice test (a fixed form of released units)."""
    return test.kind == "practice"


def practice_test_ids(db: Session) -> set[str]:
    """The ids of every practice test."""
    return set(db.scalars(practice_tests_select()))


def practice_tests_select() -> Select[str]:
    """The ids of every practice test as a subquery, for a clause that has no session at hand."""
    return select(Test.id).where(Test.kind == "practice")


def not_practice(test_id_column: Any = TestSession.test_id) -> ColumnElement[bool]:
    """A WHERE clause keeping only rows of tests that are not practice tests (research data)."""
    return test_id_column.not_in(practice_tests_select())  # type: ignore[no-any-return]


def unit_statuses(db: Session, item_ids: Sequence[str]) -> dict[str, tuple[str, str] | None]:
    """Per item id, its unit and the status of the unit's latest version (None: no such item)."""
    units = {
        item_id: unit
        for item_id, unit in db.execute(
            select(Item.id, Unit).join(Unit, Item.unit_id == Unit.id).where(Item.id.in_(list(item_ids)))
        ).all()
    }
    return {
        item_id: (unit.id, unit.latest.status) if (unit := units.get(item_id)) and unit.versions else None
        for item_id in item_ids
    }


def unreleased_items(db: Session, item_ids: Sequence[str]) -> list[str]:
    """Why each item of ``item_ids`` that is not in a released unit cannot be practised (one
    message per item, empty when all may be)."""
    problems = []
    for item_id, found in unit_statuses(db, item_ids).items():
        if found is None:
            problems.append(f"item {item_id!r} is not in the bank")
        elif found[1] != RELEASED:
            problems.append(
                f"item {item_id!r} belongs to unit {found[0]!r}, which is {found[1]}: a practice "
                "test takes items of released units only (a reviewer releases a unit after it is "
                "retired)"
            )
    return problems


# -- the review at the end ------------------------------------------------------------------------
def _text(value: Any, language: str) -> str:
    return value.get(language) if value is not None else ""


def _choice_parts(item: Any, response: Any, language: str) -> list[dict[str, Any]]:
    chosen = {response} if isinstance(response, str) else set(response or ())
    key = {item.key} if isinstance(item, SingleChoice) else set(item.key)
    return [
        {
            "id": o.id,
            "text": o.text.get(language),
            "chosen": o.id in chosen,
            "correct": o.id in key,
            "rationale": _text(o.rationale, language) or None,
        }
        for o in item.options
    ]


def _statement_parts(item: ComplexChoice, response: Any, language: str) -> list[dict[str, Any]]:
    answers = response if isinstance(response, dict) else {}
    choices = {c.id: c.text.get(language) for c in item.choices}
    return [
        {
            "id": s.id,
            "text": s.text.get(language),
            "answer": choices.get(answers.get(s.id, ""), None),
            "key": choices[item.key[s.id]],
            "correct": answers.get(s.id) == item.key[s.id],
            "rationale": _text(s.rationale, language) or None,
        }
        for s in item.statements
    ]


def _item_review(item: Any, response: Any, score: int | None, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id,
        "type": item.type,
        "prompt_html": render_markdown(item.prompt.get(language)),
        "score": score,
        "max_score": item.max_score,
    }
    if isinstance(item, SingleChoice | MultipleChoice):
        out["options"] = _choice_parts(item, response, language)
    elif isinstance(item, ComplexChoice):
        out["statements"] = _statement_parts(item, response, language)
    elif isinstance(item, ShortResponse):
        out["answer"] = response if isinstance(response, str) else ""
        out["accepted"] = list(getattr(item.accepted, "zh_TW" if language == "zh-TW" else "en"))
    elif isinstance(item, OpenResponse):
        out["answer"] = response if isinstance(response, str) else ""
        out["guide"] = [
            {
                "code": c.code,
                "credit": str(c.credit),
                "score": c.score,
                "descriptor": c.descriptor.get(language),
                "examples": [e.get(language) for e in c.examples],
            }
            for c in item.coding_guide
        ]
    return out


def review(db: Session, ts: TestSession, language: str) -> list[dict[str, Any]]:
    """The finished practice session's units in the order given, each with its items: the
    student's answer beside the key, the rationales and (open responses) the coding guide with
    its examples, in ``language``.  Empty for a session that is open or not of a practice test;
    an item whose unit is not released (now) is left out."""
    if not is_practice(ts.test) or ts.status in ("started", "in_progress"):
        return []
    rows = db.execute(
        select(Response, ItemVersion)
        .join(ItemVersion, Response.item_version_id == ItemVersion.id)
        .where(Response.session_id == ts.id)
        .order_by(Response.sequence)
    ).all()
    units: list[dict[str, Any]] = []
    for response, item_version in rows:
        version = item_version.unit_version
        if version.status != RELEASED or version.unit.latest.id != version.id:
            continue
        unit = unit_schema(version)
        item = next((i for i in unit.items if i.id == response.item_id), None)
        if item is None:
            continue
        if not units or units[-1]["id"] != unit.id:
            units.append({"id": unit.id, "title": unit.title.get(language), "items": []})
        units[-1]["items"].append(_item_review(item, response.response, response.score, language))
    return units
