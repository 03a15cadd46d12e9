"""The questionnaire of a test from the command line: ``itembank import`` stores it, ``itembank
test create|edit --questionnaire`` names it (an id not in the bank exits 1 and changes nothing),
and ``itembank questionnaire export`` writes online sessions' answers for ``questionnaire scale``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.cli import main
from itembank.db import make_engine, session_factory
from itembank.delivery import questionnaire as qn
from itembank.delivery import sessions as delivery
from itembank.delivery.models import Test
from itembank.migrate import upgrade

ROOT = Path(__file__).resolve().parents[3]
UNITS = ROOT / "tests" / "data" / "units"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bank.sqlite3'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", url)
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_name_deliver_export_and_scale(database: str, tmp_path: Path) -> None:
    code, out = run("import", str(UNITS), str(ROOT / "items" / "questionnaires"))
    assert code == 0 and "questionnaires: GCQ-DEMO (new)" in out, out
    code, out = run("test", "create", "q-test", "--code", "QTEST1", "--mode", "fixed",
                    "--items", "T-03-Q2,T-01-Q1", "--questionnaire", "NOPE")
    assert code == 1 and "no questionnaire 'NOPE'" in out and "GCQ-DEMO" in out
    code, out = run("test", "create", "q-test", "--code", "QTEST1", "--mode", "fixed",
                    "--items", "T-03-Q2,T-01-Q1", "--questionnaire", "GCQ-DEMO", "--unlimited")
    assert code == 0, out
    code, out = run("test", "list", "--json")
    assert json.loads(out)[0]["questionnaire"] == "GCQ-DEMO"
    code, out = run("test", "edit", "q-test", "--questionnaire", "")
    assert code == 0 and "questionnaire_id" in out
    code, out = run("test", "edit", "q-test", "--questionnaire", "GCQ-DEMO")
    assert code == 0, out
    code, out = run("questionnaire", "export", "q-test", "--out", str(tmp_path / "a.csv"),
                    "--questionnaire-out", str(tmp_path / "a.yaml"))
    assert code == 1 and "no session of test 'q-test'" in out

    factory = session_factory(make_engine(database))
    with factory() as db:
        assert db.get(Test, "q-test").questionnaire_id == "GCQ-DEMO"
        for n in range(30):
            started = delivery.start_session(db, "q-test", "QTEST1", f"S{n}", "en" if n % 2 else "zh-TW")
            state, token = started.state, started.token
            while not state.finished:
                item = state.item.item
                answer: object = "text"
                if item.type in ("single_choice", "multiple_choice"):
                    first = item.options[0].id
                    answer = first if item.type == "single_choice" else [first]
                state = delivery.record_response(db, state.session.id, token, item.id, answer,
                                                 f"r{state.answered}")
            qstate = qn.questionnaire_state(db, state.session.id, token)
            q = qstate.questionnaire
            answers = {item.id: (n * 3 + k) % q.n_categories(scale) if (n + k) % 7 else None
                       for scale in q.scales for k, item in enumerate(scale.items)}
            qn.record_questionnaire_answers(db, state.session.id, token, answers)
    out_csv, out_yaml = tmp_path / "online.csv", tmp_path / "GCQ.yaml"
    code, out = run("questionnaire", "export", "q-test", "--out", str(out_csv),
                    "--questionnaire-out", str(out_yaml))
    assert code == 0 and "30 sessions, 35 statements of GCQ-DEMO v1" in out, out
    rows = list(csv.reader(out_csv.open(encoding="utf-8")))
    assert rows[0][:3] == ["person_id", "language", "AWARE01"] and len(rows) == 31
    assert rows[1][2] == ""  # AWARE01 of the first session (n + k = 0) was left blank
    code, out = run("questionnaire", "scale", str(out_csv), "--questionnaire", str(out_yaml),
                    "--group", "language", "--out", str(tmp_path / "indices.csv"))
    assert code == 0, out
    indices = list(csv.DictReader((tmp_path / "indices.csv").open(encoding="utf-8")))
    assert len(indices) == 30 and all(r["PERSP"] != "" for r in indices)
