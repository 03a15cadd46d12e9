"""How long a printed booklet takes to render (WeasyPrint, CJK fonts), per language.

Run by hand: ``.venv/bin/python benchmarks/booklets.py [--repeat 3]``.  Uses the approved units
of items/ and the default rotation design (``itembank.booklets.design.make_design``); renders
booklet 1 and the teacher materials in zh-TW and en, and prints pages and seconds.

``--set zh-TW [--workers 1 2] [--rounds 2]``: the whole set instead (what ``itembank booklets`` and
the web app's "download all" render), once per number of processes: the 13 booklets rendered whole
("before": ``render_set(..., assemble=False)``) and assembled from cluster fragments ("after", the
default), alternating in one process, then the two teacher documents alone.  Wall time from the
call to the last PDF (the pool's start-up included), CPU seconds of this process and of the pool's
processes, and the booklets' size.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from itembank.bank.validation import load_bank
from itembank.config import PROJECT_ROOT
from itembank.paper.booklet_set import default_workers, render_set
from itembank.paper.design import make_design
from itembank.paper.render import render_booklet, render_teacher_materials


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its ended child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        info = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=Path, default=PROJECT_ROOT / "items")
    parser.add_argument("--set", dest="set_language", choices=["zh-TW", "en"])
    parser.add_argument("--workers", type=int, nargs="+")
    parser.add_argument("--rounds", type=int, default=1, help="--set: before/after pairs per number of processes")
    args = parser.parse_args()
    bank = load_bank([args.items])
    loaded = [u for u in bank.units if str(u.unit.status) == "approved"]
    units = [u.unit for u in loaded]
    images = {u.unit.id: u.images for u in loaded}
    design = make_design(units)
    by_id = {u.id: u for u in units}
    booklet = [by_id[u] for u in design.units_of(1)]
    print(f"{len(units)} approved units; design {design.name}; booklet 1: {len(booklet)} units, "
          f"{sum(len(u.items) for u in booklet)} items")
    print(f"| document | language | pages | seconds (best of {args.repeat}) | s / page |")
    print("|---|---|---|---|---|")
    render_booklet(booklet[:1], "en", images=images)  # warm-up: fonts and Pango
    if args.set_language:
        # CPU seconds of this process and of the pool's (ended) processes: on a shared machine the
        # wall time follows the load, the CPU time much less; CPU / processes is the wall time on
        # an otherwise idle machine with as many cores as processes
        print("| documents | way | processes | wall s | CPU s (all processes) | CPU / processes | MB "
              "| load average (1 min) before → after |")
        print("|---|---|---|---|---|---|---|---|")

        def run(name: str, workers: int, **options: Any) -> dict[str, bytes]:
            before = os.getloadavg()[0]
            cpu0 = _cpu()
            start = time.perf_counter()
            files = render_set(by_id, images, design, args.set_language, workers=workers, **options)
            took = time.perf_counter() - start
            cpu = _cpu() - cpu0
            size = sum(len(pdf) for pdf in files.values()) / 1e6
            print(f"| {name} | {workers} | {took:.1f} | {cpu:.1f} | {cpu / workers:.1f} | {size:.1f} | "
                  f"{before:.1f} → {os.getloadavg()[0]:.1f} |", flush=True)
            return files

        for workers in args.workers or [default_workers()]:
            for _ in range(args.rounds):
                whole = run(f"{len(design.booklets)} booklets ({args.set_language}) | before: each rendered whole",
                            workers, teacher=False, assemble=False)
                assembled = run(f"{len(design.booklets)} booklets ({args.set_language}) | after: assembled from "
                                "cluster fragments", workers, teacher=False)
                assert list(whole) == list(assembled) and len(whole) == len(design.booklets)
            run(f"answer key + coding guide ({args.set_language}) | each rendered whole", workers, numbers=[])
        return
    for language in ("zh-TW", "en"):
        jobs = {
            "booklet 1": lambda language=language: render_booklet(booklet, language, booklet_label="1", images=images),
            "answer key (all units)": lambda language=language: render_teacher_materials(units, language, "answer-key"),
            "coding guide (all units)": lambda language=language: render_teacher_materials(units, language, "coding-guide"),
        }
        for name, job in jobs.items():
            best, pdf = float("inf"), b""
            for _ in range(args.repeat):
                start = time.perf_counter()
                pdf = job()
                best = min(best, time.perf_counter() - start)
            n = pages(pdf)
            print(f"| {name} | {language} | {n} | {best:.2f} | {best / n:.2f} |")


if __name__ == "__main__":
    main()
