"""`itembank calibrate` end to end against a yardstick, in one run.

The data: 50,000 persons × 120 2PL items in a booklet design (4 blocks of 30 items, each person
takes two blocks), written as a RESPONSES.csv.  Timed, each in a fresh process:
- `itembank calibrate RESPONSES.csv --model 2pl` (start-up, CSV parse, EM, standard errors, writing);
- the same with the phases timed inside one process (parse, EM without SEs, SEs);
- the yardstick: a plain vectorised numpy Bock–Aitkin EM for the 2PL (61 nodes, Newton M-step per
  item, no acceleration), not counting its CSV parse, to the same tolerance on the parameters.

Run from the repository root:  .venv/bin/python benchmarks/calibrate_end_to_end.py
"""

from __future__ import annotations

import csv
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N, J, SEED = 50_000, 120, 20261203


def make_data(path: Path) -> None:
    from irt.models import ItemParameters, sample_responses

    rng = np.random.default_rng(SEED)
    records = [{"id": f"i{j:03d}", "model": "2pl", "a": float(np.exp(rng.normal(0, 0.3))),
                "b": float(rng.normal())} for j in range(J)]
    x = sample_responses(ItemParameters.from_records(records), rng.normal(size=N), rng).astype(float)
    blocks = np.arange(J).reshape(4, 30)
    pairs = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3)]
    booklet = rng.integers(0, len(pairs), N)
    for b, (u, v) in enumerate(pairs):
        hidden = np.setdiff1d(np.arange(J), np.r_[blocks[u], blocks[v]])
        x[np.ix_(booklet == b, hidden)] = np.nan
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["person_id", *(r["id"] for r in records)])
        for i in range(N):
            writer.writerow([f"p{i}", *("" if np.isnan(v) else int(v) for v in x[i])])


def yardstick_em(x: np.ndarray, tol: float = 1e-4, max_iter: int = 500) -> tuple[int, float]:
    """Bock & Aitkin (1981) EM for the 2PL, logistic metric, N(0, 1) population, vectorised over
    persons and items.  x: (N persons, J items), NaN = not administered."""
    nodes = np.linspace(-6, 6, 61)
    weights = np.exp(-0.5 * nodes**2)
    weights /= weights.sum()
    seen = ~np.isnan(x)
    right = np.where(seen, x, 0.0)
    wrong = np.where(seen, 1.0 - x, 0.0)
    a, d = np.ones(x.shape[1]), np.zeros(x.shape[1])
    for iteration in range(1, max_iter + 1):
        p = 1.0 / (1.0 + np.exp(-(np.outer(nodes, a) + d)))  # (Q, J)
        loglik = right @ np.log(p).T + wrong @ np.log1p(-p).T + np.log(weights)  # (N, Q)
        post = np.exp(loglik - loglik.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        r1, n_q = post.T @ right, post.T @ seen  # (Q, J) expected right answers and persons
        old = np.r_[a, d]
        for _ in range(5):  # Newton on (a, d) for every item at once
            p = 1.0 / (1.0 + np.exp(-(np.outer(nodes, a) + d)))
            resid, w = r1 - n_q * p, n_q * p * (1 - p)
            ga, gd = (resid * nodes[:, None]).sum(0), resid.sum(0)
            haa, had, hdd = (w * nodes[:, None] ** 2).sum(0), (w * nodes[:, None]).sum(0), w.sum(0)
            det = haa * hdd - had**2
            a += (hdd * ga - had * gd) / det
            d += (haa * gd - had * ga) / det
        if np.max(np.abs(np.r_[a, d] - old)) < tol:
            return iteration, float(np.max(np.abs(np.r_[a, d] - old)))
    return max_iter, float("nan")


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "responses.csv"
        make_data(csv_path)
        itembank = str(Path(sys.executable).with_name("itembank"))
        end_to_end = min(timed([itembank, "calibrate", str(csv_path), "--model", "2pl",
                                "--out", str(Path(tmp) / "p.json")]) for _ in range(2))
        phases = subprocess.run([sys.executable, "-c", f"""
import time
t0 = time.perf_counter()
from itembank.bank.responses_csv import read_responses
from irt.calibration import Calibrator
t1 = time.perf_counter()
data = read_responses({str(csv_path)!r})
t2 = time.perf_counter()
Calibrator("2pl", se_method="none").fit(data.scores, data.item_ids)
t3 = time.perf_counter()
Calibrator("2pl").fit(data.scores, data.item_ids)
t4 = time.perf_counter()
print(f"{{t1 - t0:.2f}} {{t2 - t1:.2f}} {{t3 - t2:.2f}} {{(t4 - t3) - (t3 - t2):.2f}}")
"""], check=True, capture_output=True, text=True).stdout.split()
        from itembank.bank.responses_csv import read_responses

        scores = read_responses(csv_path).scores
        start = time.perf_counter()
        iterations, _ = yardstick_em(scores)
        yardstick = time.perf_counter() - start
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores")
    print(f"itembank calibrate, end to end (best of 2): {end_to_end:.2f} s")
    print(f"  imports {phases[0]} s, CSV parse {phases[1]} s, EM {phases[2]} s, standard errors {phases[3]} s")
    print(f"yardstick numpy EM (no parse, no SEs): {yardstick:.2f} s, {iterations} iterations")


if __name__ == "__main__":
    main()
