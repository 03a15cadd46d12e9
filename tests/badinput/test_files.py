"""Malformed files at every reader of the bank's inputs (hypothesis): unit YAML, response CSVs,
roster CSVs and QTI packages.  Each either reads or raises a typed error with a place
(:class:`itembank.errors.ItembankError`, problems as FILE:LINE:COLUMN); never another exception,
and an import that fails writes nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.responses_csv import read_responses
from itembank.bank.validation import load_bank, parse_unit_text
from itembank.errors import ItembankError, Problem, ProblemsError
from itembank.orgs.roster import import_roster, parse_roster
from itembank.qti.read import read_qti_package

TEST_UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
GOOD_UNIT = sorted(TEST_UNITS.glob("*.yaml"))[0].read_text("utf-8")
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# YAML-ish text: structure characters, keys of the unit format, odd unicode, tabs, anchors.
yaml_text = st.lists(
    st.sampled_from(list("abc:- \n\t'\"{}[]&*!|>#%@`,?0123456789")
                    + ["id: ", "items:", "stimulus:", "zh-TW: ", "en: ", "type: ",
                       "single_choice", "options:", "key: ", "\u4e2d", "\x00", "\ufeff"]),
    max_size=120,
).map("".join)


def _mutations(text: str) -> st.SearchStrategy[str]:
    """The good unit with a slice cut out, a slice repeated, or a random line replaced."""
    n = len(text)
    lines = text.splitlines()
    return st.one_of(
        st.tuples(st.integers(0, n), st.integers(0, n)).map(
            lambda ab: text[: min(ab)] + text[max(ab):]),
        st.tuples(st.integers(0, n), st.integers(0, 200)).map(
            lambda ab: text[: ab[0]] + text[ab[0]: ab[0] + ab[1]] * 2 + text[ab[0] + ab[1]:]),
        st.tuples(st.integers(0, len(lines) - 1), yaml_text).map(
            lambda iv: "\n".join(lines[: iv[0]] + [iv[1]] + lines[iv[0] + 1:])),
    )


def _check_problems(problems: list[Problem], name: str) -> None:
    for p in problems:
        assert isinstance(p, Problem) and p.file.startswith(name) and p.message.strip()
        assert p.line >= 0 and p.column >= 0
        assert "Traceback" not in p.message


@FAST
@given(st.one_of(yaml_text, _mutations(GOOD_UNIT), st.binary(max_size=300)))
def test_malformed_unit_yaml_gives_problems_with_places(raw: str | bytes) -> None:
    unit, _doc, problems = parse_unit_text(raw, "unit.yaml")
    assert (unit is None) == bool(problems) or unit is not None
    if unit is None:
        assert problems, "a unit that did not parse must say why"
    _check_problems(problems, "unit.yaml")


@FAST
@given(st.lists(st.one_of(yaml_text, _mutations(GOOD_UNIT)), min_size=1, max_size=3))
def test_load_bank_over_malformed_files_reports_and_never_raises(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("bank")
    for i, text in enumerate(texts):
        (folder / f"U{i}.yaml").write_text(text, "utf-8", errors="surrogatepass")
    bank = load_bank([folder])
    _check_problems(bank.problems, str(folder))


csv_cell = st.one_of(
    st.sampled_from(["", "0", "1", "2", "-1", "1.5", "x", "NaN", "1e9", " 1 ", '"', "\n", "\u4e2d"]),
    st.text(max_size=6),
)


@FAST
@given(st.lists(st.lists(csv_cell, max_size=6), max_size=8), st.booleans())
def test_malformed_response_csvs_raise_datafileerror(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], header: bool
) -> None:
    path = tmp_path_factory.mktemp("csv") / "RESPONSES.csv"
    if header:
        rows = [["person_id", "I1", "I2", "I1"][: len(rows[0]) if rows else 2], *rows]
    path.write_text("\n".join(",".join(r) for r in rows), "utf-8", errors="surrogatepass")
    try:
        data = read_responses(path)
    except ItembankError as exc:
        _check_problems(exc.problems if isinstance(exc, ProblemsError) else [], str(path))
        assert str(exc).strip()
    else:
        assert len(data.person_ids) == len(set(data.person_ids))


@FAST
@given(st.binary(max_size=200))
def test_response_csv_of_random_bytes(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "RESPONSES.csv"
    path.write_bytes(raw)
    try:
        read_responses(path)
    except ItembankError as exc:
        assert str(exc).strip()


ROSTER_HEADER = "city,school,class,student_id,name,grade,language,gender"


@FAST
@given(st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(csv_cell, max_size=9), max_size=6).map(
        lambda rows: "\n".join([ROSTER_HEADER, *(",".join(r) for r in rows)]).encode(
            "utf-8", "surrogatepass")),
))
def test_malformed_rosters_raise_problems(raw: bytes) -> None:
    try:
        rows = parse_roster(raw, "roster.csv")
    except ProblemsError as exc:
        _check_problems(exc.problems, "roster.csv")
    else:
        assert all(r.student_id.strip() for r in rows)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in dict(members).items():  # one member per name
            archive.writestr(name, data)
    return buffer.getvalue()


odd_names = st.sampled_from([
    "imsmanifest.xml", "../evil.xml", "/abs/item.xml", "a/../../b.xml", "items\\win.xml",
    "\u4e2d\u6587/item.xml", "item.xml\x00.png", " ", "a" * 300 + ".xml", "./imsmanifest.xml",
    "items/item.xml", "IMSMANIFEST.XML",
])
xmlish = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"<manifest/>", b"<?xml version='1.0'?><assessmentItem/>",
                     b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
                     b"<qti-assessment-item xmlns='http://www.imsglobal.org/xsd/imsqtiasi_v3p0'/>",
                     b"<manifest><resources><resource href='nowhere.xml'/></resources></manifest>"]),
)


@FAST
@given(st.one_of(
    st.binary(max_size=400),
    st.lists(st.tuples(odd_names, xmlish), min_size=1, max_size=4).map(_zip),
    st.lists(st.tuples(odd_names, xmlish), min_size=1, max_size=4).map(_zip).flatmap(
        lambda z: st.integers(1, max(1, len(z) - 1)).map(lambda n: z[:n])),  # truncated
))
def test_hostile_qti_packages_raise_problems(raw: bytes) -> None:
    try:
        bank = read_qti_package(raw, "package.zip")
    except ItembankError as exc:
        assert str(exc).strip()
        if isinstance(exc, ProblemsError):
            _check_problems(exc.problems, "package.zip")
    else:
        assert bank.units == [] or bank.problems == [] or bank.problems
        for p in bank.problems:
            assert "/etc/passwd" not in p.message and "root:" not in p.message


# -- an import that fails writes nothing -----------------------------------------------------------
def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    from itembank.orgs.models import City, School, SchoolClass, Student

    with factory() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (City, School, SchoolClass, Student)}


def test_a_roster_with_one_bad_row_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    good = [f"Taipei,School A,7A,S{i},Name {i},7,zh-TW,female" for i in range(20)]
    assert len(parse_roster("\n".join([ROSTER_HEADER, *good]).encode(), "ok.csv")) == 20
    before = _counts(session_factory)
    for bad in ("Taipei,School A,7A,,No id,7,zh-TW,female", "Taipei,School A,7A,S1,Twice,7,zh-TW,female",
                "Taipei,School A,7A,S99,Name,seven,zh-TW,f", "\x00\x01"):
        data = "\n".join([ROSTER_HEADER, *good, bad]).encode()
        with pytest.raises(ProblemsError):
            with session_factory() as s, s.begin():
                import_roster(s, data, "roster.csv")
        assert _counts(session_factory) == before


def test_importing_a_bank_with_one_broken_unit_writes_nothing(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    from itembank.bank.importer import import_paths
    from itembank.bank.models import Unit

    for path in TEST_UNITS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    broken = yaml.safe_load(GOOD_UNIT)
    broken["id"] = "ZZ-BROKEN"
    broken["items"][0]["type"] = "no_such_type"
    (tmp_path / "ZZ-BROKEN.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), "utf-8")
    with pytest.raises(ItembankError):
        with session_factory() as s, s.begin():
            import_paths(s, [tmp_path])
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == 0
