"""Practice tests on SQLite and PostgreSQL: built from released units only, a review of the
student's answers beside the keys, rationales and coding-guide examples in the student's language
at the end, and never research data (data sets, online calibration, outcomes, group results,
pretest counts).  Fixed forms refuse pretest seeding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.authoring.workflow import Actor, release, retire
from itembank.bank.importer import import_paths
from itembank.bank.models import ItemVersion, UnitVersion
from itembank.delivery import control, practice, pretest
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import BankUnavailableError, clear_cache, delivery_bank
from itembank.delivery.models import Test, TestAssignment
from itembank.delivery.outcomes import outcomes_by_topic
from itembank.delivery.scope import group_summaries
from itembank.demo import create_demo_content
from itembank.orgs.models import City, School, SchoolClass, Student
from itembank.research import calibration_runs, coding, datasets
from itembank.research.group_results import protection
from tests.conftest import REPO

REVIEWER = Actor(None, "rev", "reviewer")
PRACTICE_ITEMS = ["T-01-Q1", "T-01-Q2", "T-01-Q3", "T-01-Q4", "T-03-Q3"]


class _Admin:
    """A viewer who sees every session (the scope rules' administrator)."""

    id = None
    role = "admin"
    city_id = None
    school_id = None
    username = "admin"


def _release(db: Session, *unit_ids: str) -> None:
    for unit_id in unit_ids:
        retire(db, unit_id, REVIEWER)
        release(db, unit_id, REVIEWER)


def _answer(entry: Any) -> Any:
    """A wrong answer where the type allows one (the review must tell it from the key)."""
    item = entry.item
    if item.type == "single_choice":
        return next(o.id for o in item.options if o.id != item.key)
    if item.type == "multiple_choice":
        return [next(o.id for o in item.options if o.id not in item.key)]
    if item.type == "complex_choice":
        return {s.id: item.choices[0].id for s in item.statements}
    return "my answer"


@pytest.fixture
def factory(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as db, db.begin():
        create_demo_content(db)
        _release(db, "T-01", "T-03")
        delivery.create_test(
            db, id="practice", title={"zh-TW": "練習", "en": "Practice"}, access_code="PRACT1",
            kind="practice", items=PRACTICE_ITEMS, max_attempts=None,
        )  # fmt: skip
    clear_cache()
    return demo_bank


def _take(db: Session, test_id: str, code: str, student: str, language: str) -> Any:
    started = delivery.start_session(db, test_id, code, student, language)
    state = started.state
    while not state.finished:
        state = delivery.record_response(
            db, state.session.id, started.token, state.item.item.id, _answer(state.item),
            f"r{state.answered}",
        )  # fmt: skip
    return state.session


def test_a_practice_test_is_a_fixed_form_of_its_own_kind(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        test = db.get(Test, "practice")  # its kind says so in SQL too: research queries can see it
        assert test is not None and test.kind == "practice" and practice.is_practice(test)
        assert test.item_filter is None
        assert practice.practice_test_ids(db) == {"practice"}
        bank = delivery_bank(db, kind="practice", items=PRACTICE_ITEMS)
        assert list(bank.items) == PRACTICE_ITEMS
        # the same items as an operational fixed form: not deliverable (not approved any more)
        with pytest.raises(BankUnavailableError, match="not in an approved unit"):
            delivery_bank(db, kind="fixed", items=PRACTICE_ITEMS)


@pytest.mark.parametrize("items, words", [
    (["T-02-Q1"], "belongs to unit 'T-02', which is approved"),
    (["T-01-Q1", "NOPE-Q9"], "item 'NOPE-Q9' is not in the bank"),
])  # fmt: skip
def test_operational_units_are_refused_with_the_reason(
    factory: sessionmaker[Session], items: list[str], words: str
) -> None:
    with factory() as db:
        with pytest.raises(delivery.InvalidRequest, match=words):
            delivery.create_test(
                db, id="bad", title={"zh-TW": "x", "en": "x"}, access_code="BADBAD",
                kind="practice", items=items,
            )  # fmt: skip
        db.rollback()
        assert db.get(Test, "bad") is None
        # nor can an existing practice test be edited to take an operational item
        with pytest.raises(delivery.InvalidRequest, match="which is approved"):
            control.edit_test(db, "practice", REVIEWER, {"items": ["T-02-Q1"]})
        assert db.get(Test, "practice").items == PRACTICE_ITEMS  # type: ignore[union-attr]


def test_a_retired_unit_not_yet_released_is_refused(factory: sessionmaker[Session]) -> None:
    with factory() as db, db.begin():
        retire(db, "T-02", REVIEWER)
        with pytest.raises(delivery.InvalidRequest, match="which is retired"):
            delivery.create_test(
                db, id="bad2", title={"zh-TW": "x", "en": "x"}, access_code="BADBAD2",
                kind="practice", items=["T-02-Q1"],
            )  # fmt: skip


@pytest.mark.parametrize("language, words", [
    ("en", ("Why option A", "Full answer one", "Partial two", "Complete")),
    ("zh-TW", ("選項A的理由", "完整答案一", "部分答案二", "完整")),
])  # fmt: skip
def test_the_review_shows_answers_beside_keys_in_the_students_language(
    factory: sessionmaker[Session], language: str, words: tuple[str, ...]
) -> None:
    with factory() as db:
        ts = _take(db, "practice", "PRACT1", "S-1", language)
        bank = delivery_bank(db, kind="practice", items=PRACTICE_ITEMS)
        units = practice.review(db, ts, language)
        assert [u["id"] for u in units] == ["T-01", "T-03"]
        items = {i["id"]: i for u in units for i in u["items"]}
        assert list(items) == PRACTICE_ITEMS
        text = repr(units)
        for word in words:
            assert word in text
        other = "en" if language == "zh-TW" else "zh-TW"
        assert "Why option A" not in text if other == "en" else "選項A的理由" not in text
        single = bank.items["T-03-Q3"].item
        options = {o["id"]: o for o in items["T-03-Q3"]["options"]}
        assert options[single.key]["correct"] and not options[single.key]["chosen"]
        assert sum(o["chosen"] for o in options.values()) == 1
        assert items["T-03-Q3"]["score"] == 0
        assert all(o["rationale"] for o in options.values())
        statements = items["T-01-Q2"]["statements"]
        assert all(s["key"] and s["answer"] for s in statements)
        assert items["T-01-Q3"]["answer"] == "my answer" and items["T-01-Q3"]["accepted"]
        assert [c["code"] for c in items["T-01-Q4"]["guide"]][:3] == ["2", "1", "0"]


def test_no_review_while_open_or_for_an_operational_test(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        started = delivery.start_session(db, "practice", "PRACT1", "S-2", "en")
        assert practice.review(db, started.state.session, "en") == []
        delivery.create_test(
            db, id="fixed", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIXED1",
            kind="fixed", items=["T-02-Q1"],
        )  # fmt: skip
        db.commit()
        ts = _take(db, "fixed", "FIXED1", "S-3", "en")
        assert ts.status == "finished" and practice.review(db, ts, "en") == []


def test_a_unit_no_longer_released_drops_out_of_the_review(factory: sessionmaker[Session]) -> None:
    """Even if a stored status were changed behind the workflow's back, no key of a unit that is
    not released is shown."""
    with factory() as db:
        ts = _take(db, "practice", "PRACT1", "S-4", "en")
        db.execute(update(UnitVersion).where(UnitVersion.unit_id == "T-03").values(status="approved"))
        db.commit()
        assert [u["id"] for u in practice.review(db, ts, "en")] == ["T-01"]


def test_practice_sessions_never_enter_research_data(factory: sessionmaker[Session]) -> None:
    with factory() as db, db.begin():
        city = City(code="tp", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        school = School(city=city, code="s1", name={"zh-TW": "一中", "en": "School 1"})
        klass = SchoolClass(school=school, name="801", grade=8)
        for n in range(3):
            db.add(Student(key=f"k{n}", school=school, school_class=klass, student_id=f"A0{n}",
                           language="en"))
        test = db.get(Test, "practice")
        assert test is not None
        test.assignments.append(TestAssignment(school_class=klass))
    with factory() as db:
        for n in range(3):
            ts = _take(db, "practice", "PRACT1", f"A0{n}", "en")
            assert ts.class_id is not None and ts.scale_score is not None  # a result, if counted
        with pytest.raises(datasets.PracticeTestError, match="practice test"):
            datasets.dataset_from_sessions(db, "practice", name="x")
        with pytest.raises(datasets.PracticeTestError):
            datasets.sessions_matrix(db, "practice")
        with pytest.raises(datasets.PracticeTestError):
            calibration_runs.create_online_run(db, "practice", name="x")
        db.rollback()
        assert outcomes_by_topic(db, _Admin(), test_id="practice", min_group_size=1) == []
        assert protection(db, _Admin(), test_id="practice", min_group_size=1).sizes == {}
        assert group_summaries(db, _Admin(), test_id="practice", by="class", min_group_size=1) == []


def test_practice_open_responses_are_never_coded(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        assert set(db.scalars(practice.practice_tests_select())) == {"practice"}
        delivery.create_test(
            db, id="fixed", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIXED1",
            kind="fixed", items=["T-02-Q3"], max_attempts=None,
        )  # fmt: skip
        db.commit()
        assert set(db.scalars(practice.practice_tests_select())) == {"practice"}
        _take(db, "fixed", "FIXED1", "C-1", "en")  # one open response to code
        assert coding.waiting(db, viewer=_Admin()) == 1
        _take(db, "practice", "PRACT1", "C-2", "en")  # T-01-Q4 is open too: never coded
        assert coding.waiting(db, viewer=_Admin()) == 1


def test_practice_responses_do_not_count_for_pretest(demo_bank: sessionmaker[Session]) -> None:
    """Responses to a unit's item versions count for its pretest while it is approved; once it is
    released, practice answers to the same item versions are not counted."""
    with demo_bank() as db, db.begin():
        create_demo_content(db)
        versions = select(UnitVersion.id).where(UnitVersion.unit_id == "T-07")
        db.execute(update(ItemVersion).where(ItemVersion.unit_version_id.in_(versions))
                   .values(parameters_id=None))
        delivery.create_test(
            db, id="fixed7", title={"zh-TW": "x", "en": "x"}, access_code="FIXED7",
            kind="fixed", items=["T-07-Q1"], max_attempts=None,
        )  # fmt: skip
    clear_cache()
    with demo_bank() as db:
        bank = delivery_bank(db)
        unit = bank.cat.unit_ids.index("T-07")
        _take(db, "fixed7", "FIXED7", "O-1", "en")
        before = pretest.item_counts(db, bank, [unit])
        assert before["T-07-Q1"] == 1
        _release(db, "T-07")
        delivery.create_test(
            db, id="practice7", title={"zh-TW": "x", "en": "x"}, access_code="PRACT7",
            kind="practice", items=["T-07-Q1"], max_attempts=None,
        )  # fmt: skip
        db.commit()
        clear_cache()
        ts = _take(db, "practice7", "PRACT7", "P-1", "en")
        assert ts.answered == 1
        assert pretest.item_counts(db, bank, [unit]) == before


def test_fixed_forms_refuse_pretest_seeding(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        for kind, items in (("fixed", ["T-02-Q1"]), ("practice", ["T-01-Q1"])):
            with pytest.raises(delivery.InvalidRequest, match="only adaptive tests seed pretest"):
                delivery.create_test(
                    db, id=f"seed-{kind}", title={"zh-TW": "x", "en": "x"},
                    access_code=f"SEED{kind.upper()}", kind=kind, items=items,
                    cat_config_data={"pretest": {"count": 1}},
                )  # fmt: skip
            db.rollback()
        with pytest.raises(delivery.InvalidRequest, match="only adaptive tests seed pretest"):
            control.edit_test(db, "practice", REVIEWER, {"cat_config": {"pretest": {"count": 1}}})
        db.rollback()
        assert not db.get(Test, "practice").cat_config  # type: ignore[union-attr]
        # an adaptive test may seed
        delivery.create_test(
            db, id="seed-cat", title={"zh-TW": "x", "en": "x"}, access_code="SEEDCAT",
            cat_config_data={"pretest": {"count": 1}},
        )  # fmt: skip


def test_a_practice_test_takes_no_questionnaire(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Practice answers are never research data: no questionnaire is attached to a practice
    test, neither when it is created nor by an edit (the web form does not offer the field)."""
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    questionnaire = "GCQ-DEMO"
    (folder / f"{questionnaire}.yaml").write_bytes(
        (REPO / "items" / "questionnaires" / f"{questionnaire}.yaml").read_bytes())
    with factory() as db, db.begin():
        import_paths(db, [folder])
    with factory() as db:
        with pytest.raises(delivery.InvalidRequest, match="practice test has no questionnaire"):
            delivery.create_test(
                db, id="practice-q", title={"zh-TW": "練習", "en": "Practice"}, access_code="PRACTQ",
                kind="practice", items=PRACTICE_ITEMS, questionnaire_id=questionnaire,
            )  # fmt: skip
        db.rollback()
        with pytest.raises(delivery.InvalidRequest, match="practice test has no questionnaire"):
            control.edit_test(db, "practice", REVIEWER, {"questionnaire_id": questionnaire})
        db.rollback()
        assert db.get(Test, "practice").questionnaire_id is None  # type: ignore[union-attr]
