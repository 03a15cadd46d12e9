"""CAT benchmark: this engine against catsim on the same 500-item 2PL bank and 2,000 examinees
(maximum information, fixed start θ = 0, stop at SE 0.3 or 50 items), and the time to select the
next item from a 2,000-item bank.

    .venv/bin/python benchmarks/cat.py

catsim (dev dependency) estimates θ by bounded MLE with Dodd's (1990) step for all-correct /
all-wrong patterns and stops on 1/sqrt(I(θ̂)); our closest configuration is interim MLE (EAP until
the pattern is mixed) with the SE of the MLE; our default is interim EAP (posterior SD) with a
final WLE.  Both use the logistic metric without 1.7.
"""

from __future__ import annotations

import time

import numpy as np

from irt.cat import CatBank, CatConfig, next_step
from irt.cat.engine import select
from irt.cat.simulator import simulate, summarize
from irt.models import ItemParameters

N_ITEMS, N_EXAMINEES, STOP_SE, MAX_ITEMS = 500, 2000, 0.3, 50


def bank_2pl(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.lognormal(0.0, 0.25, n), rng.normal(0.0, 1.0, n)


def ours(a: np.ndarray, b: np.ndarray, theta: np.ndarray, interim: str) -> dict[str, float]:
    n = a.size
    params = ItemParameters(
        tuple(f"i{j}" for j in range(n)), ("2pl",) * n, a, b[:, None], np.zeros(n)
    )
    bank = CatBank.build(params)
    cfg = CatConfig.from_dict(
        {
            "estimation": {"interim": interim, "final": "wle"},
            "stopping": {"se": STOP_SE, "min_items": 1, "max_items": MAX_ITEMS},
        }
    )
    t0 = time.perf_counter()
    res = simulate(bank, cfg, theta, seed=1)
    wall = time.perf_counter() - t0
    rep = summarize(res)
    return {
        "mean_length": rep["mean_length"],
        "rmse": rep["rmse"],
        "bias": rep["bias"],
        "max_exposure": rep["max_exposure"],
        "seconds_per_selection": rep["seconds_per_selection_batch"],
        "wall_seconds": wall,
    }


def catsim_run(a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> dict[str, float]:
    from catsim.estimation import NumericalSearchEstimator
    from catsim.initialization import FixedPointInitializer
    from catsim.item_bank import ItemBank
    from catsim.selection import MaxInfoSelector
    from catsim.simulation import Simulator
    from catsim.stopping import MinErrorStopper

    items = np.column_stack([a, b, np.zeros_like(a), np.ones_like(a)])
    sim = Simulator(ItemBank(items), theta, seed=1)
    t0 = time.perf_counter()
    sim.simulate(
        FixedPointInitializer(0.0),
        MaxInfoSelector(),
        NumericalSearchEstimator(),
        MinErrorStopper(STOP_SE, max_items=MAX_ITEMS),
    )
    wall = time.perf_counter() - t0
    lengths = np.array([len(x) for x in sim.administered_items])
    est = np.array(sim.latest_estimations)
    counts = np.bincount(np.concatenate(sim.administered_items).astype(int), minlength=a.size)
    return {
        "mean_length": float(lengths.mean()),
        "rmse": float(np.sqrt(np.mean((est - theta) ** 2))),
        "bias": float(np.mean(est - theta)),
        "max_exposure": float(counts.max() / theta.size),
        "seconds_per_selection": catsim_selection_time(items),
        "wall_seconds": wall,
    }


def catsim_selection_time(items: np.ndarray, repeats: int = 300) -> float:
    from catsim.item_bank import ItemBank
    from catsim.selection import MaxInfoSelector

    bank, selector = ItemBank(items), MaxInfoSelector()
    rng = np.random.default_rng(0)
    cases = [
        (list(rng.choice(len(items), 10, replace=False)), rng.normal()) for _ in range(repeats)
    ]
    t0 = time.perf_counter()
    for administered, th in cases:
        selector.select(item_bank=bank, administered_items=administered, est_theta=th)
    return (time.perf_counter() - t0) / repeats


def selection_2000(repeats: int = 300) -> dict[str, float]:
    """Per-call times on a 2,000-item bank, after ten answers: our ``next_step`` (history parse,
    interim EAP, stop check, selection), our selection alone, and catsim's MaxInfoSelector."""
    a, b = bank_2pl(2000, 7)
    params = ItemParameters(
        tuple(f"i{j}" for j in range(2000)), ("2pl",) * 2000, a, b[:, None], np.zeros(2000)
    )
    bank = CatBank.build(params)
    cfg = CatConfig.from_dict({})
    rng = np.random.default_rng(0)
    histories = [
        [(f"i{j}", int(rng.integers(2))) for j in rng.choice(2000, 10, replace=False)]
        for _ in range(repeats)
    ]
    next_step(bank, cfg, histories[0], 0)  # the bank's tables, built once per bank
    t0 = time.perf_counter()
    for h in histories:
        next_step(bank, cfg, h, 0)
    per_step = (time.perf_counter() - t0) / repeats
    admin = np.zeros((1, 2000), bool)
    admin[0, :10] = True
    t0 = time.perf_counter()
    for k in range(repeats):
        select(
            bank,
            cfg,
            np.array([rng.normal()]),
            np.array([0.5]),
            np.array([10]),
            admin,
            np.array([10]),
            np.array([k]),
        )
    per_select = (time.perf_counter() - t0) / repeats
    items = np.column_stack([a, b, np.zeros_like(a), np.ones_like(a)])
    return {
        "next_step": per_step,
        "select": per_select,
        "catsim_select": catsim_selection_time(items, repeats),
    }


def main() -> None:
    a, b = bank_2pl(N_ITEMS, 3)
    theta = np.random.default_rng(4).normal(size=N_EXAMINEES)
    rows = {
        "ours, interim EAP, final WLE": ours(a, b, theta, "eap"),
        "ours, interim MLE, final WLE": ours(a, b, theta, "mle"),
        "catsim 0.21, MLE (bounded, Dodd)": catsim_run(a, b, theta),
    }
    print(
        f"{N_ITEMS}-item 2PL bank, {N_EXAMINEES} examinees, max info, SE {STOP_SE}, "
        f"max {MAX_ITEMS} items"
    )
    print("| engine | mean length | RMSE | bias | max exposure | s / selection | wall s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['mean_length']:.2f} | {r['rmse']:.3f} | {r['bias']:+.3f} | "
            f"{r['max_exposure']:.3f} | {r['seconds_per_selection'] * 1e3:.3f} ms | "
            f"{r['wall_seconds']:.1f} |"
        )
    t = selection_2000()
    print("\nnext item from a 2,000-item bank (after 10 answers):")
    print(f"- our next_step (parse + interim EAP + stop + select): {t['next_step'] * 1e3:.3f} ms")
    print(f"- our selection alone (engine.select): {t['select'] * 1e3:.3f} ms")
    print(f"- catsim MaxInfoSelector.select: {t['catsim_select'] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
