"""The whole set of a design's booklets as a background job (the web app's "download all").

The web app queues a job of kind :data:`JOB_KIND` with the design's parameters
(:func:`enqueue_set`); ``itembank worker`` renders the set in parallel processes
(:func:`itembank.paper.booklet_set.render_set`), reporting each finished document as the job's
progress, and stores one ZIP (design.yaml, the booklets, the answer key and the coding guide) in
the database with the job (:func:`itembank.research.jobs.store_file`, in the transaction that
finishes the job), so that every web host serves it and a retried job replaces it.
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy.orm import Session

from itembank.research import jobs
from itembank.research.models import Job

from . import printed
from .booklet_set import PrintBank, approved_units, render_set, zip_set
from .design import Design, design_document, make_design

JOB_KIND = "booklet-set"
ZIP_NAME = "booklets.zip"  # the job's file (jobs.load_file(session, job_id, ZIP_NAME))


def set_filename(payload: dict[str, Any]) -> str:
    """The ZIP's name for the person who downloads it."""
    return f"booklets-{payload.get('language', '')}.zip"


def enqueue_set(session: Session, *, language: str, clusters: int | None, positions: int | None,
                blocks: int, test_name: str, created_by: int | None, printed: int | None = None) -> Job:
    """Queue the set of the design with these parameters (in the caller's transaction).
    printed: the id of the printed design (:mod:`itembank.paper.printed`) to render, frozen when
    the set was asked for; the worker renders its pinned versions, not the bank of its own time."""
    payload = {"language": language, "clusters": clusters, "positions": positions, "blocks": blocks,
               "test_name": test_name, "printed": printed}
    return jobs.enqueue(session, JOB_KIND, payload, created_by=created_by, max_attempts=2)


def run_job(ctx: jobs.JobContext, *, workers: int | None = None) -> None:
    """The worker's handler: render the set, write the ZIP, finish the job."""
    p = ctx.payload
    ctx.progress(0.01, "loading the bank", force=True)
    if p.get("printed") is not None:
        with ctx.factory() as s:
            try:
                frozen = printed.get(s, int(p["printed"]))
            except printed.UnknownDesign as exc:
                raise jobs.PermanentJobError(str(exc), failure="design_missing") from exc
            bank, design = printed.pinned_bank(s, frozen), printed.design_of(frozen)
            label = printed.label(frozen)
        _render_and_store(ctx, bank, design, label, workers)
        return
    with ctx.factory() as s:
        bank = approved_units(s)
    if not bank.units:
        raise jobs.PermanentJobError("the bank has no approved units", failure="no_approved_units")
    if p.get("clusters") is not None and int(p["clusters"]) > len(bank.units):
        raise jobs.PermanentJobError("this design cannot be built: more clusters than units",
                                     failure="design_invalid")
    try:
        design = make_design(bank.units, p.get("clusters"), p.get("positions"), int(p.get("blocks") or 1))
    except ValueError as exc:
        raise jobs.PermanentJobError(f"this design cannot be built: {exc}",
                                     failure="design_invalid") from exc
    _render_and_store(ctx, bank, design, "", workers)


def _render_and_store(ctx: jobs.JobContext, bank: PrintBank, design: Design, label: str,
                      workers: int | None) -> None:
    p = ctx.payload

    def progress(done: int, total: int, name: str) -> None:
        ctx.progress(0.03 + 0.92 * done / total, f"{done}/{total} {name}", force=done == total)

    ctx.progress(0.03, "rendering", force=True)
    files = render_set(bank.by_id, bank.images, design, str(p["language"]),
                       test_name=p.get("test_name") or None, workers=workers, progress=progress,
                       design_label=label)
    document = design_document(design)
    if label:
        document = {"printed_design": int(label), **document}
    design_yaml = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    data = zip_set(files, {"design.yaml": design_yaml})
    jobs.finish_with_file(ctx, ZIP_NAME, data, "application/zip", message=f"{len(files)} PDF")


HANDLERS = {JOB_KIND: run_job}
