"""Coding of open responses, PISA style (itembank.research.coding), on SQLite and PostgreSQL:
first codes, the share coded a second time (100 %, 0 %, the default 20 % by its deterministic
rule), blind second coders, agreement on a designed table, resolution by a lead coder, and the
final scores joining the automatic ones in the data export."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.bank.models import ItemVersion
from itembank.delivery import sessions as delivery
from itembank.delivery.models import Response, Test, TestAssignment, TestSession
from itembank.orgs.models import SchoolClass
from itembank.orgs.roster import import_roster
from itembank.research import coding, datasets
from itembank.research.models import ResponseCode

OPEN = "T-01-Q4"  # codes 2 full (2), 1 partial (1), 0 none (0), 9 missing (0)
AUTO = "T-01-Q1"  # multiple choice, key A + C
PASSWORD = "a-long-password-1"


CITY, SCHOOL, CLASS = "tp", "tp-001", "7A"
N_STUDENTS = 40


@dataclass(frozen=True)
class Viewer:
    """Whose scope a coding query runs in (the scope rules of itembank.orgs.scope)."""

    id: int
    role: str
    city_id: int | None = None
    school_id: int | None = None


ADMIN = Viewer(0, "admin")


def set_up_class_test(s: Session) -> None:
    """A roster class of ``N_STUDENTS`` in city tp, and the test open-t assigned to it: the
    coders are the city's researchers, who see these sessions row by row."""
    rows = "\n".join(f"{CITY},{SCHOOL},{CLASS},S{k:03d},Student {k},7,zh-TW,"
                     for k in range(N_STUDENTS))
    import_roster(s, f"city,school,class,student_id,name,grade,language,gender\n{rows}\n".encode(),
                  "roster.csv")
    test = delivery.create_test(s, id="open-t", title={"zh-TW": "開放題", "en": "Open items"},
                                access_code="OPEN-T", kind="fixed", items=[AUTO, OPEN])
    s.add(TestAssignment(test=test, class_id=s.scalars(select(SchoolClass.id)).one()))


@pytest.fixture
def bank(demo_bank: sessionmaker[Session]) -> sessionmaker[Session]:
    with demo_bank() as s, s.begin():
        set_up_class_test(s)
        for name in ("ann", "ben", "lee"):
            create_user(s, name, "researcher", PASSWORD, city=CITY)
    return demo_bank


def _viewer(s: Session, user_id: int) -> Viewer:
    from itembank.accounts.models import User

    user = s.get(User, user_id)
    assert user is not None
    return Viewer(user.id, user.role, user.city_id, user.school_id)


def viewer_of(factory: sessionmaker[Session], name: str) -> Viewer:
    with factory() as s:
        from itembank.accounts.models import User

        user = s.scalars(select(User).where(User.username == name)).one()
        return Viewer(user.id, user.role, user.city_id, user.school_id)


def _user(factory: sessionmaker[Session], name: str) -> int:
    with factory() as s:
        from itembank.accounts.models import User

        return s.scalars(select(User.id).where(User.username == name)).one()


def sit(factory: sessionmaker[Session], answers: list[str]) -> list[int]:
    """One delivered session per answer (Q1 right, then the open item); the open responses' ids."""
    with factory() as s:
        for k, text in enumerate(answers):
            started = delivery.start_session(s, "open-t", "OPEN-T", f"S{k:03d}", "zh-TW")
            sid = started.state.session.id
            delivery.record_response(s, sid, started.token, AUTO, ["A", "C"], f"{sid}-1")
            delivery.record_response(s, sid, started.token, OPEN, text, f"{sid}-2")
        return list(s.scalars(select(Response.id).where(Response.item_id == OPEN)
                              .order_by(Response.id)))


