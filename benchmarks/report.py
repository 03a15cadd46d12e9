"""How long the learning-outcome reports take for a test with 5,000 finished sessions.

Builds a fresh SQLite database in a temporary folder (the migrated schema, the bank of items/,
the demo test, a roster of 5,000 students in 20 schools and 200 classes, one finished session per
student with 15 scored responses to calibrated items, spread over two months), then times, best
of ``--repeat``:

- research report: what ``/research/reports?source=test:…`` computes (the sessions' matrix, the
  bank's parameters, the admin's row scope, plausible values, group and trend figures, each
  student's score), by school;
- each of its phases alone: the matrix, the parameters, the scope, ``learning_report``;
- the report as the web app computes it now, a job: the reuse key the POST computes, the worker's
  handler run in this process (``itembank.research.report_job``: inputs, report, the JSON stored
  with the job), and reading the stored result back (what a page or a CSV download does);
- manage summary: the three groupings of ``/manage/tests/<id>/summary`` (``group_summaries``);
- outcomes by topic: ``itembank.delivery.outcomes.outcomes_by_topic``.

Run from the repository root:
``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/report.py [--students 5000] [--repeat 3]
[--questionnaire] [--db FILE]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select


def build(path: Path, n_students: int, n_items: int, seed: int) -> tuple[Any, str, int]:
    from itembank import all_models  # noqa: F401  every table
    from itembank.accounts.models import User
    from itembank.bank.importer import import_paths
    from itembank.config import PROJECT_ROOT
    from itembank.db import make_engine, session_factory
    from itembank.delivery.models import Response, TestSession
    from itembank.demo import DEMO_TEST_ID, create_demo_content
    from itembank.migrate import upgrade
    from itembank.orgs.models import SchoolClass, Student
    from itembank.orgs.roster import import_roster
    from itembank.research.calibration_runs import current_parameters

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    rng = np.random.default_rng(seed)
    with factory() as db, db.begin():
        import_paths(db, [PROJECT_ROOT / "items"], author="benchmark")
        create_demo_content(db)
        lines = ["city,school,class,student_id,name,grade,language,gender"]
        for k in range(n_students):
            school = k % 20
            lines.append(f"taipei,s{school:02d},{700 + (k // 20) % 10 + 1},st{k},Student {k},"
                         f"{7 + (k // 20) % 3},zh-TW,{('female', 'male')[k % 2]}")
        import_roster(db, "\n".join(lines).encode(), "roster.csv")
        admin = User(username="bench-admin", password_hash="x", role="admin")
        db.add(admin)
        db.flush()
        admin_id = admin.id
    with factory() as db, db.begin():
        params = current_parameters(db, None)
        items = sorted(i for i, r in params.items() if r["model"] in ("2pl", "rasch", "3pl"))[:n_items * 4]
        if len(items) < n_items:
            raise SystemExit(f"the bank has only {len(items)} calibrated dichotomous items")
        from itembank.bank.queries import in_use_versions

        versions = {iv.item_id: iv.id for v in in_use_versions(db) for iv in v.item_versions}
        students = db.execute(select(Student.id, Student.key, Student.class_id)).all()
        start = datetime(2026, 10, 1, tzinfo=UTC)
        sessions, responses = [], []
        theta = rng.normal(size=len(students))
        for k, (sid, key, class_id) in enumerate(students):
            session_id = uuid.uuid4().hex[:20]
            begun = start + timedelta(days=int(k % 50), minutes=k)
            sessions.append({
                "id": session_id, "test_id": DEMO_TEST_ID, "student_key": key, "student_ref": sid,
                "class_id": class_id, "language": "zh-TW", "token_hash": "0" * 64, "status": "finished",
                "seed": k, "answered": n_items, "started_at": begun, "updated_at": begun,
                "finished_at": begun + timedelta(minutes=30),
            })
            chosen = rng.choice(len(items), n_items, replace=False)
            for q, j in enumerate(chosen):
                rec = params[items[j]]
                b = float(rec["b"] if not isinstance(rec["b"], list) else rec["b"][0])
                p = 1 / (1 + np.exp(-float(rec.get("a") or 1) * (theta[k] - b)))
                responses.append({
                    "session_id": session_id, "sequence": q + 1, "response_id": f"{session_id}-{q}",
                    "item_id": items[j], "item_version_id": versions[items[j]], "response": None,
                    "score": int(rng.random() < p), "created_at": begun,
                })
        db.execute(insert(TestSession), sessions)
        db.execute(insert(Response), responses)
        assert db.scalar(select(SchoolClass.id).limit(1)) is not None
    return factory, DEMO_TEST_ID, admin_id


def add_questionnaire(factory: Any, test_id: str, seed: int) -> int:
    """Give every session of the test the questionnaire of items/questionnaires (GCQ-DEMO) and
    answers to each of its scales in line with the session's share of correct answers (as a
    student with a higher score would agree more), so that the report job scales the indices and
    correlates them.  Returns the number of answers written (0 if the sessions had them)."""
    from sqlalchemy import func, update

    from itembank.bank.importer import import_paths
    from itembank.bank.questionnaire_store import latest_version, questionnaire_of
    from itembank.config import PROJECT_ROOT
    from itembank.delivery.models import QuestionnaireAnswer, Response, TestSession

    rng = np.random.default_rng(seed)
    with factory() as db, db.begin():
        if db.scalar(select(func.count(QuestionnaireAnswer.id))):
            return 0
        import_paths(db, [PROJECT_ROOT / "items" / "questionnaires"])
        qv = latest_version(db, "GCQ-DEMO")
        assert qv is not None
        q = questionnaire_of(qv)
        db.execute(update(TestSession).where(TestSession.test_id == test_id)
                   .values(questionnaire_version_id=qv.id))
        shares = db.execute(select(Response.session_id, func.avg(Response.score))
                            .join(TestSession, Response.session_id == TestSession.id)
                            .where(TestSession.test_id == test_id).group_by(Response.session_id)).all()
        answers = []
        for session_id, share in shares:
            z = (float(share) - 0.5) * 3
            for scale in q.scales:
                top = q.n_categories(scale) - 1
                for item in scale.items:
                    x = int(np.clip(np.round(top / 2 + z + rng.normal(0, 0.8)), 0, top))
                    answers.append({"session_id": session_id, "item_id": item.id,
                                    "category": top - x if item.reverse else x})
        db.execute(insert(QuestionnaireAnswer), answers)
    return len(answers)


def best(fn: Callable[[], Any], repeat: int) -> tuple[tuple[float, float], Any]:
    """(best wall time, best CPU time of this process) of ``repeat`` calls, and the last result.
    On a shared machine the CPU time is the steadier figure (SQLite runs in this process)."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return (min(walls), min(cpus)), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--items", type=int, default=15, help="scored responses per session")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--questionnaire", action="store_true",
                        help="give every session the questionnaire GCQ-DEMO with answers, so that the "
                        "report job also scales its indices and correlates them (kept in --db)")
    parser.add_argument("--db", type=Path, help="keep the built database in this file, and reuse it "
                        "if it exists (the same database for runs of two versions of the code)")
    args = parser.parse_args()

    from itembank.accounts.models import User
    from itembank.bank.models import Calibration
    from itembank.delivery.models import Test
    from itembank.delivery.outcomes import outcomes_by_topic
    from itembank.delivery.scope import group_summaries
    from itembank.delivery.sessions import cat_config
    from itembank.research import calibration_runs, datasets, jobs, report_job, reports
    from itembank.research.models import Job
    from itembank.research.scope import scope_for

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if args.db is not None and args.db.exists():
            from itembank.db import make_engine, session_factory
            from itembank.demo import DEMO_TEST_ID

            factory = session_factory(make_engine(f"sqlite:///{args.db}"))
            with factory() as first:
                test_id = DEMO_TEST_ID
                admin_id = first.scalar(select(User.id).where(User.username == "bench-admin"))
        else:
            factory, test_id, admin_id = build(args.db or Path(tmp) / "bench.sqlite3", args.students,
                                               args.items, 20261203)
        if args.questionnaire:
            print(f"questionnaire answers written: {add_questionnaire(factory, test_id, 5):,}")
        print(f"database ready in {time.perf_counter() - start:.1f} s; "
              f"load average {os.getloadavg()[0]:.2f}")
        with factory() as db:
            user = db.get(User, admin_id)
            test = db.get(Test, test_id)
            assert user is not None and test is not None

            def matrix() -> Any:
                return datasets.sessions_matrix(db, test_id)

            def parameters(m: Any) -> list[dict[str, Any]]:
                return list(calibration_runs.current_parameters(db, m.item_ids).values())

            def research_report() -> reports.Report:
                m = matrix()
                records = parameters(m)
                cal_ids = [r["calibration"] for r in records]
                cal = db.get(Calibration, max(set(cal_ids), key=cal_ids.count))
                population = {"mean": cal.population_mean, "sd": cal.population_sd} if cal else None
                return reports.learning_report(m, records, grouping="school", population=population,
                                               reporting=cat_config(test).reporting, min_group_size=5,
                                               scope=scope_for(db, user, test_id=test_id))

            m = matrix()
            records = parameters(m)
            rows: list[tuple[str, tuple[float, float]]] = []
            took, rep = best(research_report, args.repeat)
            rows.append(("research report, by school (all phases)", took))
            rows.append(("  sessions' matrix", best(matrix, args.repeat)[0]))
            rows.append(("  current parameters", best(lambda: parameters(m), args.repeat)[0]))
            rows.append(("  row scope", best(lambda: scope_for(db, user, test_id=test_id), args.repeat)[0]))
            rows.append(("  learning_report", best(lambda: reports.learning_report(
                m, records, grouping="school", reporting=cat_config(test).reporting,
                scope=scope_for(db, user, test_id=test_id)), args.repeat)[0]))
            # the web report as a job (/research/reports POST): the reuse key computed by the
            # request, the worker's handler in this process (inputs, report, JSON stored with
            # the job, progress written at each phase), and a page's read of the stored result
            viewer = report_job.ReportViewer.of(user)
            source = f"test:{test_id}"
            rows.append(("report job: reuse key (the POST)", best(lambda: report_job.report_key(
                db, viewer, source, "school", 5), args.repeat)[0]))

            def run_job() -> int:
                with factory() as s, s.begin():
                    job_id = report_job.enqueue_report(s, viewer, source, "school",
                                                       min_group_size=5, key="bench").id
                assert jobs.run_one(factory, report_job.HANDLERS, "bench") == job_id
                return job_id

            took_job, job_id = best(run_job, args.repeat)
            with factory() as s:
                stored_job = s.get(Job, job_id)
                assert stored_job is not None and stored_job.status == "done", stored_job and stored_job.message
                job_report = report_job.load_report(s, stored_job)
                assert job_report is not None
            print(f"report job: {len(job_report.correlations)} correlation rows, questionnaire "
                  f"{(job_report.questionnaire or {}).get('id')}")
            rows.append(("report job: the worker's handler (inputs, report, stored JSON)", took_job))

            def read_stored() -> str:
                with factory() as s:
                    job = s.get(Job, job_id)
                    assert job is not None
                    stored = report_job.load_report(s, job)
                    assert stored is not None
                    report_job.visible_students(s, stored, user, source)
                    return reports.groups_csv(stored)

            rows.append(("report job: reading the stored result (a page or a CSV)",
                         best(read_stored, args.repeat)[0]))
            with factory() as s:
                stored_size = len(report_job.jobs.load_file(s, job_id, report_job.RESULT_NAME).data)  # type: ignore[union-attr]
            rows.append(("manage summary (city, school, class)", best(lambda: [
                group_summaries(db, user, test_id=test_id, by=by, min_group_size=5)
                for by in ("city", "school", "class")], args.repeat)[0]))
            rows.append(("outcomes by topic", best(lambda: outcomes_by_topic(
                db, user, test_id=test_id, min_group_size=5), args.repeat)[0]))
        print(f"report: {rep.n_students} students, {rep.n_items} items, {len(rep.groups)} groups, "
              f"{len(rep.trends)} group × window rows, {len(rep.students)} student rows; "
              f"stored report {stored_size / 1e6:.2f} MB")
        print(f"| what ({args.students:,} sessions × {args.items} responses) | wall s | CPU s |")
        print("|---|---|---|")
        for name, (wall, cpu) in rows:
            print(f"| {name} | {wall:.3f} | {cpu:.3f} |")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
