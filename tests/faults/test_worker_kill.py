"""A calibration job survives the death of its worker: ``itembank worker`` is killed with SIGKILL
in the middle of a calibration run; a second worker takes the job over once its heartbeat is stale
and runs it to a single result (one run, one result, the job done after two attempts, the dead
worker's lease worthless)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.importer import import_paths
from itembank.research import calibration_runs, datasets, jobs
from itembank.research.models import CalibrationRun, Job
from tests.conftest import REPO
from tests.itembank.research.research_data import field_trial_csv

pytestmark = pytest.mark.slow

ITEMBANK = Path(sys.executable).with_name("itembank")
STALE = 5  # seconds: the smallest --stale-after the worker accepts


def _worker(url: str, tmp_path: Path, name: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ITEMBANK_DATABASE_URL": url, "ITEMBANK_INSTANCE_PATH": str(tmp_path)}
    return subprocess.Popen(
        [str(ITEMBANK), "worker", "--poll", "0.2", "--stale-after", str(STALE), "--name", name,
         *extra],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"{name}.log").open("wb"),
    )  # fmt: skip


def _job(factory: sessionmaker[Session], job_id: int) -> Job:
    with factory() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_killed_mid_run_is_retried_to_a_single_result(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with session_factory() as s, s.begin():
        import_paths(s, [REPO / "items"])
        ds = datasets.upload_dataset(s, field_trial_csv(40, n_persons=3000), "ft.csv",
                                     name="ft", window="2026-05")
        run = calibration_runs.create_run(s, name="killed", dataset_ids=[ds.id], max_iter=2000)
        run_id, job_id = run.id, run.job_id

    first = _worker(database_url, tmp_path, "first")
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the calibration itself is under way (past loading the data)
            job = _job(session_factory, job_id)
            if job.status == "running" and job.progress > 0.02:
                break
            assert job.status in ("queued", "running"), (job.status, job.message)
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    dead = _job(session_factory, job_id)
    assert (dead.status, dead.worker, dead.attempts) == ("running", "first", 1)
    with session_factory() as s:
        assert s.get(CalibrationRun, run_id).result is None  # type: ignore[union-attr]

    # The dead worker's heartbeat goes stale: set back by the time a wait would take (nothing
    # else beats for this job; waiting STALE seconds here only made the suite slower).
    with session_factory() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id)
                  .values(heartbeat_at=jobs.utcnow() - timedelta(seconds=STALE + 1)))
    second = _worker(database_url, tmp_path, "second", "--burst")
    assert second.wait(120) == 0, (tmp_path / "second.log").read_text()

    job = _job(session_factory, job_id)
    assert (job.status, job.worker, job.attempts) == ("done", "second", 2), job.message
    assert job.lease != dead.lease
    with session_factory() as s:
        runs = s.scalars(select(CalibrationRun).where(CalibrationRun.job_id == job_id)).all()
        assert len(runs) == 1 and runs[0].result is not None
        assert len(runs[0].result["items"]) == 40
        assert s.scalar(select(func.count(Job.id))) == 1
