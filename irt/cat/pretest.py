"""Pretest seeding: which pretest units a session receives, so that every pretest unit collects
responses at the same rate, and (for simulation) the answers simulees give to them.

A pretest unit has no published parameters: it never routes and never counts in θ, so where it is
delivered has no effect on the adaptive part of the test.  Each session takes, for each pretest
slot, the unit with the fewest responses so far among those it has not had, ties broken at random
(:func:`least_counted`).  Sessions that take their slots one after another under that rule give
every unit the same number of sessions give or take one; :func:`balanced_assignment` gives that
balance for N simulated sessions at once.
"""

from __future__ import annotations

import numpy as np

from ..models import ItemParameters, sample_responses


def least_counted(counts: np.ndarray, taken: np.ndarray, rng: np.random.Generator) -> int | None:
    """The unit to seed next: the fewest responses among the units not ``taken``, ties broken by
    ``rng``.  counts: (P,) responses per unit so far; taken: (P,) bool.  None when all are taken."""
    free = np.flatnonzero(~np.asarray(taken, bool))
    if free.size == 0:
        return None
    c = np.asarray(counts, float)[free]
    ties = free[c == c.min()]
    return int(ties[rng.integers(ties.size)]) if ties.size > 1 else int(ties[0])


def balanced_assignment(
    n_sessions: int, n_units: int, per_session: int, rng: np.random.Generator
) -> np.ndarray:
    """(N, K) pretest unit indices, K = min(per_session, n_units) distinct units per session.

    Session n takes units ``perm[(n K + k) mod P]`` of one random permutation of the P units: the
    order :func:`least_counted` gives sessions that come one after another, so each unit is given
    to ⌊NK/P⌋ or ⌈NK/P⌉ sessions."""
    k = min(per_session, n_units)
    if n_units == 0 or k == 0:
        return np.zeros((n_sessions, 0), dtype=int)
    perm = rng.permutation(n_units)
    slots = np.arange(n_sessions)[:, None] * k + np.arange(k)[None, :]
    return perm[slots % n_units]


def simulate_pretest_responses(
    params: ItemParameters,
    item_unit: np.ndarray,
    assignment: np.ndarray,
    true_theta: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Answers to the pretest items given.  params: the P pretest items' generating parameters;
    item_unit: (P,) pretest unit index of each item; assignment: (N, K) units per session (from
    :func:`balanced_assignment`); true_theta: (N,).  Returns (N, P) scores, NaN = not given."""
    n = true_theta.size
    n_units = int(item_unit.max()) + 1 if item_unit.size else 0
    given_unit = np.zeros((n, n_units), bool)
    given_unit[np.arange(n)[:, None], assignment] = True
    scores = sample_responses(params, true_theta, rng).astype(float)
    return np.where(given_unit[:, item_unit], scores, np.nan)
