"""A design's whole set of printed documents (every booklet, the answer key and the coding guide)
rendered in parallel processes and packed as one ZIP.

A cluster's units print the same in every booklet that holds the cluster (four of the 13 in the
default design), so the set lays out and draws each cluster once, as a fragment, and assembles
every booklet from its clusters' fragments and a frame of its own (cover, page margin boxes,
question numbers, end note, answer sheet): :mod:`itembank.paper.booklet_assembly`.  The tasks
(the teacher documents, the fragments, then each booklet as soon as its fragments are done) run in
a pool of processes sized to the CPUs.  The documents are the same bytes as when rendered in one
process (``tests/itembank/paper/test_booklet_set.py``), and a booklet's pages look like those of
:func:`~itembank.paper.render.render_booklet`, which prints a single booklet.  The pool forks
where it can (Linux), so that the units and images are inherited rather than sent to every process.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.bank.models import MediaFile, UnitVersion
from itembank.bank.queries import in_use_versions, unit_schema
from itembank.bank.schema import LocalText, Unit

from .booklet_assembly import Fragment, assemble_booklet, render_fragment
from .design import Design
from .render import KINDS, render_booklet, render_teacher_materials

Progress = Callable[[int, int, str], None]  # (documents done, documents in all, the last one's name)


@dataclass
class PrintBank:
    """The approved units in use, with their stored images (unit id → src → bytes) and, when read
    from the database, the versions they come from (``pins``: unit id → unit version id, version
    number and item parameters ids, as :class:`itembank.paper.models.PrintedDesign` keeps them)."""

    units: list[Unit]
    images: dict[str, dict[str, bytes]] = field(default_factory=dict)
    pins: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}


def approved_units(session: Session) -> PrintBank:
    """Per unit, its approved version in use (as ``itembank booklets`` reads the database)."""
    versions = in_use_versions(session)
    units = [unit_schema(v) for v in versions]
    hashes = {h for v in versions for h in (v.media or {}).values()}
    blobs = (
        {m.sha256: m.data for m in session.scalars(select(MediaFile).where(MediaFile.sha256.in_(hashes)))}
        if hashes
        else {}
    )
    images = {
        v.unit_id: {src: blobs[h] for src, h in (v.media or {}).items() if h in blobs} for v in versions
    }
    return PrintBank(units, images, {v.unit_id: version_pin(v) for v in versions})


def version_pin(version: UnitVersion) -> dict[str, Any]:
    """What a printed design keeps of ``version``: its id and number, and its items' parameters."""
    return {"unit_version": version.id, "version": version.version,
            "parameters": {iv.item_id: iv.parameters_id for iv in version.item_versions}}


def booklets_of(design: Design) -> dict[str, list[int]]:
    """Unit id → the numbers of the booklets that hold it."""
    out: dict[str, list[int]] = {}
    for b in design.booklets:
        for u in design.units_of(b):
            out.setdefault(u, []).append(b)
    return out


def booklet_filename(design: Design, number: int, language: str) -> str:
    width = max(2, len(str(max(design.booklets))))
    return f"booklet-{number:0{width}d}-{language}.pdf"


@dataclass(frozen=True)
class Document:
    """One PDF of the set: a booklet (``number``) or a teacher document (``kind``)."""

    filename: str
    number: int | None = None
    kind: str | None = None
    size: int = 0  # items in it: the longest documents are started first


@dataclass(frozen=True)
class _Job:
    units: Mapping[str, Unit]
    images: Mapping[str, Mapping[str, bytes]]
    design: Design
    language: str
    test_name: str | LocalText | None
    design_label: str = ""


_JOB: _Job | None = None  # the set being rendered, in each process of the pool


def _set_job(job: _Job | None) -> None:
    global _JOB
    _JOB = job


def _render(doc: Document, fragments: Mapping[str, Fragment] | None = None) -> tuple[str, bytes]:
    job = _JOB
    assert job is not None
    if doc.number is not None:
        units = [job.units[u] for u in job.design.units_of(doc.number)]
        images = {u.id: job.images.get(u.id, {}) for u in units}
        options: dict[str, Any] = {"test_name": job.test_name, "booklet_label": str(doc.number),
                                   "design_label": job.design_label,
                                   "minutes": job.design.stated_minutes(doc.number)}
        if fragments is None:
            pdf = render_booklet(units, job.language, images=images, **options)
        else:
            by_unit = {u: fragments[c] for c in job.design.booklets[doc.number]
                       for u in job.design.cluster_by_id[c].units}
            pdf = assemble_booklet(units, by_unit, job.language, images=images, **options)
    else:
        assert doc.kind is not None
        used = [job.units[u] for u in job.design.unit_ids()]
        pdf = render_teacher_materials(used, job.language, doc.kind, test_name=job.test_name,
                                       booklets_of=booklets_of(job.design), design_label=job.design_label)
    return doc.filename, pdf