def add_open_responses(factory: sessionmaker[Session], n: int) -> list[int]:
    """``n`` open responses written with the models directly (faster for larger sets)."""
    with factory() as s, s.begin():
        iv = s.scalars(select(ItemVersion).where(ItemVersion.item_id == OPEN)
                       .order_by(ItemVersion.id.desc())).first()
        assert iv is not None
        class_id = s.scalars(select(SchoolClass.id)).one()
        for k in range(n):
            ts = TestSession(id=f"direct-{k}", test_id="open-t", student_key=f"D{k}", class_id=class_id,
                             language="en", token_hash="x", status="finished", seed=k, answered=1)
            ts.responses.append(Response(sequence=1, response_id=f"d{k}", item_id=OPEN,
                                         item_version_id=iv.id, response=f"answer {k}"))
            s.add(ts)
    with factory() as s:
        return list(s.scalars(select(Response.id).where(Response.item_id == OPEN)
                              .order_by(Response.id)))


def set_share(factory: sessionmaker[Session], share: float) -> None:
    with factory() as s, s.begin():
        coding.set_double_share(s, share)


def next_task(factory: sessionmaker[Session], coder: int) -> tuple[int, str, dict[str, str]] | None:
    with factory() as s:
        task = coding.next_task(s, OPEN, coder, viewer=_viewer(s, coder))
        if task is None:
            return None
        return task.response.id, task.kind, {k: c.code for k, c in task.codes.items()}


def give(factory: sessionmaker[Session], response_id: int, kind: str, code: str, coder: int) -> None:
    with factory() as s, s.begin():
        coding.give_code(s, response_id, kind, code, coder, viewer=_viewer(s, coder), item_id=OPEN)


def codes_of(factory: sessionmaker[Session], response_id: int) -> dict[str, tuple[str, int | None]]:
    with factory() as s:
        rows = s.scalars(select(ResponseCode).where(ResponseCode.response_id == response_id))
        return {c.kind: (c.code, c.coder_id) for c in rows}


def score_of(factory: sessionmaker[Session], response_id: int) -> int | None:
    with factory() as s:
        return s.get(Response, response_id).score  # type: ignore[union-attr]


def refused(factory: sessionmaker[Session], response_id: int, kind: str, code: str, coder: int,
            reason: str) -> None:
    with pytest.raises(coding.CodingError) as info:
        give(factory, response_id, kind, code, coder)
    assert info.value.reason == reason, info.value


# -- the share coded twice -----------------------------------------------------------------------
def test_all_coded_twice_blind_then_resolved_by_a_lead(bank: sessionmaker[Session]) -> None:
    ids = sit(bank, ["Both sides see it differently.", "Not sure.", "It is about money."])
    ann, ben, lee = (_user(bank, n) for n in ("ann", "ben", "lee"))
    set_share(bank, 1.0)
    for rid in ids:  # ann codes every response first
        assert next_task(bank, ann) == (rid, "first", {})
        give(bank, rid, "first", {ids[0]: "2", ids[1]: "1", ids[2]: "0"}[rid], ann)
    assert all(score_of(bank, r) is None for r in ids)  # nothing final before the second code
    assert next_task(bank, ann) is None  # never her own responses a second time
    refused(bank, ids[0], "second", "2", ann, "own_code")
    refused(bank, ids[0], "first", "1", ben, "already_coded")
    # ben codes them second, blind: his tasks carry no earlier code
    for rid, code in zip(ids, ["2", "2", "0"], strict=True):
        assert next_task(bank, ben) == (rid, "second", {})
        give(bank, rid, "second", code, ben)
    assert next_task(bank, ben) is None
    assert score_of(bank, ids[0]) == 2 and score_of(bank, ids[2]) == 0  # agreed: final at once
    assert codes_of(bank, ids[0])["final"] == ("2", ben)
    assert score_of(bank, ids[1]) is None  # 1 vs 2: waits for a lead coder
    assert next_task(bank, ann) is None and next_task(bank, ben) is None
    refused(bank, ids[1], "final", "1", ann, "not_lead")
    refused(bank, ids[1], "final", "1", ben, "not_lead")
    assert next_task(bank, lee) == (ids[1], "final", {"first": "1", "second": "2"})
    give(bank, ids[1], "final", "1", lee)
    assert score_of(bank, ids[1]) == 1
    assert codes_of(bank, ids[1]) == {"first": ("1", ann), "second": ("2", ben), "final": ("1", lee)}
    assert next_task(bank, lee) is None
    refused(bank, ids[1], "final", "2", lee, "already_coded")
    with bank() as s:
        (row,) = coding.item_overview(s, viewer=ADMIN)
    assert (row.responses, row.final, row.double, row.disagreements) == (3, 3, 3, 0)


