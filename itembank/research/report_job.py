"""The web app's learning-outcome report as a background job with progress and a stored result.

The web app queues a job of kind :data:`JOB_KIND` (:func:`enqueue_report`) with the source (a
test's online sessions or a data set), the grouping and the requesting user's scope as it was
then (:class:`ReportViewer`); ``itembank worker`` loads the inputs (:func:`load_inputs`),
computes the report (:func:`build`, i.e. :func:`.reports.learning_report`, with the correlations
of the scale score with the questionnaire indices when the test has a questionnaire), writing
each phase as the job's progress, and stores the report as JSON with the job
(:data:`RESULT_NAME`, :func:`itembank.research.jobs.store_file`, in the transaction that finishes
the job).  The report page, its charts and its CSV downloads read that stored result
(:func:`load_report`) and never compute it again.

A stored report belongs to the user who asked for it: its student rows are those of that user's
scope, and its suppression pattern counts the rows that user sees (:func:`.reports.disclosure`),
so it is keyed by user (:func:`report_key`, which also holds the source, the grouping, the
bank's current parameters, a version of the data and the rows in scope): the same inputs asked
for again while the job's file is kept reuse the job (:func:`reusable_job`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from irt.replicates import ReplicateDesign
from itembank.bank.models import Calibration
from itembank.delivery import practice
from itembank.delivery.models import QuestionnaireAnswer, Test, TestSession
from itembank.delivery.models import Response as SessionResponse
from itembank.delivery.sessions import cat_config
from itembank.errors import ItembankError

from . import calibration_runs, dataset_design, datasets, jobs
from .datasets import Matrix
from .index_correlations import CorrelationRow
from .models import Dataset, DatasetPerson, Job
from .questionnaire_indices import MIN_ANSWERS, scale_indices
from .reports import DifferenceRow, GroupRow, Report, StudentRow, learning_report
from .scope import Scope, scope_for

JOB_KIND = "learning-report"
RESULT_NAME = "report.json"  # the job's file (jobs.load_file(session, job_id, RESULT_NAME))
SEED = 20261125  # of the plausible values (and the random groups without a design): reproducible
FORMAT = 2  # of the stored JSON and the reuse key: a new format never reuses an old result
# (2: the report carries its reporting scale)
# A GET of /research/reports?source=…&grouping=… computes inline up to this many students (about
# 0.2 s of CPU, benchmarks/README.md); larger sources are computed as a job only.
INLINE_MAX_STUDENTS = 1000
# the progress at the start of each phase (learning_report's steps and the job's own)
STEPS = {"loading": 0.02, "questionnaire": 0.10, "population-model": 0.25, "estimates": 0.55,
         "correlations": 0.75, "students": 0.85, "storing": 0.95}


class UnknownSource(ItembankError):
    """The report's source is not a research test or a data set (the web app answers 404)."""


