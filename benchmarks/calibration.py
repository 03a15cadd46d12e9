"""Benchmark: MML-EM calibration (irt.calibration) against girth 0.8.0 on 2PL and GRM.

Time and recovery RMSE at 2,000×30, 10,000×60 and 50,000×120 (persons × items), complete data and
a rotated-booklet design (3 clusters over 3 booklets; each person sees 2/3 of the items; girth
gets the unseen cells via tag_missing_data).  Run by hand:

    .venv/bin/python benchmarks/calibration.py [--skip-girth-large]

Our calibrator runs without standard errors (girth computes none) and with its defaults otherwise
(61 nodes on [-6, 6], tol 1e-4).
"""

from __future__ import annotations

import argparse
import time

import girth
import numpy as np

from irt.calibration import Calibrator
from irt.models import ItemParameters, sample_responses

SIZES = [(2000, 30), (10000, 60), (50000, 120)]


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


def run_ours(model: str, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, int]:
    t = time.perf_counter()
    res = Calibrator(model, se_method="none").fit(x)
    return time.perf_counter() - t, res.params.a, res.params.b, res.iterations


def run_girth(model: str, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
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
    t = time.perf_counter()
    out = girth.twopl_mml(data) if model == "2pl" else girth.grm_mml(data)
    elapsed = time.perf_counter() - t
    b = np.asarray(out["Difficulty"], float)
    return elapsed, np.asarray(out["Discrimination"], float), b.reshape(len(b), -1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--skip-girth-large",
        action="store_true",
        help="run girth at 50,000×120 only for 2PL complete",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(20261125)
    print(
        "| model | persons × items | design | ours s | ours iters | ours RMSE a | ours RMSE b "
        "| girth s | girth RMSE a | girth RMSE b | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model in ("2pl", "grm"):
        for n, j in SIZES:
            true = make_items(model, j, rng)
            full = sample_responses(true, rng.normal(size=n), rng)
            for design in ("complete", "booklets"):
                x = full.astype(float) if design == "complete" else booklets(full, rng)
                t, a, b, iters = run_ours(model, x)
                row = (
                    f"| {model} | {n:,}×{j} | {design} | {t:.2f} | {iters} | "
                    f"{rmse(a, true.a):.3f} | {rmse(b[:, : true.b.shape[1]], true.b):.3f} |"
                )
                large = n == SIZES[-1][0]
                if (
                    args.skip_girth_large
                    and large
                    and not (model == "2pl" and design == "complete")
                ):
                    row += " not run | | | |"
                else:
                    tg, ag, bg = run_girth(model, x)
                    row += (
                        f" {tg:.2f} | {rmse(ag, true.a):.3f} | {rmse(bg[:, : true.b.shape[1]], true.b):.3f}"
                        f" | {tg / t:.0f}× |"
                    )
                print(row, flush=True)


if __name__ == "__main__":
    main()