def test_none_coded_twice_when_the_share_is_zero(bank: sessionmaker[Session]) -> None:
    ids = sit(bank, ["One.", "Two.", "Three."])
    ann, ben = _user(bank, "ann"), _user(bank, "ben")
    set_share(bank, 0.0)
    for rid, code in zip(ids, ["2", "1", "9"], strict=True):
        assert next_task(bank, ann) == (rid, "first", {})
        give(bank, rid, "first", code, ann)
    assert [score_of(bank, r) for r in ids] == [2, 1, 0]
    assert next_task(bank, ben) is None  # nothing to code a second time
    # a response coded once is final: no second code may be added to it afterwards
    refused(bank, ids[0], "second", "0", ben, "already_coded")
    assert score_of(bank, ids[0]) == 2 and set(codes_of(bank, ids[0])) == {"first", "final"}


def test_a_response_chosen_for_double_coding_keeps_waiting_after_the_share_drops(
    bank: sessionmaker[Session],
) -> None:
    (rid,) = sit(bank, ["An answer."])
    ann, ben = _user(bank, "ann"), _user(bank, "ben")
    set_share(bank, 1.0)
    give(bank, rid, "first", "2", ann)
    set_share(bank, 0.0)
    assert next_task(bank, ben) == (rid, "second", {})  # was dropped (never final) before the fix
    give(bank, rid, "second", "2", ben)
    assert score_of(bank, rid) == 2


def test_default_share_is_a_fifth_by_a_stable_rule(bank: sessionmaker[Session]) -> None:
    with bank() as s:
        assert coding.double_share(s) == pytest.approx(0.2)
    # the rule: a hash of the response id below the share; over 5000 ids close to 20 %
    chosen = [coding.is_double(k, 0.2) for k in range(1, 5001)]
    share = sum(chosen) / len(chosen)
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / 5000), share
    assert chosen == [coding.is_double(k, 0.2) for k in range(1, 5001)]  # stable
    assert all(coding.is_double(k, 1.0) and not coding.is_double(k, 0.0) for k in range(1, 200))
    # and the service follows it: exactly the chosen responses reach a second coder
    ids = add_open_responses(bank, 60)
    ann, ben = _user(bank, "ann"), _user(bank, "ben")
    for rid in ids:
        give(bank, rid, "first", "1", ann)
    expected = [r for r in ids if coding.is_double(r, 0.2)]
    assert 3 <= len(expected) <= 25
    seconds = []
    while (task := next_task(bank, ben)) is not None:
        assert task[1] == "second"
        seconds.append(task[0])
        give(bank, task[0], "second", "1", ben)
    assert seconds == expected
    with bank() as s:
        (row,) = coding.item_overview(s, viewer=ADMIN)
        assert (row.responses, row.final, row.double) == (60, 60, len(expected))
        assert s.scalar(select(func.count()).select_from(Response).where(
            Response.item_id == OPEN, Response.score == 1)) == 60


# -- agreement -----------------------------------------------------------------------------------
# (first, second) codes of 10 responses.  Table (rows first coder, columns second, order 0 1 2):
#   0: [1 0 1]   1: [1 2 0]   2: [0 1 4]  -> p_o = 7/10, margins rows (.2 .3 .5) = columns,
#   p_e = .04 + .09 + .25 = .38, kappa = (.7 - .38) / (1 - .38) = 16/31.
DESIGN = [("2", "2")] * 4 + [("1", "1")] * 2 + [("0", "0"), ("2", "1"), ("1", "0"), ("0", "2")]


