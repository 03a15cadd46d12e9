"""How a session starts: the θ used for the first selection, and the random easy first unit.

- ``fixed``: the first unit is selected at θ = ``start.theta``.
- ``prior``: at the person's prior mean (given to the engine per person, e.g. from last year's
  result), which is also the prior of the interim EAP/MAP; the configured ``prior`` otherwise.
- ``easy``: a unit drawn at random among the ``start.n_easy`` eligible units with the lowest mean
  b, so that every student begins with something they can do (among the units Sympson–Hetter
  allows the session, if configured).
"""

from __future__ import annotations

import numpy as np

from .bank import CatBank
from .config import CatConfig


def start_theta(config: CatConfig, prior: tuple[float, float] | None) -> float:
    """θ for the first selection."""
    if config.start.method == "prior":
        return float(prior[0]) if prior is not None else config.estimation.prior_mean
    return config.start.theta


def easy_unit(
    bank: CatBank, config: CatConfig, eligible: np.ndarray, rng: np.random.Generator
) -> int:
    """A unit index drawn among the n_easy easiest eligible units.  eligible: (U,) bool, the
    units exposure control allows."""
    ok = np.flatnonzero(eligible)
    easiest = ok[np.argsort(bank.unit_b[ok], kind="stable")[: config.start.n_easy]]
    return int(easiest[rng.integers(easiest.size)])
