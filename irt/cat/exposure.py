"""Exposure control: the choice of one unit from the ranked eligible units of one session.

- ``none``: the best unit.
- ``randomesque`` (Kingsbury & Zara 1989): uniformly one of the k best.
- ``sympson-hetter`` (Sympson & Hetter 1985): go down the ranking; unit u is given with
  probability K_u, else passed over *for this selection* (a passed-over unit may come up again at a
  later selection, so a resumed session needs no record of past lotteries).  K comes from
  ``exposure.parameters`` (1 where absent), derived by
  :func:`irt.cat.simulator.derive_sympson_hetter`.
  If every eligible unit loses its lottery, the best one is given.

All draws come from the generator the engine makes from (seed, number of selections so far).
"""

from __future__ import annotations

import numpy as np

from .bank import CatBank
from .config import CatConfig


def choose(bank: CatBank, config: CatConfig, scores: np.ndarray, rng: np.random.Generator) -> int:
    """The unit index to give.  scores: (U,) larger = better, -inf = not eligible (at least one
    finite)."""
    method = config.exposure.method
    if method == "none":
        return int(np.argmax(scores))
    n_ok = int(np.isfinite(scores).sum())
    if method == "randomesque":
        k = min(config.exposure.k, n_ok)
        best = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
        best = best[np.lexsort((best, -scores[best]))]  # deterministic order of the k best
        return int(best[rng.integers(k)])
    order = np.argsort(-scores, kind="stable")[:n_ok]
    return lottery(bank, config, order, rng)


def lottery(bank: CatBank, config: CatConfig, order: np.ndarray, rng: np.random.Generator) -> int:
    """Sympson–Hetter: the first unit of ``order`` (unit indices, best first) that wins its draw
    u < K_u; the first of ``order`` if none does."""
    params = config.exposure.parameters
    for u in order:
        k = params.get(bank.unit_ids[u], 1.0)
        if k >= 1.0 or rng.random() < k:
            return int(u)
    return int(order[0])