def test_agreement_of_a_designed_table(bank: sessionmaker[Session]) -> None:
    ids = add_open_responses(bank, len(DESIGN))
    ann, ben = _user(bank, "ann"), _user(bank, "ben")
    set_share(bank, 1.0)
    for rid, (a, b) in zip(ids, DESIGN, strict=True):
        give(bank, rid, "first", a, ann)
        give(bank, rid, "second", b, ben)
    with bank() as s:
        (row,) = coding.item_overview(s, viewer=ADMIN)
    assert row.item_id == OPEN and row.double == 10
    assert row.final == 7 and row.disagreements == 3
    agreement = row.agreement
    assert agreement is not None
    assert agreement.n == 10
    assert agreement.percent == pytest.approx(70.0)
    assert agreement.kappa == pytest.approx(16 / 31)
    assert agreement.categories == ("0", "1", "2")
    assert agreement.table.tolist() == [[1, 0, 1], [1, 2, 0], [0, 1, 4]]


def test_perfect_and_chance_agreement(bank: sessionmaker[Session]) -> None:
    # 2 x 2 with equal margins and p_o = p_e = 0.5: kappa 0; then all agree: 100 %, kappa 1
    ids = add_open_responses(bank, 4)
    ann, ben = _user(bank, "ann"), _user(bank, "ben")
    set_share(bank, 1.0)
    for rid, (a, b) in zip(ids, [("1", "1"), ("1", "0"), ("0", "1"), ("0", "0")], strict=True):
        give(bank, rid, "first", a, ann)
        give(bank, rid, "second", b, ben)
    with bank() as s:
        (row,) = coding.item_overview(s, viewer=ADMIN)
    assert row.agreement is not None
    assert row.agreement.percent == pytest.approx(50.0) and row.agreement.kappa == pytest.approx(0.0)


# -- scores in the data export -------------------------------------------------------------------
def test_final_scores_join_the_automatic_ones_in_the_export(bank: sessionmaker[Session]) -> None:
    ids = sit(bank, ["Full.", "Partly.", "Wrong.", "", "Not coded yet."])
    ann = _user(bank, "ann")
    set_share(bank, 0.0)
    for rid, code in zip(ids[:4], ["2", "1", "0", "9"], strict=True):
        give(bank, rid, "first", code, ann)
    assert [score_of(bank, r) for r in ids] == [2, 1, 0, 0, None]
    with bank() as s:
        keys = {i: k for i, k in s.execute(select(TestSession.id, TestSession.student_key))}
        matrix = datasets.sessions_matrix(s, "open-t")
        text = datasets.matrix_csv(matrix)
    assert set(matrix.item_ids) == {AUTO, OPEN}
    rows = {keys[r["person_id"]]: r for r in csv.DictReader(io.StringIO(text))}  # ids never start with -
    assert {k: (r[AUTO], r[OPEN]) for k, r in rows.items()} == {
        "S000": ("1", "2"), "S001": ("1", "1"), "S002": ("1", "0"), "S003": ("1", "0"),
        "S004": ("1", ""),  # not coded yet: blank, never a zero
    }


def test_codes_outside_the_guide_or_the_item_are_refused(bank: sessionmaker[Session]) -> None:
    (rid,) = sit(bank, ["An answer."])
    ann = _user(bank, "ann")
    refused(bank, rid, "first", "7", ann, "unknown_code")
    with pytest.raises(coding.CodingError) as info, bank() as s, s.begin():
        coding.give_code(s, rid, "first", "2", ann, viewer=_viewer(s, ann), item_id="T-02-Q4")
    assert info.value.reason == "wrong_item"
    with bank() as s:
        auto = s.scalars(select(Response.id).where(Response.item_id == AUTO)).one()
    refused(bank, auto, "first", "2", ann, "no_response")  # not an open item
    assert codes_of(bank, rid) == {} and score_of(bank, rid) is None
    with pytest.raises(coding.CodingError), bank() as s:
        coding.set_double_share(s, 1.5)


