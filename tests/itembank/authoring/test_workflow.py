"""The authoring workflow service: versions from edits, the steps and who may take them,
translation checks, translators' limits, parameters carried over, export after a web edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.authoring.workflow import (
    Actor,
    WorkflowError,
    approve,
    changed_texts,
    editable_content,
    local_texts,
    missing_rationales,
    open_checks,
    retire,
    return_to_draft,
    save_version,
    submit,
    verify_translation,
)
from itembank.bank.exporter import export_bank
from itembank.bank.models import Unit
from itembank.bank.queries import in_use_versions, unit_schema
from itembank.bank.schema import Unit as UnitSchema

TEACHER = Actor(None, "tina", "teacher")
OTHER_TEACHER = Actor(None, "tom", "teacher")
REVIEWER = Actor(None, "rita", "reviewer")
TRANSLATOR = Actor(None, "tran", "translator")


def _edited(session: Session, unit_id: str, change) -> UnitSchema:  # type: ignore[no-untyped-def]
    content = editable_content(session.get(Unit, unit_id).latest)
    change(content)
    return UnitSchema.model_validate(content)


def _set_prompt_zh(text: str):  # type: ignore[no-untyped-def]
    def change(content: dict) -> None:
        content["items"][0]["prompt"]["zh-TW"] = text
    return change


def test_text_paths_use_ids() -> None:
    content = {"title": {"zh-TW": "甲", "en": "A"},
               "items": [{"id": "Q1", "prompt": {"zh-TW": "問", "en": "Ask"},
                          "options": [{"id": "B", "text": {"zh-TW": "乙", "en": "B"}}]}]}
    assert set(local_texts(content)) == {"title", "items[Q1].prompt", "items[Q1].options[B].text"}
    after = {**content, "title": {"zh-TW": "丙", "en": "A"}}
    assert changed_texts(content, after) == {"title": {"zh-TW"}}


def test_edit_of_approved_unit_makes_draft_and_keeps_approved_in_use(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as session, session.begin():
        before = session.get(Unit, "T-01").latest
        assert before.status == "approved"
        result = save_version(session, _edited(session, "T-01", _set_prompt_zh("新的題目")), TEACHER)
        assert result.version is not None and result.version.version == before.version + 1
        assert result.version.status == "draft" and result.version.created_by == "tina"
        used = {v.unit_id: v.version for v in in_use_versions(session)}
        assert used["T-01"] == before.version
        # the parameters came along with the unchanged items
        assert unit_schema(result.version).items[0].irt is not None
        # the English prompt now needs verification
        checks = open_checks(session, "T-01")
        assert [(c.path, c.language, c.changed_language) for c in checks] == [
            ("items[T-01-Q1].prompt", "en", "zh-TW")]


def test_saving_unchanged_content_changes_nothing(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as session, session.begin():
        n = len(session.get(Unit, "T-01").versions)
        result = save_version(session, _edited(session, "T-01", lambda c: None), TEACHER)
        assert result.version is None
        row = session.get(Unit, "T-01")
        assert len(row.versions) == n and row.latest.status == "approved"


def test_steps_and_who_may_take_them(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as session, session.begin():
        save_version(session, _edited(session, "T-02", _set_prompt_zh("改過")), TEACHER)
        with pytest.raises(WorkflowError):
            approve(session, "T-02", REVIEWER)  # still a draft
        with pytest.raises(WorkflowError):
            submit(session, "T-02", TRANSLATOR)  # translators do not submit
        submit(session, "T-02", TEACHER, "please look")
        with pytest.raises(WorkflowError, match="may not"):
            approve(session, "T-02", OTHER_TEACHER)  # a teacher never approves
        with pytest.raises(WorkflowError, match="translation"):
            approve(session, "T-02", REVIEWER)  # the English text is not verified yet
        with pytest.raises(WorkflowError):
            return_to_draft(session, "T-02", REVIEWER, "  ")  # a return needs its reasons
        (check,) = open_checks(session, "T-02")
        with pytest.raises(WorkflowError):
            verify_translation(session, check.id, TEACHER)
        verify_translation(session, check.id, TRANSLATOR, "still right")
        assert approve(session, "T-02", REVIEWER, "good").status == "approved"
        assert retire(session, "T-02", REVIEWER, "old").status == "retired"


def test_author_cannot_approve_own_version(demo_bank: sessionmaker[Session]) -> None:
    admin = Actor(None, "ada", "admin")
    with demo_bank() as session, session.begin():
        save_version(session, _edited(session, "T-03", lambda c: c["title"].update({"zh-TW": "新", "en": "New"})), admin)
        submit(session, "T-03", admin)
        with pytest.raises(WorkflowError, match="other than its author"):
            approve(session, "T-03", admin)
        approve(session, "T-03", REVIEWER)


def test_translator_changes_texts_only(demo_bank: sessionmaker[Session]) -> None:
    with demo_bank() as session, session.begin():
        save_version(session, _edited(session, "T-01", _set_prompt_zh("新的題目")), TEACHER)
        n = len(session.get(Unit, "T-01").versions)

        def change_key(content: dict) -> None:
            content["items"][0]["key"] = ["A", "B"]

        with pytest.raises(WorkflowError, match="texts only"):
            save_version(session, _edited(session, "T-01", change_key), TRANSLATOR, translator_only=True)
        with pytest.raises(WorkflowError):
            save_version(session, _edited(session, "T-01", change_key), TRANSLATOR)  # not an author
        assert len(session.get(Unit, "T-01").versions) == n

        def translate(content: dict) -> None:
            content["items"][0]["prompt"]["en"] = "The new question"

        result = save_version(session, _edited(session, "T-01", translate), TRANSLATOR, translator_only=True)
        assert result.checks_verified == ["items[T-01-Q1].prompt (en)"] and not result.checks_raised
        assert open_checks(session, "T-01") == []


def test_changed_score_range_drops_parameters_with_a_note(demo_bank: sessionmaker[Session]) -> None:
    def rules(content: dict) -> None:
        content["items"][0]["scoring"] = [{"score": 2, "min_correct": 4}, {"score": 1, "min_correct": 3}]

    with demo_bank() as session, session.begin():
        result = save_version(session, _edited(session, "T-01", rules), TEACHER)
        assert result.notes and "recalibrate" in result.notes[0]
        assert unit_schema(result.version).items[0].irt is None


def test_web_edit_then_export_touches_only_the_edited_field(demo_bank: sessionmaker[Session], tmp_path: Path) -> None:
    with demo_bank() as session, session.begin():
        export_bank(session, tmp_path / "before")
        save_version(session, _edited(session, "T-04", _set_prompt_zh("只改這一句")), TEACHER)
        export_bank(session, tmp_path / "after")
    before = sorted(p.relative_to(tmp_path / "before") for p in (tmp_path / "before").rglob("*") if p.is_file())
    after = sorted(p.relative_to(tmp_path / "after") for p in (tmp_path / "after").rglob("*") if p.is_file())
    assert before == after
    changed = [p for p in before if (tmp_path / "before" / p).read_bytes() != (tmp_path / "after" / p).read_bytes()]
    assert changed == [Path("T-04.yaml")]
    import difflib

    old = (tmp_path / "before" / "T-04.yaml").read_text().splitlines()
    new = (tmp_path / "after" / "T-04.yaml").read_text().splitlines()
    diff = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert sorted(diff) == sorted(["-version: 1", "+version: 2", "-status: approved", "+status: draft",
                                   f"-      zh-TW: {_old_prompt(old)}", "+      zh-TW: 只改這一句"])


def _old_prompt(lines: list[str]) -> str:
    i = next(i for i, line in enumerate(lines) if line.strip() == "prompt:")
    return lines[i + 1].split("zh-TW: ", 1)[1]


def test_create_user_checks_names_roles_and_scope(session_factory: sessionmaker[Session]) -> None:
    from itembank.accounts.users import UserError

    with session_factory() as session, session.begin():
        user = create_user(session, "ada", "admin", "a long password")
        assert user.password_hash != "a long password"
        for args, field in [(("ada", "admin", "another long one"), "username"),
                            (("bob", "wizard", "a long password"), "role"),
                            (("bob", "teacher", "short"), "password")]:
            with pytest.raises(UserError) as info:
                create_user(session, *args)
            assert info.value.field == field
        with pytest.raises(UserError) as info:
            create_user(session, "bob", "teacher", "a long password", school="NOPE")
        assert info.value.field == "school"



def test_approval_needs_a_rationale_for_every_option(demo_bank: sessionmaker[Session]) -> None:
    admin = Actor(None, "ada", "admin")

    def drop_rationales(content: dict) -> None:
        for item in content["items"]:
            if item["type"] == "single_choice":
                del item["options"][1]["rationale"]
            if item["type"] == "complex_choice":
                del item["statements"][0]["rationale"]

    with demo_bank() as session, session.begin():
        edited = _edited(session, "T-04", drop_rationales)
        ids = {i.type: i.id for i in edited.items}
        assert missing_rationales(edited) == [f"{ids['single_choice']}/B", f"{ids['complex_choice']}/S1"]
        save_version(session, edited, admin)
        submit(session, "T-04", admin)
        with pytest.raises(WorkflowError, match=r"rationale .*missing: T-04-Q\d/B, T-04-Q\d/S1"):
            approve(session, "T-04", REVIEWER)
        assert session.get(Unit, "T-04").latest.status == "review"
