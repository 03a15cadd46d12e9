"""How long a printed booklet takes to render (WeasyPrint, CJK fonts), per language.

Run by hand: ``.venv/bin/python benchmarks/booklets.py [--repeat 3]``.  Uses the approved units
of items/ and the default rotation design (``itembank.booklets.design.make_design``); renders
booklet 1 and the teacher materials in zh-TW and en, and prints pages and seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from itembank.bank.validation import load_bank
from itembank.config import PROJECT_ROOT
from itembank.paper.design import make_design
from itembank.paper.render import render_booklet, render_teacher_materials


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