def _fragment(cluster: str) -> Fragment:
    job = _JOB
    assert job is not None
    units = [job.units[u] for u in job.design.cluster_by_id[cluster].units]
    return render_fragment(cluster, units, job.language, {u.id: job.images.get(u.id, {}) for u in units})


def documents(design: Design, units: Mapping[str, Unit], language: str, *,
              numbers: Sequence[int] | None = None, teacher: bool = True) -> list[Document]:
    """The documents of the set, in the order of their files: booklets, then teacher materials."""
    wanted = list(design.booklets) if numbers is None else list(numbers)
    out = [Document(booklet_filename(design, b, language), number=b,
                    size=sum(len(units[u].items) for u in design.units_of(b))) for b in wanted]
    if teacher:
        size = sum(len(units[u].items) for u in design.unit_ids())
        out += [Document(f"{kind}-{language}.pdf", kind=kind, size=size) for kind in KINDS]
    return out


def default_workers() -> int:
    """Processes for a set: one per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _clusters(design: Design, docs: Sequence[Document], units: Mapping[str, Unit]) -> list[str]:
    """The clusters the booklets among ``docs`` hold, the largest first (they finish last)."""
    wanted = {c for d in docs if d.number is not None for c in design.booklets[d.number]}
    by_id = design.cluster_by_id
    return sorted(wanted, key=lambda c: (-sum(len(units[u].items) for u in by_id[c].units), c))


def render_set(units: Mapping[str, Unit], images: Mapping[str, Mapping[str, bytes]], design: Design,
               language: str, *, test_name: str | LocalText | None = None,
               numbers: Sequence[int] | None = None, teacher: bool = True, workers: int | None = None,
               progress: Progress | None = None, design_label: str = "",
               assemble: bool = True) -> dict[str, bytes]:
    """Every document of the set as filename → PDF bytes, in file order.

    units: unit id → Unit (every unit of the design); images: unit id → src → bytes.  numbers:
    only these booklets (default all); teacher: also the answer key and the coding guide.
    workers: processes (default :func:`default_workers`; 1 renders here, one after the other).
    progress: called after each document with (done, total, filename).  design_label: the printed
    design's id (:mod:`itembank.paper.printed`), on every cover and teacher document.
    assemble: booklets assembled from cluster fragments (default); False renders each booklet
    whole, as :func:`~itembank.paper.render.render_booklet` (the way before; for comparisons)."""
    docs = documents(design, units, language, numbers=numbers, teacher=teacher)
    job = _Job(units, images, design, language, test_name, design_label)
    booklets = [d for d in docs if d.number is not None]
    clusters = _clusters(design, booklets, units) if assemble else []
    done: dict[str, bytes] = {}

    def report(name: str) -> None:
        if progress is not None:
            progress(len(done), len(docs), name)

    def needs(doc: Document) -> list[str]:
        return list(design.booklets[doc.number]) if assemble and doc.number is not None else []

    # teacher documents first (the longest tasks), then the fragments, then each booklet
    first = [d for d in docs if d.number is None] + ([] if assemble else sorted(booklets, key=lambda d: -d.size))
    tasks = len(first) + len(clusters) + (len(booklets) if assemble else 0)
    workers = min(workers or default_workers(), tasks) if tasks else 1
    if workers <= 1:
        _set_job(job)
        try:
            made = {c: _fragment(c) for c in clusters}
            for doc in [d for d in docs if d.number is None] + booklets:
                parts = {c: made[c] for c in needs(doc)} if assemble and doc.number is not None else None
                name, pdf = _render(doc, parts)
                done[name] = pdf
                report(name)
        finally:
            _set_job(None)
        return {d.filename: done[d.filename] for d in docs}
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    if context.get_start_method() == "fork":
        import weasyprint  # noqa: F401  loaded once here, inherited by every process of the pool
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_set_job,
                             initargs=(job,)) as pool:
        futures: dict[Future[Any], str | Document] = {pool.submit(_render, d): d for d in first}
        futures.update({pool.submit(_fragment, c): c for c in clusters})
        fragments: dict[str, Fragment] = {}
        waiting = list(booklets) if assemble else []
        try:
            while futures:
                for future in as_completed(list(futures)):
                    task = futures.pop(future)
                    if isinstance(task, str):
                        fragments[task] = future.result()
                        ready = [d for d in waiting if all(c in fragments for c in needs(d))]
                        for doc in ready:
                            waiting.remove(doc)
                            parts = {c: fragments[c] for c in needs(doc)}
                            futures[pool.submit(_render, doc, parts)] = doc
                        if ready:
                            break  # wait on the new tasks too
                    else:
                        name, pdf = future.result()
                        done[name] = pdf
                        report(name)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return {d.filename: done[d.filename] for d in docs}


def zip_set(files: Mapping[str, bytes], extra: Mapping[str, str | bytes] | None = None) -> bytes:
    """The documents (and ``extra`` files, e.g. design.yaml and ANSWERS.csv) as one ZIP.
    PDFs are stored as they are (already compressed); text files are deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in (extra or {}).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, pdf in files.items():
            zf.writestr(name, pdf, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
