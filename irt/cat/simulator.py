"""Simulation of adaptive tests over many examinees with known θ, stepping all examinees forward in
lock-step through the engine's own batched selection (:func:`irt.cat.engine.select`), and the
derivation of Sympson–Hetter exposure parameters by iterated simulation.

Each examinee's responses to every routing item are drawn up front from the model at the true θ
(local independence makes this equivalent to drawing them when the items are given); examinee n's
session seed is the n-th draw of ``default_rng([seed, 0])``, so :func:`replay` through
:func:`irt.cat.engine.next_step` reproduces the simulated test exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..models import sample_responses
from .bank import CatBank
from .config import CatConfig, ExposureConfig
from .engine import History, next_step, routing_theta, select
from .estimation import final_estimate


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of :func:`simulate` for N examinees.

    true_theta, theta, se: (N,) with θ the final estimate (``method``).  lengths: (N,) items
    delivered.  units: per examinee the unit indices in delivery order.  reasons: (N,) stop reasons.
    item_exposure: (I,) share of examinees given each item; unit_exposure: (U,).
    seeds: (N,) session seeds.  answers: (N, R) drawn routing scores (all items, given or not).
    selection_seconds: total time spent in batched selection; n_selections: units selected.
    """

    true_theta: np.ndarray
    theta: np.ndarray
    se: np.ndarray
    method: str
    lengths: np.ndarray
    units: list[list[int]]
    reasons: list[str]
    item_exposure: np.ndarray
    unit_exposure: np.ndarray
    seeds: np.ndarray
    answers: np.ndarray
    selection_seconds: float
    n_selections: int


