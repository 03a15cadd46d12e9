"""The questionnaire section after a test, on SQLite and PostgreSQL: stored with the bank import,
given after the last item with the version pinned, answers committed per page (blank allowed),
the score untouched, bad answers refused without a change, and the answers exported for scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.importer import import_paths
from itembank.bank.models import QuestionnaireVersion
from itembank.bank.questionnaire import load_questionnaire
from itembank.delivery import control
from itembank.delivery import questionnaire as qn
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import clear_cache
from itembank.delivery.models import QuestionnaireAnswer, Test, TestSession
from itembank.demo import DEMO_QUESTIONNAIRE_ID, create_demo_content
from itembank.errors import ProblemsError
from itembank.research.questionnaire_data import NoQuestionnaireData, questionnaire_table

ROOT = Path(__file__).resolve().parents[3]
GCQ = ROOT / "items" / "questionnaires" / "GCQ-DEMO.yaml"
ITEMS = ["T-03-Q2", "T-01-Q1", "T-01-Q3"]


def good(entry: Any) -> Any:
    item = entry.item
    if item.type == "single_choice":
        return item.options[0].id
    if item.type == "multiple_choice":
        return [item.options[0].id]
    if item.type == "complex_choice":
        return {s.id: item.choices[0].id for s in item.statements}
    return "an answer"


@pytest.fixture
def factory(demo_bank: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    (folder / "GCQ-DEMO.yaml").write_bytes(GCQ.read_bytes())
    with demo_bank() as db, db.begin():
        report = import_paths(db, [folder])
        assert report.questionnaires == ["GCQ-DEMO (new)"]
        create_demo_content(db)
        delivery.create_test(
            db, id="fixed-q", title={"zh-TW": "固定", "en": "Fixed"}, access_code="FIXQ12",
            kind="fixed", items=ITEMS, questionnaire_id="GCQ-DEMO",
        )  # fmt: skip
    clear_cache()
    return demo_bank


def finish_items(db: Session, test_id: str, code: str, student: str, language: str = "en"
                 ) -> tuple[str, str]:
    started = delivery.start_session(db, test_id, code, student, language)
    state = started.state
    n = 0
    while not state.finished:
        n += 1
        state = delivery.record_response(
            db, state.session.id, started.token, state.item.item.id, good(state.item), f"r{n}"
        )
    return state.session.id, started.token


def test_the_import_stores_versions_and_the_demo_test_ends_with_the_questionnaire(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with factory() as db:
        assert db.get(Test, "demo-cat").questionnaire_id == DEMO_QUESTIONNAIRE_ID
    folder = tmp_path / "questionnaires"
    with factory() as db, db.begin():  # unchanged: no new version
        assert import_paths(db, [folder]).questionnaires == []
    text = GCQ.read_text("utf-8").replace("Strongly agree}", "Agree strongly}")
    (folder / "GCQ-DEMO.yaml").write_text(text, "utf-8")
    with factory() as db, db.begin():
        assert import_paths(db, [folder]).questionnaires == ["GCQ-DEMO v2"]
    (folder / "GCQ-DEMO.yaml").write_text(text.replace("response_scale: agree4", "response_scale: nope", 1), "utf-8")
    with factory() as db:
        with pytest.raises(ProblemsError) as caught, db.begin():
            import_paths(db, [folder])
        assert "GCQ-DEMO.yaml" in str(caught.value.problems[0]) and "nope" in str(caught.value.problems[0])
        assert db.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 2


def test_a_test_names_only_a_stored_questionnaire(factory: sessionmaker[Session]) -> None:
    with factory() as db:
        with pytest.raises(delivery.InvalidRequest, match="no questionnaire 'NOPE'.*GCQ-DEMO"), db.begin():
            delivery.create_test(db, id="x", title={"zh-TW": "x", "en": "x"}, access_code="XXXXXX",
                                 kind="fixed", items=ITEMS, questionnaire_id="NOPE")
        with pytest.raises(delivery.InvalidRequest, match="NOPE"):
            control.edit_test(db, "demo-cat", "tester", {"questionnaire_id": "NOPE"})
        assert db.get(Test, "demo-cat", populate_existing=True).questionnaire_id == "GCQ-DEMO"
        control.edit_test(db, "demo-cat", "tester", {"questionnaire_id": None})
        assert db.get(Test, "demo-cat", populate_existing=True).questionnaire_id is None


def test_the_questionnaire_follows_the_items_and_leaves_the_score_alone(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        started = delivery.start_session(db, "fixed-q", "FIXQ12", "S-1", "zh-TW")
        sid, token = started.state.session.id, started.token
        with pytest.raises(qn.QuestionnaireNotYet):
            qn.questionnaire_state(db, sid, token)
        with pytest.raises(qn.QuestionnaireNotYet):
            qn.record_questionnaire_answers(db, sid, token, {"AWARE01": 1})
    with factory() as db:
        sid, token = finish_items(db, "fixed-q", "FIXQ12", "S-2", "zh-TW")
        ts = delivery.session_state(db, sid, token).session
        before = (ts.status, ts.theta, ts.se, ts.scale_score, ts.level, ts.answered)
        assert qn.pending(ts)
        state = qn.questionnaire_state(db, sid, token)
        view = qn.questionnaire_view(state, "zh-TW")
        assert view["kind"] == "questionnaire" and view["current_page"] == 1
        assert len(view["pages"]) == 7 and view["pages"][0]["categories"][0]["text"] == "非常不同意"
        assert "reverse" not in str(view) and "construct" not in str(view)
        first = [i["id"] for i in view["pages"][0]["items"]]
        state = qn.record_questionnaire_answers(
            db, sid, token, {first[0]: 3, first[1]: None, first[2]: 0, first[3]: 2, first[4]: 1}
        )
        assert state.current_page == 1 and not state.finished and state.answered == 4
        # bad answers change nothing
        for bad in ({first[0]: 4}, {first[0]: "2"}, {first[0]: True}, {"T-01-Q1": 1}, [1, 2]):
            with pytest.raises(delivery.InvalidRequest):
                qn.record_questionnaire_answers(db, sid, token, bad)
        assert qn.questionnaire_state(db, sid, token).answers[first[0]] == 3
        # a page sent again (the back button, a retry) overwrites
        qn.record_questionnaire_answers(db, sid, token, {first[0]: 2})
        with pytest.raises(delivery.SessionNotFound):
            qn.record_questionnaire_answers(db, sid, "wrong-token", {first[0]: 1})
        rest = {i["id"]: 1 for p in view["pages"][1:] for i in p["items"]}
        state = qn.record_questionnaire_answers(db, sid, token, rest)
        assert state.finished and state.current_page is None and not qn.pending(state.session)
        # a retry of the last page after the end is no error; a different answer is
        qn.record_questionnaire_answers(db, sid, token, rest)
        with pytest.raises(qn.QuestionnaireClosed):
            qn.record_questionnaire_answers(db, sid, token, {first[0]: 0})
    with factory() as db:
        ts = delivery.session_state(db, sid, token).session
        assert (ts.status, ts.theta, ts.se, ts.scale_score, ts.level, ts.answered) == before
        rows = db.scalars(select(QuestionnaireAnswer).where(QuestionnaireAnswer.session_id == sid)).all()
        assert len(rows) == 35 and sum(r.category is None for r in rows) == 1
        assert {r.item_id: r.category for r in rows}[first[0]] == 2


def test_finish_leaves_the_rest_missing_and_a_test_without_one_refuses(
    factory: sessionmaker[Session],
) -> None:
    with factory() as db:
        sid, token = finish_items(db, "fixed-q", "FIXQ12", "S-3")
        state = qn.record_questionnaire_answers(db, sid, token, {"ADAPT02": 4}, finish=True)
        assert state.finished and state.answers == {"ADAPT02": 4}
        delivery.create_test(db, id="plain", title={"zh-TW": "p", "en": "p"}, access_code="PLAIN1",
                             kind="fixed", items=ITEMS)
        db.commit()
        sid2, token2 = finish_items(db, "plain", "PLAIN1", "S-4")
        with pytest.raises(qn.NoQuestionnaire):
            qn.questionnaire_state(db, sid2, token2)


def test_the_session_keeps_its_version_and_a_reset_clears_the_section(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with factory() as db:
        sid, token = finish_items(db, "fixed-q", "FIXQ12", "S-5")
        v1 = qn.questionnaire_state(db, sid, token).version.version
    folder = tmp_path / "questionnaires"
    text = GCQ.read_text("utf-8").replace("Strongly agree}", "Agree strongly}")
    (folder / "GCQ-DEMO.yaml").write_text(text, "utf-8")
    with factory() as db, db.begin():
        import_paths(db, [folder])
    with factory() as db:
        assert qn.questionnaire_state(db, sid, token).version.version == v1 == 1
        qn.record_questionnaire_answers(db, sid, token, {"AWARE01": 3})
        control.reset_session(db, "fixed-q", sid, "tester")
        ts = db.get(TestSession, sid, populate_existing=True)
        rows = db.scalar(select(func.count()).select_from(QuestionnaireAnswer)
                         .where(QuestionnaireAnswer.session_id == sid))
        assert rows == 0 and ts is not None and ts.questionnaire_version_id is None
        assert ts.questionnaire_finished_at is None and ts.status == "started"


def test_answers_export_and_scale_end_to_end(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Simulated students answer the questionnaire online; the export is read by `itembank
    questionnaire scale`, whose indices follow the students' answers."""
    import numpy as np
    from click.testing import CliRunner

    from itembank.cli.questionnaire import questionnaire as questionnaire_cli

    q = load_questionnaire(GCQ)
    rng = np.random.default_rng(7)
    truth: dict[str, float] = {}
    with factory() as db:
        with pytest.raises(NoQuestionnaireData):
            questionnaire_table(db, "fixed-q")
        for n in range(40):
            language = "en" if n % 2 else "zh-TW"
            sid, token = finish_items(db, "fixed-q", "FIXQ12", f"P-{n}", language)
            level = float(rng.normal())
            truth[sid] = level
            for scale in q.scales:
                top = q.n_categories(scale) - 1
                page: dict[str, int | None] = {}
                for k, item in enumerate(scale.items):
                    x = level if not item.reverse else -level
                    value = int(np.clip(round((x + 1.5) / 3 * top + rng.normal(0, 0.5)), 0, top))
                    page[item.id] = None if (n + k) % 11 == 0 else value
                qn.record_questionnaire_answers(db, sid, token, page)
        table = questionnaire_table(db, "fixed-q")
        assert len(table.rows) == 40 and len(table.item_ids) == 35
        out, qfile = tmp_path / "q.csv", tmp_path / "q.yaml"
        out.write_text(table.csv_text(), "utf-8")
        qfile.write_text(table.questionnaire_yaml(), "utf-8")
    assert out.read_text("utf-8").splitlines()[0].startswith("person_id,language,AWARE01,")
    indices = tmp_path / "indices.csv"
    result = CliRunner().invoke(questionnaire_cli, [
        "scale", str(out), "--questionnaire", str(qfile), "--group", "language",
        "--out", str(indices)])
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(indices.open(encoding="utf-8")))
    assert len(rows) == 40
    aware = np.array([float(r["AWARE"]) for r in rows])
    generating = np.array([truth[r["person_id"]] for r in rows])
    assert abs(aware.mean()) < 1e-6 and np.corrcoef(aware, generating)[0, 1] > 0.8
