"""``itembank worker``: run background jobs (calibration runs, booklet sets) from the database's
job table."""

from __future__ import annotations

import os
import socket

import click

from .database import open_bank

# itembank.research.jobs.DEFAULT_STALE_AFTER (tests/itembank/cli/test_startup.py checks it)
STALE_AFTER = 120.0


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (for scripts and cron).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between looks at an empty queue.")
@click.option("--stale-after", default=STALE_AFTER, show_default=True,
              type=click.FloatRange(min=5), help="Seconds without a heartbeat after which a "
              "running job is taken over (its worker is presumed dead).")
@click.option("--name", default=None, help="This worker's name in the job table "
              "(default: host:pid).")
def worker(burst: bool, poll: float, stale_after: float, name: str | None) -> None:
    """Claim queued jobs one at a time and run them; Ctrl-C stops after the running job."""
    from datetime import timedelta

    from itembank import config
    from itembank.paper import set_job
    from itembank.research import calibration_runs, jobs, report_job

    handlers = {**calibration_runs.HANDLERS, **set_job.HANDLERS, **report_job.HANDLERS}
    factory = open_bank()
    label = name or f"{socket.gethostname()}:{os.getpid()}"
    click.echo(f"worker {label}: waiting for jobs", err=True)
    try:
        done = jobs.work(factory, handlers, label, poll=poll, stale_after=stale_after, burst=burst,
                         keep_files=timedelta(days=config.load().job_file_days))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    click.echo(f"worker {label}: {done} job(s) run", err=True)


COMMANDS = [worker]
