"""Benchmark: MML-EM calibration (irt.calibration) against girth 0.8.0 on 2PL, GRM and GPCM.

Time and recovery RMSE at 2,000×30, 10,000×60 and 50,000×120 (persons × items), complete data and
a rotated-booklet design (3 clusters over 3 booklets; each person sees 2/3 of the items; girth
gets the unseen cells via tag_missing_data).  girth's functions: ``twopl_mml``, ``grm_mml`` and,
for the GPCM, ``pcm_mml`` (despite its name it estimates a slope per item, bounded to
[0.25, 4], i.e. it fits the GPCM).  Run by hand:

    PYTHONPATH=. .venv/bin/python benchmarks/calibration.py [--skip-girth-large] [--ours-only] [--repeat 3]

Our calibrator runs without standard errors (girth computes none) and with its defaults otherwise
(61 nodes on [-6, 6], tol 1e-4).  Each time is the median of ``--repeat`` runs of the same fit
(one run when the first took over 10 s), the same rule for both programs: on a shared machine
single timings of sub-second fits are noisy.  The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import girth
import numpy as np

from irt.calibration import Calibrator
from irt.models import ItemParameters, sample_responses

SIZES = [(2000, 30), (10000, 60), (50000, 120)]
MODELS = ("2pl", "grm", "gpcm")
GIRTH = {"2pl": girth.twopl_mml, "grm": girth.grm_mml, "gpcm": girth.pcm_mml}


def make_items(model: str, n_items: int, rng: np.random.Generator) -> ItemParameters:
    recs = []
    for j in range(n_items):
        a = float(rng.lognormal(0.1, 0.3))
        b = float(rng.normal()) if model == "2pl" else sorted(rng.normal(0, 1.2, 3).tolist())
        recs.append({"id": f"i{j}", "model": model, "a": a, "b": b})
    return ItemParameters.from_records(recs)


def booklets(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cluster = np.arange(x.shape[1]) % 3
    bk = rng.integers(0, 3, x.shape[0])[:, None]
    seen = (cluster[None, :] == bk) | (cluster[None, :] == (bk + 1) % 3)
    return np.where(seen, x.astype(float), np.nan)


def rmse(est: np.ndarray, true: np.ndarray) -> float:
    mask = ~np.isnan(true)
    return float(np.sqrt(np.mean((est[mask] - true[mask]) ** 2)))


def timed(fit: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds over ``repeat`` runs (one run if the first took over 10 s), last result."""
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t)
        if times[0] > 10:
            break
    return statistics.median(times), out


def run_ours(model: str, x: np.ndarray, repeat: int) -> tuple[float, np.ndarray, np.ndarray, int]:
    t, res = timed(lambda: Calibrator(model, se_method="none").fit(x), repeat)
    return t, res.params.a, res.params.b, res.iterations


def run_girth(model: str, x: np.ndarray, repeat: int) -> tuple[float, np.ndarray, np.ndarray]:
    data = x.T.copy()
    if model == "grm":
        data = data + 1  # girth's GRM categories start at 1
    if np.isnan(data).any():
        data = girth.tag_missing_data(
            np.nan_to_num(data, nan=-99).astype(int),
            list(np.unique(data[~np.isnan(data)]).astype(int)),
        )
    else:
        data = data.astype(int)
    t, out = timed(lambda: GIRTH[model](data), repeat)
    b = np.asarray(out["Difficulty"], float)
    return t, np.asarray(out["Discrimination"], float), b.reshape(len(b), -1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--skip-girth-large",
        action="store_true",
        help="run girth at 50,000×120 only for 2PL complete",
    )
    parser.add_argument("--ours-only", action="store_true", help="skip every girth fit")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        "| model | persons × items | design | ours s | ours iters | ours RMSE a | ours RMSE b "
        "| girth s | girth RMSE a | girth RMSE b | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    # one generator in a fixed order (2PL, GRM, GPCM): the data of the 2PL and GRM rows are those
    # of the earlier tables, and --models skips fits, not draws
    rng = np.random.default_rng(20261125)
    for model in MODELS:
        for n, j in SIZES:
            true = make_items(model, j, rng)
            full = sample_responses(true, rng.normal(size=n), rng)
            for design in ("complete", "booklets"):
                x = full.astype(float) if design == "complete" else booklets(full, rng)
                if model not in args.models:
                    continue
                t, a, b, iters = run_ours(model, x, args.repeat)
                row = (
                    f"| {model} | {n:,}×{j} | {design} | {t:.3f} | {iters} | "
                    f"{rmse(a, true.a):.3f} | {rmse(b[:, : true.b.shape[1]], true.b):.3f} |"
                )
                large = n == SIZES[-1][0]
                skip_large = args.skip_girth_large and large
                if args.ours_only or (skip_large and not (model == "2pl" and design == "complete")):
                    row += " not run | | | |"
                else:
                    tg, ag, bg = run_girth(model, x, args.repeat)
                    row += (
                        f" {tg:.2f} | {rmse(ag, true.a):.3f} | "
                        f"{rmse(bg[:, : true.b.shape[1]], true.b):.3f} | {tg / t:.0f}× |"
                    )
                print(row, flush=True)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
