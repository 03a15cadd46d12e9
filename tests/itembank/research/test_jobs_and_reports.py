"""Research services on the field-trial data: uploads (good and refused), a calibration job run by
the worker in-process, a job whose worker died retried safely, publish and restore, and group
means from plausible values recovering simulated group means."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from irt.models import ItemParameters as IrtParameters
from irt.models import sample_responses
from itembank.bank.models import ItemVersion
from itembank.errors import DataFileError
from itembank.research import calibration_runs, datasets, jobs, publish, reports
from itembank.research.datasets import Matrix
from itembank.research.models import CalibrationRun, DatasetResponse, Job
from tests.conftest import REPO, import_bank

from .research_data import field_trial_csv


@pytest.fixture
def bank(request: pytest.FixtureRequest, session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    return session_factory


def _upload(factory: sessionmaker[Session], data: bytes, name: str = "ft.csv") -> int:
    with factory() as s, s.begin():
        return datasets.upload_dataset(s, data, name, name=name, window="2026-05").id


def test_upload_stores_persons_and_responses(bank: sessionmaker[Session]) -> None:
    ds_id = _upload(bank, field_trial_csv(12, n_persons=300))
    with bank() as s:
        m = datasets.load_matrix(s, [ds_id])
        assert len(m.persons) == 300 and m.item_ids[0] == "GC-001-Q1"
        assert {p["city"] for p in m.persons} and m.persons[0]["gender"] in ("male", "female")
        assert s.scalar(select(func.count(DatasetResponse.id))) == int((~np.isnan(m.scores)).sum())
        assert datasets.matrix_csv(m).splitlines()[0].startswith("person_id,city,school,class")


@pytest.mark.parametrize(
    ("edit", "where", "message"),
    [
        (lambda h, r: (h.replace("GC-001-Q2", "NO-SUCH-ITEM"), r), ":1:8:", "unknown item"),
        (lambda h, r: (h, [r[0].replace(",0,", ",7,", 1), *r[1:]]), ":2:", "above the item's maximum"),
        (lambda h, r: (h, [r[0], r[0], *r[1:]]), ":3:1:", "duplicate person_id"),
        (lambda h, r: (h, [r[0].replace(",0,", ",x,", 1), *r[1:]]), ":2:", "not a number"),
    ],
)
def test_bad_uploads_are_refused_with_row_and_column(bank, edit, where, message) -> None:  # type: ignore[no-untyped-def]
    header, *rows = field_trial_csv(12, n_persons=20).decode().splitlines()
    header, rows = edit(header, rows)
    with bank() as s, s.begin(), pytest.raises(DataFileError) as exc:
        datasets.upload_dataset(s, "\n".join([header, *rows]).encode(), "bad.csv", name="bad")
    text = str(exc.value)
    assert "bad.csv" + where in text and message in text
    with bank() as s:
        assert s.scalar(select(func.count(DatasetResponse.id))) == 0


def _queue_run(factory: sessionmaker[Session], ds_id: int, **kw: object) -> int:
    with factory() as s, s.begin():
        return calibration_runs.create_run(s, name="run", dataset_ids=[ds_id], **kw).id  # type: ignore[arg-type]


def test_worker_runs_a_job_and_publish_then_restore(bank: sessionmaker[Session]) -> None:
    ds_id = _upload(bank, field_trial_csv(20, n_persons=2500))
    run_id = _queue_run(bank, ds_id, dif={"group": "gender", "reference": "female", "focal": "male"})
    assert jobs.work(bank, calibration_runs.HANDLERS, "test", burst=True) == 1
    with bank() as s:
        run = s.get(CalibrationRun, run_id)
        assert run is not None and run.job.status == "done" and run.job.progress == 1.0
        first = run.result["items"][0]
        assert {"s_x2", "rmsd", "infit"} <= set(first["fit"]) and first["dif"]["ets_class"]
        assert len(run.result["theta"]) == run.result["n_persons"]
        comparison = publish.compare(s, run)
        assert comparison.linked_by == "stocking-lord" and len(comparison.common_items) >= 10
        assert comparison.A == pytest.approx(1.0, abs=0.15)
        before = {iv.id: iv.parameters_id for iv in calibration_runs.current_item_versions(s, ["GC-001-Q1"])}
        old_cal = s.get(ItemVersion, next(iter(before))).parameters.calibration_id  # type: ignore[union-attr]
    with bank() as s, s.begin():
        pub = publish.publish(s, s.get(CalibrationRun, run_id))  # type: ignore[arg-type]
        new_cal = pub.calibration_id
    with bank() as s:
        now = calibration_runs.current_parameters(s, ["GC-001-Q1"])["GC-001-Q1"]
        assert now["calibration"] == new_cal
        linked = next(r for r in comparison.linked.to_records() if r["id"] == "GC-001-Q1")
        assert now["b"] == pytest.approx(linked["b"])
    with bank() as s, s.begin():
        publish.restore(s, old_cal)
    with bank() as s:
        after = {iv.id: iv.parameters_id for iv in calibration_runs.current_item_versions(s, ["GC-001-Q1"])}
        assert after == before
        assert calibration_runs.current_parameters(s, ["GC-001-Q1"])["GC-001-Q1"]["calibration"] == old_cal


def test_a_job_whose_worker_died_is_retried_safely(bank: sessionmaker[Session]) -> None:
    ds_id = _upload(bank, field_trial_csv(10, n_persons=800))
    run_id = _queue_run(bank, ds_id)
    dead = jobs.claim(bank, "dead-worker")
    assert dead is not None
    with bank() as s, s.begin():  # the dead worker's heartbeat stops
        job = s.get(Job, dead.job_id)
        job.heartbeat_at = jobs.utcnow() - timedelta(minutes=10)  # type: ignore[union-attr]
    assert jobs.claim(bank, "other", stale_after=3600) is None  # not stale under a long timeout
    assert jobs.run_one(bank, calibration_runs.HANDLERS, "second", stale_after=60) == dead.job_id
    with bank() as s:
        job = s.get(Job, dead.job_id)
        assert job.status == "done" and job.attempts == 2 and job.worker == "second"  # type: ignore[union-attr]
        result = s.get(CalibrationRun, run_id).result  # type: ignore[union-attr]
    with pytest.raises(jobs.JobLost):  # the first worker wakes up: its writes are refused
        dead.progress(0.5, force=True)
    with bank() as s, s.begin():
        assert jobs.finish(dead, s) is False
    with bank() as s:
        assert s.get(CalibrationRun, run_id).result == result  # type: ignore[union-attr]
        assert s.scalar(select(func.count(CalibrationRun.id))) == 1


def test_settings_errors_name_the_field(bank: sessionmaker[Session]) -> None:
    ds_id = _upload(bank, field_trial_csv(10, n_persons=50))
    with bank() as s, s.begin(), pytest.raises(calibration_runs.RunSettingsError) as exc:
        calibration_runs.create_run(s, name="x", dataset_ids=[ds_id], models={"open_response": "2pl"})
    assert exc.value.field == "model_open_response"


def test_plausible_value_means_recover_group_means() -> None:
    rng = np.random.default_rng(11)
    j = 30
    params = IrtParameters.from_records(
        [{"id": f"I{k}", "model": "2pl", "a": float(a), "b": float(b)}
         for k, (a, b) in enumerate(zip(rng.lognormal(0.1, 0.25, j), rng.normal(0, 1, j), strict=True))])
    truth = {"north": -0.6, "centre": 0.0, "south": 0.7}
    groups = np.repeat(list(truth), 500)
    theta = np.array([truth[g] for g in groups]) + rng.normal(0, 0.8, groups.size)
    scores = sample_responses(params, theta, rng).astype(float)
    scores[rng.random(scores.shape) < 0.4] = np.nan  # a rotated design
    persons = [{"person_id": str(k), "school": g, "window": "2026-05", "city": "home"}
               for k, g in enumerate(groups)]
    rep = reports.learning_report(Matrix(persons, list(params.ids), scores), params.to_records(),
                                  grouping="school", min_group_size=5)
    by = {r.group: r for r in rep.groups}
    for g, mu in truth.items():
        expected = 500 + 100 * mu
        assert abs(by[g].mean - expected) < 2.5 * by[g].se, (g, by[g].mean, by[g].se)
        assert 3 < by[g].se < 8
        assert sum(by[g].level_shares) == pytest.approx(100)
    small = reports.learning_report(Matrix(persons[:4], list(params.ids), scores[:4]),
                                    params.to_records(), grouping="school", min_group_size=5)
    assert all(r.suppressed and r.mean is None for r in small.groups)


def test_kappa_agreement_via_rubin_rules() -> None:
    mean, se = reports.rubin(np.array([1.0, 1.0, 1.0]), np.array([0.04, 0.04, 0.04]))
    assert (mean, se) == (1.0, pytest.approx(0.2))


def test_a_failed_job_records_why_as_a_key(bank: sessionmaker[Session]) -> None:
    # A handler's permanent error keeps its failure kind; an unexpected error is retried and then
    # recorded as "crashed"; the English detail stays in the message.
    def refuse(ctx: jobs.JobContext) -> None:
        raise jobs.PermanentJobError("the chosen data sets hold no responses", failure="no_responses")

    def crash(ctx: jobs.JobContext) -> None:
        raise ZeroDivisionError("division by zero")

    with bank() as s, s.begin():
        refused = jobs.enqueue(s, "refuse", {}).id
        crashed = jobs.enqueue(s, "crash", {}, max_attempts=2).id
    handlers = {"refuse": refuse, "crash": crash}
    for _ in range(3):
        jobs.run_one(bank, handlers, "w")
    with bank() as s:
        first, second = s.get(Job, refused), s.get(Job, crashed)
        assert first is not None and second is not None
        assert (first.status, first.failure) == ("failed", "no_responses")
        assert first.message == "the chosen data sets hold no responses"
        assert (second.status, second.failure, second.attempts) == ("failed", "crashed", 2)
        assert second.message is not None and "ZeroDivisionError" in second.message
    with pytest.raises(ValueError, match="unknown job failure"):
        jobs.PermanentJobError("x", failure="no-such-kind")
