"""Where the engine's random numbers come from.

Live sessions: the k-th unit selection of a session with seed s draws from
``np.random.default_rng([s, k])`` and the Sympson–Hetter lotteries from
``np.random.default_rng([s, 0, 1]).random(U)`` (docs/cat.md), so a resumed session repeats its
draws exactly.

The lock-step batch simulator (:mod:`irt.cat.batch`) cannot afford one generator per session and
selection (about 10 µs each, more than the rest of a selection), so it draws every simulee's
uniforms at once from one generator: ``selection`` (N, S) and ``lottery`` (N, U).  To replay a
simulee through the per-session engine with those same draws, run :func:`irt.cat.engine.next_step`
inside :func:`fixed_draws`: the k-th selection then gets a generator-like object whose
``integers(m)`` is ⌊u_k·m⌋ (the rule the batch simulator applies to u_k) and the lotteries are the
simulee's ``lottery`` row.  Outside that context nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import cast

import numpy as np


@dataclass(frozen=True)
class SessionDraws:
    """One session's uniforms in [0, 1): ``selection`` (S,), the k-th for its k-th unit
    selection (randomesque choice, easy start); ``lottery`` (U,), its Sympson–Hetter draw per
    unit."""

    selection: np.ndarray
    lottery: np.ndarray


_FIXED: ContextVar[SessionDraws | None] = ContextVar("irt_cat_fixed_draws", default=None)


def pick(u: np.ndarray | float, m: np.ndarray | int) -> np.ndarray:
    """⌊u·m⌋ clipped to m − 1: a uniform u in [0, 1) turned into one of 0..m−1 (m ≥ 1)."""
    return np.minimum(np.floor(np.asarray(u) * m).astype(int), np.asarray(m) - 1)


class _FromUniform:
    """The one method of ``np.random.Generator`` the engine uses for a selection, on a fixed u."""

    def __init__(self, u: float) -> None:
        self.u = u

    def integers(self, high: int) -> int:
        return int(pick(self.u, int(high)))


def selection_rng(seed: int, k: int) -> np.random.Generator:
    """The generator of a session's k-th unit selection."""
    fixed = _FIXED.get()
    if fixed is None:
        return np.random.default_rng([seed, k])
    return cast(np.random.Generator, _FromUniform(float(fixed.selection[k])))


def lottery(seeds: np.ndarray, n_units: int) -> np.ndarray:
    """(N, U) the Sympson–Hetter uniforms of N sessions with ``seeds`` (N,)."""
    fixed = _FIXED.get()
    if fixed is None:
        return np.stack([np.random.default_rng([int(s), 0, 1]).random(n_units) for s in seeds])
    return np.broadcast_to(fixed.lottery[:n_units], (len(seeds), n_units)).copy()


@contextmanager
def fixed_draws(draws: SessionDraws) -> Iterator[None]:
    """Within the block (this thread/context only), the engine uses ``draws`` for every session."""
    token = _FIXED.set(draws)
    try:
        yield
    finally:
        _FIXED.reset(token)