def simulate(
    bank: CatBank,
    config: CatConfig,
    true_theta: np.ndarray,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run the CAT for examinees at ``true_theta`` (N,).  ``progress(k)`` is called with the number
    of examinees that finished in each round."""
    true_theta = np.asarray(true_theta, float)
    n = true_theta.size
    seeds = np.random.default_rng([seed, 0]).integers(0, 2**31 - 1, n)
    answers = sample_responses(bank.params, true_theta, np.random.default_rng([seed, 1])).astype(
        float
    )
    responses = np.full(answers.shape, np.nan)
    administered = np.zeros((n, bank.n_units), bool)
    n_items = np.zeros(n, dtype=int)
    n_sel = np.zeros(n, dtype=int)
    units: list[list[int]] = [[] for _ in range(n)]
    reasons: list[str] = [""] * n
    active = np.ones(n, bool)
    seconds = 0.0
    selections = 0
    while active.any():
        idx = np.flatnonzero(active)
        t0 = time.perf_counter()
        theta, se = routing_theta(bank, config, responses[idx])
        why, chosen = select(
            bank, config, theta, se, n_items[idx], administered[idx], n_sel[idx], seeds[idx]
        )
        seconds += time.perf_counter() - t0
        done = 0
        for k, row in enumerate(idx):
            if why[k] is not None:
                reasons[row] = str(why[k])
                active[row] = False
                done += 1
                continue
            u = int(chosen[k])
            selections += 1
            units[row].append(u)
            administered[row, u] = True
            n_sel[row] += 1
            n_items[row] += int(bank.unit_size[u])
            r = bank.routing[bank.unit_start[u] : bank.unit_start[u + 1]]
            r = r[r >= 0]
            responses[row, r] = answers[row, r]
        if progress is not None and done:
            progress(done)
    theta, se, method = final_estimate(bank, config, responses)
    item_given = np.zeros((n, bank.n_items), bool)
    for person, us in enumerate(units):
        for unit in us:
            item_given[person, bank.unit_start[unit] : bank.unit_start[unit + 1]] = True
    return SimulationResult(
        true_theta=true_theta,
        theta=theta,
        se=se,
        method=method,
        lengths=n_items,
        units=units,
        reasons=reasons,
        item_exposure=item_given.mean(axis=0) if n else np.zeros(bank.n_items),
        unit_exposure=administered.mean(axis=0) if n else np.zeros(bank.n_units),
        seeds=seeds,
        answers=answers,
        selection_seconds=seconds,
        n_selections=selections,
    )


def replay(
    bank: CatBank, config: CatConfig, result: SimulationResult, examinee: int
) -> tuple[list[str], list[float]]:
    """Run examinee ``examinee`` of a simulation through :func:`next_step` one answer at a time.
    Returns the items delivered, in order, and the seconds each call that selected a unit took."""
    history: list[tuple[str, float | int | None]] = []
    seed = int(result.seeds[examinee])
    times: list[float] = []
    while True:
        between_units = _between_units(bank, history)
        t0 = time.perf_counter()
        step = next_step(bank, config, history, seed)
        if between_units:
            times.append(time.perf_counter() - t0)
        if step.finished:
            return [item for item, _ in history], times
        assert step.item is not None
        i = bank.item_position[step.item]
        r = bank.routing[i]
        history.append((step.item, int(result.answers[examinee, r]) if r >= 0 else None))


def _between_units(bank: CatBank, history: History) -> bool:
    if not history:
        return True
    i = bank.item_position[history[-1][0]]
    u = bank.item_unit[i]
    given = {item for item, _ in history}
    return all(item in given for item in bank.unit_items(int(u)))


def derive_sympson_hetter(
    bank: CatBank,
    config: CatConfig,
    true_theta: np.ndarray,
    seed: int,
    *,
    max_rate: float | None = None,
    iterations: int = 12,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, float]:
    """Sympson–Hetter (1985) exposure control parameters K_u by iterated simulation.

    Start from K = 1 and simulate the examinees at ``true_theta`` (a new seed each round, by
    :func:`irt.cat.batch.simulate_batch`).  With
    P(A_u) the observed exposure and P(S_u) = P(A_u)/K_u the rate at which u comes up as the best
    before its lottery, SH set K_u = min(1, r'/P(S_u)).  Here K only ever decreases,
    K_u ← min(K_u, r'/P(S_u)), which stops the round-to-round oscillation of the classic update
    (a unit whose K went back to 1 overshoots in the next round) at the price of a few K a little
    lower than needed.  The working target r' = r - sqrt(r(1 - r)/N) leaves one binomial SD of
    the N simulated examinees for sampling noise, so a fresh simulation stays near or under r.
    Stops after ``iterations`` rounds or once a round has every unit at or under r.
    Returns {unit id: K} for units with K < 1, for ``exposure.parameters``;
    ``progress(round, max exposure)`` after each round.
    """
    from .batch import simulate_batch  # the lock-step batch simulator (imports this module)

    rate = config.exposure.max_rate if max_rate is None else max_rate
    work = rate - np.sqrt(rate * (1.0 - rate) / max(len(true_theta), 1))
    k = np.ones(bank.n_units)
    for it in range(iterations):
        params = {bank.unit_ids[u]: float(k[u]) for u in np.flatnonzero(k < 1.0)}
        cfg = replace(
            config,
            exposure=ExposureConfig(
                method="sympson-hetter", k=config.exposure.k, max_rate=rate, parameters=params
            ),
        )
        exposure = simulate_batch(bank, cfg, true_theta, seed + 7919 * it).unit_exposure
        if progress is not None:
            progress(it + 1, float(exposure.max(initial=0.0)))
        if exposure.max(initial=0.0) <= rate and it > 0:
            break
        selected = exposure / k
        k = np.minimum(k, np.where(selected > work, work / np.maximum(selected, 1e-12), 1.0))
    return {bank.unit_ids[u]: round(float(k[u]), 4) for u in np.flatnonzero(k < 1.0)}


def overlap_rate(item_exposure: np.ndarray, lengths: np.ndarray) -> float:
    """Mean pairwise item overlap rate (Chen, Ankenmann & Spray 2003): the number of items two
    examinees share, summed over all pairs, over the summed mean length of each pair,

        T = Σ_j n_j (n_j - 1) / ((N - 1) Σ_n L_n),   n_j = N · exposure_j,

    which for a fixed length L is their T = (Σ_j n_j (n_j - 1) / 2) / (C(N, 2) L)."""
    n = lengths.size
    if n < 2 or lengths.sum() == 0:
        return 0.0
    counts = np.rint(item_exposure * n)
    return float(np.sum(counts * (counts - 1)) / ((n - 1) * lengths.sum()))


def summarize(result: SimulationResult, n_bins: int = 10) -> dict[str, object]:
    """The report of a simulation: mean/median length, RMSE and bias of the final θ, max item
    exposure, overlap rate, seconds per (batched) selection, stop reasons, and ``conditional``
    results per bin of the true θ (``n_bins`` bins of equal count)."""
    err = result.theta - result.true_theta
    edges = np.quantile(result.true_theta, np.linspace(0, 1, n_bins + 1))
    which = np.clip(np.searchsorted(edges, result.true_theta, side="right") - 1, 0, n_bins - 1)
    conditional = []
    for b in range(n_bins):
        m = which == b
        if not m.any():
            continue
        conditional.append(
            {
                "theta_low": float(edges[b]),
                "theta_high": float(edges[b + 1]),
                "theta_mean": float(result.true_theta[m].mean()),
                "n": int(m.sum()),
                "bias": float(err[m].mean()),
                "rmse": float(np.sqrt(np.mean(err[m] ** 2))),
                "mean_length": float(result.lengths[m].mean()),
            }
        )
    reasons: dict[str, int] = {}
    for r in result.reasons:
        reasons[r] = reasons.get(r, 0) + 1
    return {
        "examinees": int(result.true_theta.size),
        "mean_length": float(result.lengths.mean()),
        "median_length": float(np.median(result.lengths)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "bias": float(err.mean()),
        "mean_se": float(np.mean(result.se[np.isfinite(result.se)])),
        "max_exposure": float(result.item_exposure.max(initial=0.0)),
        "overlap_rate": overlap_rate(result.item_exposure, result.lengths),
        "seconds_per_selection_batch": result.selection_seconds / max(result.n_selections, 1),
        "final_method": result.method,
        "stop_reasons": reasons,
        "conditional": conditional,
    }