@dataclass(frozen=True)
class ReportViewer:
    """The requesting user as far as scope goes (:class:`itembank.orgs.scope.Viewer`), kept in
    the job's payload so that the worker computes with the scope the user had when asking."""

    id: int
    role: str
    school_id: int | None
    city_id: int | None

    @classmethod
    def of(cls, user: Any) -> ReportViewer:
        return cls(int(user.id), str(user.role), user.school_id, user.city_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReportViewer:
        return cls(int(d["id"]), str(d["role"]), d.get("school_id"), d.get("city_id"))


@dataclass
class Inputs:
    """What a report is computed from, read from the database in one go (the computation itself
    then needs no database: a worker holds no transaction open while it runs)."""

    matrix: Matrix
    records: list[dict[str, Any]]
    population: dict[str, float] | None
    reporting: Mapping[str, Any] | None
    design: ReplicateDesign | None
    scope: Scope
    indices: list[tuple[str, np.ndarray]] = field(default_factory=list)
    questionnaire: dict[str, Any] | None = None


def _test_or_unknown(db: Session, test_id: str) -> Test:
    test = db.get(Test, test_id)
    if test is None or practice.is_practice(test):
        raise UnknownSource(f"no research test {test_id!r}")
    return test


def _dataset_or_unknown(db: Session, source: str) -> Dataset:
    ds = db.get(Dataset, int(source[8:])) if source[8:].isdigit() else None
    if ds is None:
        raise UnknownSource(f"no data set {source[8:]!r}")
    return ds


def check_source(db: Session, source: str) -> int:
    """The number of students of ``source`` ("test:ID" or "dataset:ID"), cheaply; UnknownSource
    if there is no such research test or data set."""
    if source.startswith("test:"):
        test = _test_or_unknown(db, source[5:])
        return int(db.scalar(select(func.count(TestSession.id))
                             .where(TestSession.test_id == test.id)) or 0)
    if source.startswith("dataset:"):
        return _dataset_or_unknown(db, source).n_persons
    raise UnknownSource(f"unknown source {source!r}: give test:ID or dataset:ID")


def _scope_rows(source: str) -> dict[str, Any]:
    return {"test_id": source[5:]} if source.startswith("test:") else {"dataset_ids": [int(source[8:])]}


def load_inputs(db: Session, viewer: Any, source: str,
                step: Callable[[str], None] | None = None) -> Inputs:
    """Read everything the report of ``source`` needs, with ``viewer``'s row scope; the
    questionnaire indices are scaled here too (their answers are read from the database)."""
    check_source(db, source)
    reporting = design = None
    if source.startswith("test:"):
        test = _test_or_unknown(db, source[5:])
        matrix = datasets.sessions_matrix(db, test.id)
        reporting = cat_config(test).reporting
    else:
        ds = _dataset_or_unknown(db, source)
        matrix = datasets.load_matrix(db, [ds.id])
        # the data set's survey design (weights and replicates), in the order of its persons
        design = dataset_design.stored_design(db, ds, np.random.default_rng([SEED, 1]))
    records = list(calibration_runs.current_parameters(db, matrix.item_ids).values())
    cal_ids = [r["calibration"] for r in records]
    population = None
    if cal_ids:
        cal = db.get(Calibration, max(set(cal_ids), key=cal_ids.count))
        if cal is not None:
            population = {"mean": cal.population_mean, "sd": cal.population_sd}
    inputs = Inputs(matrix, records, population, reporting, design,
                    scope_for(db, viewer, **_scope_rows(source)))
    if source.startswith("test:"):
        if step is not None:
            step("questionnaire")
        found = scale_indices(db, source[5:], [str(p["person_id"]) for p in matrix.persons])
        if found is not None:
            inputs.indices = [(s.id, s.values) for s in found.scales]
            inputs.questionnaire = {
                "id": found.questionnaire_id, "version": found.version, "min_answers": MIN_ANSWERS,
                "scales": [{"id": s.id, "name": s.name, "n": s.n_scored,
                            "reliability": s.reliability} for s in found.scales],
                "too_few": [{"id": i, "name": name, "n": n} for i, name, n in found.too_few],
                "notes": found.notes,
            }
    return inputs


def build(inputs: Inputs, grouping: str, *, min_group_size: int,
          step: Callable[[str], None] | None = None) -> Report:
    """The report of ``inputs`` by ``grouping`` (no database)."""
    report = learning_report(
        inputs.matrix, inputs.records, grouping=grouping, population=inputs.population,
        reporting=inputs.reporting, min_group_size=min_group_size, scope=inputs.scope,
        design=inputs.design, seed=SEED, indices=inputs.indices, step=step)
    report.questionnaire = inputs.questionnaire
    return report


# -- the stored result --------------------------------------------------------------------------
def _pair(x: Any) -> tuple[float, float] | None:
    return None if x is None else (float(x[0]), float(x[1]))


def _group(d: Mapping[str, Any]) -> GroupRow:
    return GroupRow(**{**d, "ci": _pair(d.get("ci")), "sd_ci": _pair(d.get("sd_ci")),
                       "level_ci": None if d.get("level_ci") is None
                       else [(float(a), float(b)) for a, b in d["level_ci"]]})


def report_to_json(report: Report) -> bytes:
    """The whole report (students included) as the job's stored JSON."""
    return json.dumps({"format": FORMAT, **asdict(report)}, ensure_ascii=False).encode()


def report_from_json(data: bytes) -> Report:
    d = json.loads(data)
    d.pop("format", None)
    return Report(**{
        **d,
        "groups": [_group(g) for g in d["groups"]],
        "trends": [_group(g) for g in d["trends"]],
        "overall": None if d.get("overall") is None else _group(d["overall"]),
        "students": [StudentRow(**s) for s in d["students"]],
        "differences": [DifferenceRow(**{**x, "ci": _pair(x["ci"])}) for x in d["differences"]],
        "correlations": [CorrelationRow(**{**c, "ci": _pair(c.get("ci"))})
                         for c in d.get("correlations", [])],
    })


def load_report(db: Session, job: Job) -> Report | None:
    """The stored report of a finished job, or None (not finished, or its file deleted)."""
    if job.kind != JOB_KIND or job.status != "done":
        return None
    stored = jobs.load_file(db, job.id, RESULT_NAME)
    return None if stored is None else report_from_json(stored.data)


def visible_students(db: Session, report: Report, user: Any, source: str) -> list[StudentRow]:
    """The stored student rows that ``user`` may see now (their scope may have narrowed since
    the report was computed): the rows of a scoped query, as :func:`.scope.scope_for` gives."""
    scope = scope_for(db, user, **_scope_rows(source))
    dataset_id = int(source[8:]) if source.startswith("dataset:") else None
    return [s for s in report.students
            if scope.allows_person({"person_id": s.person_id, "dataset_id": dataset_id})]


# -- the job ------------------------------------------------------------------------------------
def _data_version(db: Session, source: str) -> list[Any]:
    """What changes when the source's rows change: counts, largest ids and sums of scores."""
    if source.startswith("test:"):
        test_id = source[5:]
        in_test = TestSession.test_id == test_id
        responses = db.execute(
            select(func.count(SessionResponse.id), func.max(SessionResponse.id),
                   func.sum(SessionResponse.score))
            .join(TestSession, SessionResponse.session_id == TestSession.id).where(in_test)
        ).one()
        answers = db.execute(
            select(func.count(QuestionnaireAnswer.id), func.max(QuestionnaireAnswer.id),
                   func.sum(QuestionnaireAnswer.category))
            .join(TestSession, QuestionnaireAnswer.session_id == TestSession.id).where(in_test)
        ).one()
        sessions = db.execute(select(func.count(TestSession.id), func.max(TestSession.started_at))
                              .where(in_test)).one()
        test = db.get(Test, test_id)
        return [list(responses), list(answers), [sessions[0], str(sessions[1])],
                (test.cat_config or {}).get("reporting") if test else None]
    ds = _dataset_or_unknown(db, source)
    weights = db.execute(select(func.count(DatasetPerson.weight), func.sum(DatasetPerson.weight))
                         .where(DatasetPerson.dataset_id == ds.id)).one()
    return [ds.n_persons, ds.n_responses, ds.replicate_method, ds.survey_design, list(weights)]


def report_key(db: Session, viewer: ReportViewer, source: str, grouping: str,
               min_group_size: int) -> str:
    """A digest of everything the stored report depends on: the user and the rows in their
    scope, the source and a version of its data, the grouping, the bank's current parameters,
    the minimum group size, the seed and the stored format."""
    scope = scope_for(db, viewer, **_scope_rows(source))
    params = calibration_runs.current_parameters(db)
    doc = [FORMAT, SEED, asdict(viewer), source, grouping, min_group_size,
           sorted(scope.sessions), sorted(scope.persons),
           sorted((k, v.get("model"), v.get("a"), v.get("b"), v.get("c"), v.get("calibration"))
                  for k, v in params.items()),
           _data_version(db, source)]
    text = json.dumps(doc, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def reusable_job(db: Session, viewer: ReportViewer, key: str, *,
                 keep: timedelta) -> Job | None:
    """The user's newest report job with the same key that is queued, running, or done with its
    result still kept (jobs' files are deleted after ``keep``); None if there is none."""
    since = jobs.utcnow() - keep
    candidates = db.scalars(
        select(Job).where(Job.kind == JOB_KIND, Job.created_by == viewer.id,
                          Job.status.in_(("queued", "running", "done")), Job.created_at >= since)
        .order_by(Job.id.desc()).limit(50)
    )
    for job in candidates:
        if (job.payload or {}).get("key") != key:
            continue
        if job.status != "done" or jobs.has_file(db, job.id, RESULT_NAME):
            return job
    return None


def enqueue_report(db: Session, viewer: ReportViewer, source: str, grouping: str, *,
                   min_group_size: int, key: str) -> Job:
    """Queue the report (in the caller's transaction)."""
    payload = {"viewer": asdict(viewer), "source": source, "grouping": grouping,
               "min_group_size": min_group_size, "key": key}
    return jobs.enqueue(db, JOB_KIND, payload, created_by=viewer.id, max_attempts=2)


def run_job(ctx: jobs.JobContext) -> None:
    """The worker's handler: load the inputs, compute the report, store it, finish the job."""
    p = ctx.payload

    def step(name: str) -> None:
        ctx.progress(STEPS.get(name, 0.5), name, force=True)

    step("loading")
    viewer = ReportViewer.from_dict(p["viewer"])
    with ctx.factory() as s:
        try:
            inputs = load_inputs(s, viewer, str(p["source"]), step)
        except UnknownSource as exc:
            raise jobs.PermanentJobError(str(exc), failure="source_missing") from exc
    try:
        report = build(inputs, str(p["grouping"]), min_group_size=int(p["min_group_size"]),
                       step=step)
    except ValueError as exc:  # an unknown grouping: a retry cannot fix it
        raise jobs.PermanentJobError(str(exc), failure="bad_grouping") from exc
    step("storing")
    data = report_to_json(report)
    jobs.finish_with_file(ctx, RESULT_NAME, data, "application/json",
                          message=f"{report.n_students or 0} students")


HANDLERS = {JOB_KIND: run_job}
