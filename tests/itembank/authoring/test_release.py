"""Releasing a retired unit for practice, on SQLite and PostgreSQL: only a retired version, only a
reviewer or administrator, recorded in the history, and final (a released unit is never edited,
by an author or a translator)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from itembank.authoring.workflow import (
    STEPS,
    Actor,
    WorkflowError,
    editable_content,
    events,
    release,
    retire,
    save_version,
)
from itembank.bank.models import Unit
from itembank.bank.queries import latest_versions
from itembank.bank.schema import Unit as UnitSchema

TEACHER = Actor(None, "tina", "teacher")
REVIEWER = Actor(None, "rita", "reviewer")
ADMIN = Actor(None, "ada", "admin")
TRANSLATOR = Actor(None, "tran", "translator")


def test_only_a_retired_version_is_released_by_a_reviewer(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as db, db.begin():
        with pytest.raises(WorkflowError, match="only a retired version can be released; this version is approved"):
            release(db, "T-02", REVIEWER)
        retire(db, "T-02", REVIEWER)
        for actor in (TEACHER, TRANSLATOR):
            with pytest.raises(WorkflowError, match=r"may not release units"):
                release(db, "T-02", actor)
        version = STEPS["release"](db, "T-02", REVIEWER, "for the practice set")
        assert version.status == "released"
        last = events(db, "T-02")[-1]
        assert (last.from_status, last.to_status, last.username, last.comment) == (
            "retired", "released", "rita", "for the practice set")
        with pytest.raises(WorkflowError, match="this version is released"):
            release(db, "T-02", ADMIN)
        with pytest.raises(WorkflowError, match="this version is released"):
            retire(db, "T-02", ADMIN)
        assert [v.unit_id for v in latest_versions(db, ("released",))] == ["T-02"]
    with demo_bank() as db, db.begin():
        retire(db, "T-03", ADMIN)
        assert release(db, "T-03", ADMIN).status == "released"


def test_a_released_unit_is_never_edited_again(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as db, db.begin():
        retire(db, "T-02", REVIEWER)
        release(db, "T-02", REVIEWER)
        row = db.get(Unit, "T-02")
        assert row is not None
        n_versions = len(row.versions)
        content = editable_content(row.latest)
        content["title"]["en"] = "Changed"
        for actor, translator_only in ((TEACHER, False), (ADMIN, False), (TRANSLATOR, True)):
            with pytest.raises(WorkflowError, match="released for practice: its keys are public"):
                save_version(db, UnitSchema.model_validate(content), actor,
                             translator_only=translator_only)
        db.flush()
        db.refresh(row)
        assert len(row.versions) == n_versions and row.latest.status == "released"
