"""Stopping rules, checked only between units (a started unit is always completed).

In order: the maximum length is reached (``max_items``); the SE is at or below ``se`` after at
least ``min_items``; no unit can be started (``max_items`` if units are left that would overshoot
the maximum, ``bank_exhausted`` if none is left); the best remaining unit's information at θ̂ is
below ``min_information`` after at least ``min_items`` (``no_information``).  A session that ends
by a time limit is the delivery system's business: its last unit may then be incomplete.
"""

from __future__ import annotations

import numpy as np

from .bank import CatBank
from .config import CatConfig

REASONS = ("max_items", "se", "bank_exhausted", "no_information")


def stop_reasons(
    bank: CatBank,
    config: CatConfig,
    n_items: np.ndarray,
    se: np.ndarray,
    administered: np.ndarray,
    eligible: np.ndarray,
    best_information: np.ndarray,
) -> list[str | None]:
    """Per session (N,), the reason to stop now, or None to go on.

    n_items: (N,) items delivered.  se: (N,) interim SE.  administered, eligible: (N, U) bool.
    best_information: (N,) the largest summed Fisher information of an eligible unit at θ̂."""
    rule = config.stopping
    reached_min = n_items >= rule.min_items
    by_se = (
        reached_min & (n_items > 0) & (se <= rule.se)
        if rule.se is not None
        else np.zeros(n_items.shape, bool)
    )
    none_eligible = np.asarray(~eligible.any(axis=1), bool)
    units_left = np.asarray((~administered & (bank.unit_routing_count > 0)[None, :]).any(axis=1))
    out: list[str | None] = []
    for i in range(n_items.size):
        if n_items[i] >= rule.max_items:
            out.append("max_items")
        elif by_se[i]:
            out.append("se")
        elif none_eligible[i]:
            out.append("max_items" if units_left[i] else "bank_exhausted")
        elif reached_min[i] and best_information[i] < rule.min_information:
            out.append("no_information")
        else:
            out.append(None)
    return out
