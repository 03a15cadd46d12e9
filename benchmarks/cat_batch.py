"""Batch CAT simulation speed: the lock-step batch simulator (``irt.cat.batch.simulate_batch``),
the engine-driven lock-step simulator it replaces in ``itembank simulate-cat``
(``irt.cat.simulator.simulate``: ``engine.select`` per step, one generator per simulee and
selection), sessions run one at a time through ``next_step`` (a sample, scaled), and PyPI
``mirt``'s ``CATEngine.run_batch_simulation`` (its Rust batch path), side by side in one run.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/cat_batch.py [--repeat 3]

Work: a 400-item 2PL bank (a ~ lognormal(0, 0.25), b ~ N(0, 1)), 2,000 simulees θ ~ N(0, 1),
maximum information, fixed start θ = 0, interim EAP, stop at SE ≤ 0.3 or 40 items.  Figures are
milliseconds of wall time per administered item after start-up (bank built and its tables
cached, imports done), best of ``--repeat``; "steps" excludes drawing the answers and the final
WLE (our engine), i.e. θ updates and selections only.  mirt's final θ is its EAP (21 nodes on
[-4, 4], its defaults), ours the WLE.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from typing import Any

import numpy as np

from irt.cat import CatBank, CatConfig
from irt.cat.batch import simulate_batch
from irt.cat.draws import fixed_draws
from irt.cat.simulator import replay, simulate, summarize
from irt.models import ItemParameters

N_ITEMS, N_SIMULEES, STOP_SE, MAX_ITEMS = 400, 2000, 0.3, 40
SESSION_SAMPLE = 100  # sessions timed through next_step one answer at a time


def bank_2pl(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.lognormal(0.0, 0.25, n), rng.normal(0.0, 1.0, n)


def config(exposure: str) -> CatConfig:
    return CatConfig.from_dict(
        {
            "estimation": {"interim": "eap", "final": "wle"},
            "stopping": {"se": STOP_SE, "min_items": 1, "max_items": MAX_ITEMS},
            "exposure": {"method": exposure, "k": 5},
        }
    )


def best_of(repeat: int, run: Any) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - t0)
    return best, out


def ours(bank: CatBank, theta: np.ndarray, exposure: str, repeat: int) -> list[dict[str, Any]]:
    cfg = config(exposure)
    rows = []
    wall, res = best_of(repeat, lambda: simulate_batch(bank, cfg, theta, seed=1))
    steps = min(simulate_batch(bank, cfg, theta, seed=1).selection_seconds for _ in range(repeat))
    rep = summarize(res)
    items = int(res.lengths.sum())
    rows.append({"engine": "ours, batch (irt.cat.batch)", "exposure": exposure, "items": items,
                 "ms_item": 1e3 * wall / items, "ms_item_steps": 1e3 * steps / items,
                 "mean_length": rep["mean_length"], "rmse": rep["rmse"]})
    wall, old = best_of(1, lambda: simulate(bank, cfg, theta, seed=1))
    rep = summarize(old)
    items_old = int(old.lengths.sum())
    rows.append({"engine": "ours, engine lock-step (irt.cat.simulator.simulate)",
                 "exposure": exposure, "items": items_old, "ms_item": 1e3 * wall / items_old,
                 "ms_item_steps": 1e3 * old.selection_seconds / items_old,
                 "mean_length": rep["mean_length"], "rmse": rep["rmse"]})
    t0 = time.perf_counter()
    n_items = 0
    for e in range(SESSION_SAMPLE):
        with fixed_draws(res.draws.session(e)):
            items_e, _ = replay(bank, cfg, res, e)
        n_items += len(items_e)
    wall = time.perf_counter() - t0
    rows.append({"engine": f"ours, next_step per answer ({SESSION_SAMPLE} sessions)",
                 "exposure": exposure, "items": n_items, "ms_item": 1e3 * wall / n_items,
                 "ms_item_steps": None, "mean_length": n_items / SESSION_SAMPLE, "rmse": None})
    return rows


def mirt_batch(a: np.ndarray, b: np.ndarray, theta: np.ndarray, repeat: int) -> dict[str, Any]:
    import mirt

    model = mirt.TwoParameterLogistic(n_items=a.size)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # known parameters: what mirt's own fit sets (no public setter in 1.2)

    def run() -> Any:
        engine = mirt.CATEngine(model, item_selection="MFI", stopping_rule="SE",
                                scoring_method="EAP", initial_theta=0.0, se_threshold=STOP_SE,
                                max_items=MAX_ITEMS, min_items=1, seed=1)
        return engine.run_batch_simulation(theta, use_rust=True)

    run()  # start-up: the Rust extension's first call
    wall, results = best_of(repeat, run)
    lengths = np.array([r.n_items_administered if hasattr(r, "n_items_administered")
                        else len(r.items_administered) for r in results])
    est = np.array([r.theta for r in results], dtype=float).ravel()
    items = int(lengths.sum())
    return {"engine": f"mirt {mirt.__version__} run_batch_simulation (Rust)", "exposure": "none",
            "items": items, "ms_item": 1e3 * wall / items, "ms_item_steps": None,
            "mean_length": float(lengths.mean()),
            "rmse": float(np.sqrt(np.mean((est - theta) ** 2)))}


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown"
    return f"{model}; Python {platform.python_version()}; numpy {np.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-mirt", action="store_true")
    args = parser.parse_args()
    a, b = bank_2pl(N_ITEMS, 7)
    theta = np.random.default_rng(8).normal(size=N_SIMULEES)
    params = ItemParameters(
        tuple(f"i{j}" for j in range(N_ITEMS)), ("2pl",) * N_ITEMS, a, b[:, None], np.zeros(N_ITEMS)
    )
    bank = CatBank.build(params)
    _ = bank.unit_information_table  # start-up: the θ-grid tables
    simulate_batch(bank, config("none"), theta[:50], seed=0)  # warm caches and imports
    rows = ours(bank, theta, "none", args.repeat) + ours(bank, theta, "randomesque", args.repeat)
    if not args.no_mirt:
        try:
            rows.append(mirt_batch(a, b, theta, args.repeat))
        except ImportError:
            print("mirt is not installed (pip install mirt): its row is left out")
    print(machine())
    print("| engine | exposure | items | ms / item (wall) | ms / item (steps) | mean length | RMSE |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        steps = f"{r['ms_item_steps']:.4f}" if r["ms_item_steps"] is not None else "–"
        rmse = f"{r['rmse']:.3f}" if r["rmse"] is not None else "–"
        print(f"| {r['engine']} | {r['exposure']} | {r['items']:,} | {r['ms_item']:.4f} | {steps} "
              f"| {r['mean_length']:.2f} | {rmse} |")


if __name__ == "__main__":
    main()
