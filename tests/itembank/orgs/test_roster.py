"""Roster import (all or nothing, errors with ROW:COLUMN) and forgetting a student, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from itembank.cli import main
from itembank.delivery.forget import forget_student
from itembank.delivery.models import TestSession
from itembank.errors import ProblemsError
from itembank.orgs.models import City, School, SchoolClass, Student
from itembank.orgs.roster import import_roster, parse_roster

HEADER = "city,school,class,student_id,name,grade,language,gender\n"
ROSTER = HEADER + (
    "taipei,tp-001,801,S001,王小明,8,zh-TW,male\n"
    "taipei,tp-001,801,S002,陳怡君,8,zh-TW,female\n"
    "taipei,tp-001,802,S003,Nguyễn Thị Lan,8,zh-TW,female\n"
    "taipei,tp-002,901,S001,林大同,9,zh-TW,\n"
    "penang,pg-010,F2A,S001,Siti Aminah,8,en,female\n"
)


def problems(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        parse_roster(text.encode("utf-8"), "ROSTER.csv")
    return [str(p) for p in caught.value.problems]


def test_duplicate_student_id_within_a_school() -> None:
    text = ROSTER + "taipei,tp-001,802,S002,Someone,8,en,\n"
    assert problems(text) == ["ROSTER.csv:7:4: student id 'S002' is already used on row 3 for school 'tp-001'; "
                              "ids must be unique within a school"]


def test_unknown_language_missing_cell_ragged_row_all_at_once() -> None:
    text = HEADER + ("taipei,tp-001,801,S001,A,8,fr,\n"
                     "taipei,,801,S002,B,8,en,\n"
                     "taipei,tp-001,801,S003,C,8\n")
    assert problems(text) == [
        "ROSTER.csv:2:7: unknown language 'fr'; use one of zh-TW, en",
        "ROSTER.csv:3:2: school is empty; every student needs a school",
        "ROSTER.csv:4:7: this row has 6 cells but the header has 8; check for a missing or extra comma",
    ]


def test_bad_header_and_bad_values() -> None:
    header_problems = problems("city,school,klass\n")
    assert ("ROSTER.csv:1:3: unknown column 'klass'; the columns are "
            "city,school,class,student_id,name,grade,language,gender") in header_problems
    assert "ROSTER.csv:1:1: column 'student_id' is missing; the columns are " \
           "city,school,class,student_id,name,grade,language,gender" in header_problems
    text = HEADER + "taipei,tp-001,801,S001,A,13,en,robot\n"
    assert problems(text) == ["ROSTER.csv:2:6: grade '13' is not a school grade from 1 to 12",
                              "ROSTER.csv:2:8: gender 'robot': use M/F, male/female, 男/女, other, or leave it empty"]
    assert problems("") == ["ROSTER.csv:1:1: the roster is empty; the first row must be "
                            "city,school,class,student_id,name,grade,language,gender"]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_import_adds_moves_and_keeps_history(session_factory) -> None:
    with session_factory() as s, s.begin():
        totals = import_roster(s, ROSTER.encode(), "ROSTER.csv")
    assert totals.as_dict() == {"cities": 2, "schools": 3, "classes": 4, "students": 5}
    with session_factory() as s:
        kinds = dict(s.execute(select(City.code, City.kind)).all())
        assert kinds == {"taipei": "home", "penang": "partner"}
        lan = s.scalars(select(Student).where(Student.student_id == "S003")).one()
        assert lan.name == "Nguyễn Thị Lan" and lan.key.startswith("s-")
    moved = ROSTER.replace("taipei,tp-001,801,S002,陳怡君", "taipei,tp-001,802,S002,陳怡君") + \
        "taipei,tp-001,803,S004,New,8,en,other\n"
    with session_factory() as s, s.begin():
        totals = import_roster(s, moved.encode(), "ROSTER.csv")
    assert totals.as_dict() == {"cities": 2, "schools": 3, "classes": 5, "students": 6}
    with session_factory() as s:
        student = s.scalars(select(Student).join(School).where(School.code == "tp-001",
                                                               Student.student_id == "S002")).one()
        assert student.school_class.name == "802"


def test_bad_roster_writes_nothing(session_factory) -> None:
    bad = ROSTER + "taipei,tp-001,801,S001,Dup,8,en,\n"
    with pytest.raises(ProblemsError), session_factory() as s, s.begin():
        import_roster(s, bad.encode(), "ROSTER.csv")
    with session_factory() as s:
        assert count(s, City) == count(s, School) == count(s, SchoolClass) == count(s, Student) == 0


def test_school_admin_upload_limited_to_own_school(session_factory) -> None:
    with session_factory() as s, s.begin():
        import_roster(s, ROSTER.encode(), "ROSTER.csv")
    with session_factory() as s:
        own = s.scalars(select(School).where(School.code == "tp-002")).one().id
    with pytest.raises(ProblemsError) as caught, session_factory() as s, s.begin():
        import_roster(s, ROSTER.encode(), "ROSTER.csv", school_id=own)
    assert "ROSTER.csv:2:1: school 'tp-001' of 'taipei' is not your school (tp-002 of taipei)" in str(caught.value)


def test_forget_removes_personal_data_keeps_responses(session_factory) -> None:
    from itembank.delivery.models import Test

    with session_factory() as s, s.begin():
        import_roster(s, ROSTER.encode(), "ROSTER.csv")
        student = s.scalars(select(Student).where(Student.name == "王小明")).one()
        s.add(Test(id="t1", title={"zh-TW": "測驗", "en": "Test"}, kind="fixed", access_code="X"))
        s.flush()
        s.add(TestSession(id="sess1", test_id="t1", student_key="S001", student_ref=student.id,
                          class_id=student.class_id, language="zh-TW", token_hash="0" * 64, seed=1))
    with session_factory() as s, s.begin():
        key = forget_student(s, "tp-001:S001")
    with session_factory() as s:
        student = s.scalars(select(Student).where(Student.key == key)).one()
        assert student.name is None and student.gender is None and "S001" not in student.student_id
        session = s.get(TestSession, "sess1")
        assert session.student_key == key and session.class_id == student.class_id


def test_cli_roster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    runner = CliRunner()
    path = tmp_path / "ROSTER.csv"
    path.write_text(ROSTER, encoding="utf-8")
    result = runner.invoke(main, ["roster", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"cities": 2, "schools": 3, "classes": 4, "students": 5}
    path.write_text(ROSTER + "taipei,tp-001,801,S001,Dup,8,en,\n", encoding="utf-8")
    result = runner.invoke(main, ["roster", "import", str(path), "--json"])
    assert result.exit_code == 1
    assert f"{path}:7:4: student id 'S001' is already used on row 2" in result.output
    result = runner.invoke(main, ["roster", "forget", "pg-010:S001"])
    assert result.exit_code == 0 and "pseudonym s-" in result.output
    result = runner.invoke(main, ["roster", "forget", "nobody"])
    assert result.exit_code == 1 and "no student 'nobody'" in result.output


def test_gender_codes_of_school_systems_are_accepted() -> None:
    from itembank.orgs.roster import parse_roster

    codes = ["M", "f", "Male", "FEMALE", "男", "女", "", "other"]
    text = HEADER + "".join(f"taipei,tp-001,801,G{i},A,8,en,{g}\n" for i, g in enumerate(codes))
    rows = parse_roster(text.encode(), "ROSTER.csv")
    assert [r.gender for r in rows] == ["male", "female", "male", "female", "male", "female", None,
                                        "other"]


def test_problems_carry_their_kind_and_values_for_a_translation() -> None:
    from itembank.orgs.roster import RosterProblem, parse_roster

    with pytest.raises(ProblemsError) as caught:
        parse_roster((HEADER + "taipei,tp-001,801,S001,A,13,en,robot\n").encode(), "R.csv")
    found = {(p.line, p.column, p.kind): p.params for p in caught.value.problems
             if isinstance(p, RosterProblem)}
    assert found == {(2, 6, "grade"): {"value": "13"}, (2, 8, "gender"): {"value": "robot"}}


def test_an_import_with_passwords_gives_each_student_one_once(session_factory) -> None:
    from itembank.orgs.student_passwords import card_password, password_matches

    with session_factory() as s, s.begin():
        totals = import_roster(s, ROSTER.encode(), "ROSTER.csv", passwords=True)
        assert totals.passwords == 5
    with session_factory() as s, s.begin():
        student = s.scalars(select(Student).where(Student.name == "王小明")).one()
        first = card_password(student)
        assert first is not None and len(first) == 9 and first[4] == "-"
        assert password_matches(student.password_hash, first.lower().replace("-", " "))
        assert not password_matches(student.password_hash, "ABCD-EFGH")
        assert import_roster(s, ROSTER.encode(), "ROSTER.csv", passwords=True).passwords == 0
    with session_factory() as s:
        student = s.scalars(select(Student).where(Student.name == "王小明")).one()
        assert card_password(student) == first  # printed again: the same password


def test_cli_login_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    import subprocess

    from itembank.db import make_engine, session_factory
    from itembank.orgs.student_passwords import card_password

    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    runner = CliRunner()
    path = tmp_path / "ROSTER.csv"
    path.write_text(ROSTER, encoding="utf-8")
    result = runner.invoke(main, ["roster", "import", str(path)])
    assert result.exit_code == 0 and "5 students got a sign-in password" in result.output
    result = runner.invoke(main, ["test", "create", "t-801", "--code", "T801-SPRING",
                                  "--title", "Class 801"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "cards.pdf"
    result = runner.invoke(main, ["roster", "cards", "tp-001:801", "--out", str(out), "--test", "t-801",
                                  "--url", "https://test.example.edu.tw", "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 login cards" in result.output and "(0 new passwords)" in result.output
    text = "".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            passwords = [card_password(st) for st in s.scalars(
                select(Student).where(Student.name.in_(["王小明", "陳怡君"])))]
    finally:
        engine.dispose()
    assert all(p and p in text for p in passwords)
    assert "王小明" in text and "T801SPRING" in text and "https://test.example.edu.tw/?test=t-801" in text
    assert "林大同" not in text  # class 901 of another school
    result = runner.invoke(main, ["roster", "cards", "tp-001:801", "--out", str(out), "--new-passwords"])
    assert result.exit_code == 0 and "(2 new passwords)" in result.output
    for bad in ("nowhere:801", "801"):
        result = runner.invoke(main, ["roster", "cards", bad, "--out", str(out)])
        assert result.exit_code == 1 and ("no class" in result.output or "SCHOOL:CLASS" in result.output)