def test_coders_see_and_code_only_their_own_city(bank: sessionmaker[Session]) -> None:
    """A researcher of another city, or one with no city, reads, counts and codes nothing of
    city tp; tp's researcher and an administrator do (issue: city A coded city B's answers)."""
    (rid,) = sit(bank, ["An answer of a tp student."])
    with bank() as s, s.begin():
        import_roster(s, b"city,school,class,student_id,name,grade,language,gender\n"
                         b"kh,kh-001,8B,K001,Other,8,zh-TW,\n", "other.csv")
        create_user(s, "kay", "researcher", PASSWORD, city="kh")
        create_user(s, "nic", "researcher", PASSWORD)
    own, other, none = (viewer_of(bank, n) for n in ("ann", "kay", "nic"))
    with bank() as s:
        assert coding.next_task(s, OPEN, own.id, viewer=own) is not None
        assert [r.responses for r in coding.item_overview(s, viewer=own)] == [1]
        assert [r.responses for r in coding.item_overview(s, viewer=ADMIN)] == [1]
        for outsider in (other, none):
            assert coding.next_task(s, OPEN, outsider.id, viewer=outsider) is None
            assert coding.item_overview(s, viewer=outsider) == []
    for outsider in (other, none):
        with pytest.raises(coding.CodingError) as info, bank() as s, s.begin():
            coding.give_code(s, rid, "first", "2", outsider.id, viewer=outsider, item_id=OPEN)
        assert info.value.reason == "no_response"
    assert codes_of(bank, rid) == {} and score_of(bank, rid) is None  # nothing changed
    give(bank, rid, "first", "2", own.id)
    assert score_of(bank, rid) == 2


# -- teachers code their own classes' responses -------------------------------------------------
def _sit_one(factory: sessionmaker[Session], test_id: str, code: str, student: str, text: str) -> int:
    """One session of ``student`` answering the open item; the open response's id."""
    with factory() as s:
        started = delivery.start_session(s, test_id, code, student, "zh-TW")
        sid = started.state.session.id
        if test_id == "open-t":
            delivery.record_response(s, sid, started.token, AUTO, ["A", "C"], f"{sid}-1")
        delivery.record_response(s, sid, started.token, OPEN, text, f"{sid}-2")
        return s.scalars(select(Response.id).where(Response.session_id == sid,
                                                   Response.item_id == OPEN)).one()


def set_up_other_classes(factory: sessionmaker[Session]) -> dict[str, int]:
    """Besides class 7A of tp-001 (teacher tom): class 7B of the same school (teacher una), class
    8B of school kh-001 in city kh (researcher kay), an off-roster test without an owner (anyone's
    demo) and one owned by tom; one open response in each.  Their response ids by place."""
    from itembank.orgs.models import ClassTeacher

    with factory() as s, s.begin():
        import_roster(s, b"city,school,class,student_id,name,grade,language,gender\n"
                         b"tp,tp-001,7B,B000,Bea,7,zh-TW,\n"
                         b"kh,kh-001,8B,K001,Other,8,zh-TW,\n", "other.csv")
        classes = {c.name: c.id for c in s.scalars(select(SchoolClass))}
        for name, klass in (("tom", "7A"), ("una", "7B")):
            user = create_user(s, name, "teacher", PASSWORD, city=CITY, school=SCHOOL)
            s.flush()
            s.add(ClassTeacher(class_id=classes[klass], user_id=user.id))
        create_user(s, "zed", "teacher", PASSWORD, city=CITY, school=SCHOOL)  # teaches no class
        create_user(s, "kay", "researcher", PASSWORD, city="kh")
        create_user(s, "adm", "admin", PASSWORD)
        test = s.get(Test, "open-t")
        for klass in ("7B", "8B"):
            s.add(TestAssignment(test=test, class_id=classes[klass]))
        s.flush()
        from itembank.accounts.models import User

        tom = s.scalars(select(User.id).where(User.username == "tom")).one()
        delivery.create_test(s, id="open-x", title={"en": "Anyone's"}, access_code="ANYONE-X",
                             kind="fixed", items=[OPEN], max_attempts=None)
        delivery.create_test(s, id="open-tom", title={"en": "Tom's own"}, access_code="TOMS-OWN",
                             kind="fixed", items=[OPEN], owner_id=tom, max_attempts=None)
    return {
        "7A": _sit_one(factory, "open-t", "OPEN-T", "S000", "7A answer"),
        "7B": _sit_one(factory, "open-t", "OPEN-T", "B000", "7B answer"),
        "kh": _sit_one(factory, "open-t", "OPEN-T", "K001", "kh answer"),
        "demo": _sit_one(factory, "open-x", "ANYONE-X", "X1", "off-roster answer"),
        "own": _sit_one(factory, "open-tom", "TOMS-OWN", "X2", "an answer on the own test"),
    }


