"""Exposure control: which units a session may be given, and the choice among the ranked ones.

- ``none``: the best unit.
- ``randomesque`` (Kohn & Kingsbury 1989 style): uniformly one of the k best, drawn from the
  selection's generator ``default_rng([seed, k-th selection])``.
- ``sympson-hetter`` (Sympson & Hetter 1985): when unit u comes up as the best it is given with
  probability K_u; a unit that loses its lottery is passed over for the rest of the session.  Each
  session draws one uniform number per unit once, from ``default_rng([seed, 0, 1])``; unit u's
  lottery is won iff its draw is below K_u, so "the best unit that would win its lottery" is "the
  best unit among those whose draw is below K" and a resumed session needs no record of past
  lotteries.  K comes from ``exposure.parameters`` (1 where absent), derived by
  :func:`irt.cat.simulator.derive_sympson_hetter`.  If every eligible unit has lost, the lotteries
  are ignored for that selection rather than ending the test.
"""

from __future__ import annotations

import numpy as np

from .bank import CatBank
from .config import CatConfig
from .draws import lottery


def exposure_parameters(bank: CatBank, config: CatConfig) -> np.ndarray:
    """(U,) Sympson–Hetter K per unit (cached on the bank per parameters mapping)."""
    params = config.exposure.parameters
    key = ("sympson-hetter", id(params))
    hit = bank.memo.get(key)
    if isinstance(hit, tuple) and hit[0] is params:
        return hit[1]
    k = np.array([float(params.get(u, 1.0)) for u in bank.unit_ids])
    bank.memo[key] = (params, k)
    return k


def sympson_hetter_open(bank: CatBank, config: CatConfig, seeds: np.ndarray) -> np.ndarray:
    """(N, U) True for the units whose session lottery allows them.  seeds: (N,) session seeds."""
    k = exposure_parameters(bank, config)
    return lottery(seeds, bank.n_units) < k[None, :]


def restrict(
    bank: CatBank, config: CatConfig, eligible: np.ndarray, seeds: np.ndarray
) -> np.ndarray:
    """(N, U) the eligible units that exposure control allows; a session left with none keeps
    its eligible units."""
    if config.exposure.method != "sympson-hetter":
        return eligible
    allowed = eligible & sympson_hetter_open(bank, config, seeds)
    empty = ~allowed.any(axis=1)
    allowed[empty] = eligible[empty]
    return allowed


def choose(bank: CatBank, config: CatConfig, scores: np.ndarray, rng: np.random.Generator) -> int:
    """The unit index to give.  scores: (U,) larger = better, -inf = not allowed (at least one
    finite)."""
    if config.exposure.method != "randomesque":
        return int(np.argmax(scores))
    n_ok = int(np.isfinite(scores).sum())
    k = min(config.exposure.k, n_ok)
    best = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    best = best[np.lexsort((best, -scores[best]))]  # deterministic order of the k best
    return int(best[rng.integers(k)])
