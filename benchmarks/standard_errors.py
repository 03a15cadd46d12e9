"""How long the standard errors of an MML calibration take, beside the EM itself.

For each model (2PL, GRM, GPCM; 50,000 persons × 120 items in a booklet design, 4 blocks of 30
items, each person takes two blocks): the fit without SEs (``se_method="none"``), and the SEs
alone, timed as the fit with SEs minus the fit without (median of ``--repeat`` runs each), for the
cross-product method ("xpd", the default at this size) and, on a small data set (2,000 × 30),
for "oakes" (the default there).  ``--out FILE`` writes the SEs as JSON, so that two versions of
the code can be compared number for number.

Run from the repository root:
``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/standard_errors.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from irt.calibration import Calibrator
from irt.models import ItemParameters, sample_responses

SEED = 20261203


def make_data(model: str, n: int, j: int, booklets: bool) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    records: list[dict[str, Any]] = []
    for k in range(j):
        a = float(np.exp(rng.normal(0, 0.3)))
        b: float | list[float] = (float(rng.normal()) if model == "2pl"
                                  else sorted(rng.normal(0, 0.8, 3).tolist()))
        records.append({"id": f"i{k:03d}", "model": model, "a": a, "b": b})
    x = sample_responses(ItemParameters.from_records(records), rng.normal(size=n), rng).astype(float)
    if booklets:
        blocks = np.array_split(np.arange(j), 4)
        pairs = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3)]
        booklet = rng.integers(0, len(pairs), n)
        for i, (u, v) in enumerate(pairs):
            hidden = np.setdiff1d(np.arange(j), np.r_[blocks[u], blocks[v]])
            x[np.ix_(booklet == i, hidden)] = np.nan
    return x


def median_time(x: np.ndarray, model: str, method: str, repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` fits, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = Calibrator(model, se_method=method).fit(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["2pl", "grm", "gpcm"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    dump: dict[str, Any] = {}
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| model | persons × items | SE method | EM s | SEs s | SEs / EM |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        for n, j, method in ((50_000, 120, "xpd"), (2_000, 30, "oakes")):
            x = make_data(model, n, j, booklets=True)
            em, _ = median_time(x, model, "none", args.repeat)
            total, res = median_time(x, model, method, args.repeat)
            se = total - em
            print(f"| {model} | {n:,}×{j} | {method} | {em:.3f} | {se:.3f} | {se / em:.2f} |", flush=True)
            dump[f"{model}-{n}-{method}"] = {"se": res.se, "population_se": res.population_se}
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.out:
        args.out.write_text(json.dumps(dump), encoding="utf-8")


if __name__ == "__main__":
    main()