def _reachable(factory: sessionmaker[Session], viewer: Viewer, rids: dict[str, int]) -> set[str]:
    """The places whose response ``viewer`` reaches by every entry point (the overview's count,
    the waiting count, next task while coding): checked to agree."""
    with factory() as s:
        total = sum(r.responses for r in coding.item_overview(s, viewer=viewer))
        assert coding.waiting(s, viewer=viewer) == total
    seen: set[int] = set()
    with factory() as s:
        while (task := coding.next_task(s, OPEN, viewer.id, viewer=viewer)) is not None:
            assert task.response.id not in seen
            seen.add(task.response.id)
            # code it so the next task is another response (in a transaction rolled back below)
            coding.give_code(s, task.response.id, task.kind, "1", viewer.id, viewer=viewer,
                             item_id=OPEN)
        s.rollback()
    assert len(seen) == total
    return {place for place, rid in rids.items() if rid in seen}


def test_teachers_code_only_their_own_classes(bank: sessionmaker[Session]) -> None:
    """A teacher reads, counts and codes the open responses of the classes they teach (and of
    the off-roster tests they own), never another class's, school's or city's, nor the shared
    demo's; researchers their own city's; every entry point, a forged response id included."""
    set_share(bank, 0.0)
    rids = set_up_other_classes(bank)
    tom, una, zed, ann, kay, adm = (viewer_of(bank, n) for n in ("tom", "una", "zed", "ann", "kay", "adm"))
    assert _reachable(bank, tom, rids) == {"7A", "own"}
    assert _reachable(bank, una, rids) == {"7B"}
    assert _reachable(bank, zed, rids) == set()
    assert _reachable(bank, ann, rids) == {"7A", "7B"}  # the researcher's city, every class
    assert _reachable(bank, kay, rids) == {"kh"}
    assert _reachable(bank, adm, rids) == set(rids)
    with bank() as s:
        assert coding.waiting(s, viewer=tom, test_id="open-t") == 1
        assert coding.waiting(s, viewer=tom, test_id="open-x") == 0
    # a forged response id of another class, school, city or the demo: as if it did not exist
    for teacher, allowed in ((tom, {"7A", "own"}), (una, {"7B"}), (zed, set())):
        for place, rid in rids.items():
            if place in allowed:
                continue
            for kind in ("first", "second", "final"):
                with pytest.raises(coding.CodingError) as info, bank() as s, s.begin():
                    coding.give_code(s, rid, kind, "2", teacher.id, viewer=teacher, item_id=OPEN)
                assert info.value.reason == "no_response", (teacher, place, kind)
    for place, rid in rids.items():
        assert codes_of(bank, rid) == {} and score_of(bank, rid) is None, place  # nothing coded
    give(bank, rids["7A"], "first", "2", tom.id)
    assert score_of(bank, rids["7A"]) == 2
    with bank() as s:
        assert coding.waiting(s, viewer=tom) == 1  # only his own test's response is left
