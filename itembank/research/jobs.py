"""A small job queue in the database: a job is a row; a worker claims one (``SELECT … FOR UPDATE
SKIP LOCKED`` on PostgreSQL, a conditional UPDATE on SQLite), runs its handler, and writes
progress, heartbeat and the outcome only while it still holds the job's ``lease``.

A job whose heartbeat is older than ``stale_after`` seconds (its worker died or hung) is claimed
again with a new lease, at most ``max_attempts`` times; the old worker's later writes are refused
(:class:`JobLost`), and results are keyed by the job id, so a retry replaces, never duplicates.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .models import Job, JobFile

DEFAULT_STALE_AFTER = 120.0  # seconds without a heartbeat before a running job is taken over
HEARTBEAT_EVERY = 1.0  # seconds between progress writes


class JobLost(Exception):
    """This worker no longer holds the job (another worker took it over): stop, write nothing."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def enqueue(
    session: Session, kind: str, payload: Mapping[str, Any], *, created_by: int | None = None,
    max_attempts: int = 3,
) -> Job:
    job = Job(kind=kind, payload=dict(payload), status="queued", progress=0.0,
              attempts=0, max_attempts=max_attempts, created_by=created_by)
    session.add(job)
    session.flush()
    return job


@dataclass
class JobContext:
    """What a handler gets: the job's id and payload, and :meth:`progress` to report."""

    job_id: int
    lease: str
    payload: dict[str, Any]
    factory: sessionmaker[Session]
    _last: float = 0.0

    def progress(self, fraction: float, message: str | None = None, *, force: bool = False) -> None:
        """Write progress and the heartbeat (at most once a second unless ``force``); raise
        :class:`JobLost` if another worker has taken the job over."""
        now = time.monotonic()
        if not force and now - self._last < HEARTBEAT_EVERY:
            return
        self._last = now
        with self.factory() as s, s.begin():
            result = s.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.lease == self.lease, Job.status == "running")
                .values(progress=max(0.0, min(1.0, float(fraction))), message=message,
                        heartbeat_at=utcnow())
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise JobLost(f"job {self.job_id} was taken over by another worker")

    def owns(self, session: Session) -> bool:
        """Inside the caller's transaction: lock the job row (PostgreSQL) and check the lease."""
        stmt = select(Job.lease, Job.status).where(Job.id == self.job_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = session.execute(stmt).one_or_none()
        return row is not None and row.lease == self.lease and row.status == "running"


def _fail_exhausted(session: Session, stale: datetime) -> None:
    session.execute(
        update(Job)
        .where(Job.status == "running", Job.heartbeat_at < stale, Job.attempts >= Job.max_attempts)
        .values(status="failed", finished_at=utcnow(), lease=None, failure="worker_lost",
                message="the worker stopped responding on every attempt")
    )


def claim(factory: sessionmaker[Session], worker: str, *, stale_after: float = DEFAULT_STALE_AFTER,
          kinds: tuple[str, ...] | None = None) -> JobContext | None:
    """Claim the oldest queued job, or a running one whose heartbeat is stale; None if none."""
    stale = utcnow() - timedelta(seconds=stale_after)
    claimable = or_(
        Job.status == "queued",
        and_(Job.status == "running", Job.heartbeat_at < stale, Job.attempts < Job.max_attempts),
    )
    lease = uuid.uuid4().hex
    with factory() as s, s.begin():
        _fail_exhausted(s, stale)
        stmt = select(Job.id).where(claimable).order_by(Job.id).limit(20)
        if kinds:
            stmt = stmt.where(Job.kind.in_(kinds))
        postgres = s.get_bind().dialect.name == "postgresql"
        if postgres:
            stmt = stmt.limit(1).with_for_update(skip_locked=True)
        for job_id in list(s.scalars(stmt)):
            result = s.execute(
                update(Job)
                .where(Job.id == job_id, claimable)
                .values(status="running", lease=lease, worker=worker, attempts=Job.attempts + 1,
                        heartbeat_at=utcnow(), started_at=utcnow(), message=None)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                job = s.get(Job, job_id)
                assert job is not None
                return JobContext(job_id, lease, dict(job.payload or {}), factory)
    return None


def finish(ctx: JobContext, session: Session, *, message: str | None = None) -> bool:
    """Mark the job done inside the caller's transaction (the one that stores its result);
    False (and nothing should be committed) if the lease was lost."""
    result = session.execute(
        update(Job)
        .where(Job.id == ctx.job_id, Job.lease == ctx.lease, Job.status == "running")
        .values(status="done", progress=1.0, finished_at=utcnow(), heartbeat_at=utcnow(),
                message=message)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _failed(ctx: JobContext, error: str, retry: bool, failure: str) -> None:
    with ctx.factory() as s, s.begin():
        job = s.get(Job, ctx.job_id)
        if job is None or job.lease != ctx.lease:
            return
        if retry and job.attempts < job.max_attempts:
            job.status, job.lease, job.message = "queued", None, error
        else:
            job.status, job.finished_at, job.message = "failed", utcnow(), error
            job.failure = failure


def store_file(session: Session, job_id: int, name: str, data: bytes, media_type: str) -> JobFile:
    """Keep a file the job produced (in the caller's transaction, the one that finishes the job,
    so that a finished job always has its file); a retry's file replaces the earlier one."""
    session.execute(delete(JobFile).where(JobFile.job_id == job_id, JobFile.name == name),
                    execution_options={"synchronize_session": False})
    stored = JobFile(job_id=job_id, name=name, media_type=media_type, size=len(data), data=data)
    session.add(stored)
    session.flush()
    return stored


def finish_with_file(ctx: JobContext, name: str, data: bytes, media_type: str, *,
                     message: str | None = None) -> None:
    """Store the job's file and mark it done in one transaction (a finished job always has its
    file); JobLost, and nothing stored, if another worker holds the job now."""
    with ctx.factory() as s, s.begin():
        if not ctx.owns(s):
            s.rollback()
            raise JobLost(f"job {ctx.job_id} was taken over")
        store_file(s, ctx.job_id, name, data, media_type)
        if not finish(ctx, s, message=message):
            s.rollback()
            raise JobLost(f"job {ctx.job_id} was taken over")


def load_file(session: Session, job_id: int, name: str) -> JobFile | None:
    """The file ``name`` of job ``job_id``, or None (never produced, or deleted as too old)."""
    return session.scalars(
        select(JobFile).where(JobFile.job_id == job_id, JobFile.name == name)
    ).first()


def has_file(session: Session, job_id: int, name: str) -> bool:
    """Whether job ``job_id`` has its file ``name`` (without reading the bytes)."""
    return session.scalar(
        select(JobFile.id).where(JobFile.job_id == job_id, JobFile.name == name)
    ) is not None


def purge_files(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete the files jobs produced more than ``older_than`` ago; returns how many."""
    before = (now or utcnow()) - older_than
    result = session.execute(delete(JobFile).where(JobFile.created_at < before),
                             execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# The kinds of failure a job records (``Job.failure``); a page words each in its reader's language.
FAILURES = (
    "crashed",  # an unexpected error on every attempt (the message holds the traceback)
    "worker_lost",  # the worker stopped responding on every attempt
    "run_missing",  # the calibration run was deleted before the job ran
    "no_responses",  # the chosen data sets hold no responses
    "calibration_failed",  # the estimation refused the data (the message says why)
    "source_missing",  # the report's test or data set no longer exists
    "bad_grouping",  # a report grouping the data does not have
    "design_missing",  # the printed design was deleted
    "no_approved_units",  # the bank has no approved unit to print
    "design_invalid",  # the booklet design cannot be built from the bank
)


class PermanentJobError(Exception):
    """A handler's error that a retry cannot fix (bad data, bad settings): fail at once.
    ``failure`` is one of FAILURES; the message is the English detail."""

    def __init__(self, message: str, *, failure: str) -> None:
        if failure not in FAILURES:
            raise ValueError(f"unknown job failure {failure!r}; add it to jobs.FAILURES")
        super().__init__(message)
        self.failure = failure


Handler = Callable[[JobContext], None]


def run_one(factory: sessionmaker[Session], handlers: Mapping[str, Handler], worker: str, *,
            stale_after: float = DEFAULT_STALE_AFTER) -> int | None:
    """Claim one job and run it to the end; returns its id, or None when there was none."""
    ctx = claim(factory, worker, stale_after=stale_after, kinds=tuple(handlers))
    if ctx is None:
        return None
    with factory() as s:
        job = s.get(Job, ctx.job_id)
        kind = job.kind if job else ""
    try:
        handlers[kind](ctx)
    except JobLost:
        pass
    except PermanentJobError as exc:
        _failed(ctx, str(exc), retry=False, failure=exc.failure)
    except Exception as exc:  # noqa: BLE001  a worker must survive any job: record it, go on
        _failed(ctx, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}", retry=True,
                failure="crashed")
    return ctx.job_id


PURGE_EVERY = 3600.0  # seconds between the worker's deletions of old job files


def work(factory: sessionmaker[Session], handlers: Mapping[str, Handler], worker: str, *,
         poll: float = 2.0, stale_after: float = DEFAULT_STALE_AFTER, burst: bool = False,
         stop: Callable[[], bool] | None = None, keep_files: timedelta | None = None) -> int:
    """Run jobs until ``stop()`` (or, with ``burst``, until the queue is empty); returns the
    number of jobs run.  With ``keep_files``, files jobs produced longer ago are deleted when the
    worker starts and then once an hour."""
    done = 0
    purged_at: float | None = None
    while not (stop and stop()):
        if keep_files is not None and (purged_at is None or time.monotonic() - purged_at >= PURGE_EVERY):
            with factory() as s, s.begin():
                purge_files(s, older_than=keep_files)
            purged_at = time.monotonic()
        job_id = run_one(factory, handlers, worker, stale_after=stale_after)
        if job_id is None:
            if burst:
                break
            time.sleep(poll)
        else:
            done += 1
    return done


NO_WORKER_AFTER = 60.0  # seconds a job may wait in the queue before the page says no worker runs


def _aware(when: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def waiting_for_worker(
    session: Session, job: Job, *, after: float = NO_WORKER_AFTER,
    stale_after: float = DEFAULT_STALE_AFTER, now: datetime | None = None,
) -> str | None:
    """Why a queued job has not been taken for more than ``after`` seconds, or None.

    ``"busy"`` when some worker is alive (another job is running with a fresh heartbeat), so the
    job waits its turn; ``"no_worker"`` when no worker has shown a sign of life: a worker polls
    every few seconds and claims a queued job at once, so a job queued for a minute means that
    ``itembank worker`` is not running."""
    if job.status != "queued":
        return None
    now = now or utcnow()
    # a job put back in the queue after a failed attempt waits from that attempt's last heartbeat
    times = [t for t in (_aware(job.created_at), _aware(job.heartbeat_at)) if t is not None]
    since = max(times) if times else None
    if since is None or (now - since).total_seconds() <= after:
        return None
    fresh = now - timedelta(seconds=stale_after)
    busy = session.scalar(
        select(Job.id).where(Job.status == "running", Job.heartbeat_at >= fresh, Job.id != job.id)
        .limit(1)
    )
    return "busy" if busy is not None else "no_worker"
