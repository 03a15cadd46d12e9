"""The CAT engine: a pure function from (bank, configuration, responses so far, seed) to the next
step, and the final result.  A delivery system calls :func:`next_step` once per answer with the
session's history; nothing is kept between calls except the bank's cached tables, so a crashed and
resumed session continues exactly as an uninterrupted one.

All randomness of the k-th unit selection (k = 0, 1, ...) comes from
``np.random.default_rng([seed, k])`` (through :mod:`irt.cat.draws`, which lets a replay use the
batch simulator's draws instead).  The batched :func:`select` is shared with the simulator, so
the simulated and the live selections are the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import reporting
from . import draws
from .bank import CatBank
from .config import CatConfig
from .content import balanced_score
from .estimation import final_estimate, interim_estimate
from .exposure import choose, restrict
from .selection import criterion, eligible_units, unit_information
from .start import easy_unit, start_theta
from .stopping import stop_reasons

History = Sequence[tuple[str, float | int | None]]
"""The session's answers in delivery order: (item id, score, or None while not yet coded)."""


class CatHistoryError(ValueError):
    """A history the engine cannot have produced (unknown item, a unit split or revisited, a score
    outside the item's categories)."""


@dataclass(frozen=True)
class Step:
    """What to do next.  ``finished`` with ``reason`` (see :mod:`irt.cat.stopping`), or the ``unit``
    being delivered, its ``items`` still to deliver (in order) and the next ``item``.  ``theta`` and
    ``se`` are the interim estimate from the answers so far; ``n_items`` the items delivered."""

    finished: bool
    reason: str | None
    unit: str | None
    items: tuple[str, ...]
    item: str | None
    theta: float
    se: float
    n_items: int


@dataclass(frozen=True)
class FinalResult:
    """The session's result: θ, SE, the estimator ("wle" or "eap"), the number of items, and on
    the reporting scale the score, its SE and the proficiency level (None without levels)."""

    theta: float
    se: float
    method: str
    n_items: int
    scale_score: float
    scale_se: float
    level: reporting.Level | None


@dataclass(frozen=True)
class SessionState:
    """A parsed history.  responses: (R,) routing scores, NaN = not given or not coded.
    administered: (U,) units started.  n_items, n_selections: items delivered, units started.
    remaining: the current unit's items not yet delivered, in order."""

    responses: np.ndarray
    administered: np.ndarray
    n_items: int
    n_selections: int
    current_unit: int | None
    remaining: tuple[str, ...]


def as_config(config: CatConfig | Mapping[str, Any]) -> CatConfig:
    """A validated config; a plain dict is validated on every call, so pass a CatConfig."""
    return config if isinstance(config, CatConfig) else CatConfig.from_dict(config)


def parse_history(bank: CatBank, history: History) -> SessionState:
    """Check a history against the bank and turn it into the session's state."""
    responses = np.full(bank.params.n_items, np.nan)
    administered = np.zeros(bank.n_units, bool)
    delivered: set[int] = set()
    current: int | None = None
    n_categories = bank.n_categories
    for item_id, score in history:
        i = bank.item_position.get(item_id)
        if i is None:
            raise CatHistoryError(f"item {item_id!r} is not in the bank")
        if i in delivered:
            raise CatHistoryError(f"item {item_id!r} appears twice in the history")
        u = int(bank.item_unit[i])
        if u != current:
            if administered[u]:
                raise CatHistoryError(
                    f"item {item_id!r} returns to unit {bank.unit_ids[u]!r} after another unit"
                )
            if current is not None and _left(bank, current, delivered):
                raise CatHistoryError(
                    f"unit {bank.unit_ids[current]!r} was left before all its items were delivered"
                )
            administered[u] = True
            current = u
        delivered.add(i)
        r = bank.routing[i]
        if r >= 0 and score is not None:
            s = float(score)
            if not (s.is_integer() and 0 <= s < n_categories[r]):
                raise CatHistoryError(
                    f"item {item_id!r}: score {score!r} is not one of 0..{n_categories[r] - 1}"
                )
            responses[r] = s
    remaining: tuple[str, ...] = ()
    if current is not None:
        remaining = tuple(
            bank.item_ids[i]
            for i in range(bank.unit_start[current], bank.unit_start[current + 1])
            if i not in delivered
        )
    return SessionState(
        responses, administered, len(delivered), int(administered.sum()), current, remaining
    )


def _left(bank: CatBank, u: int, delivered: set[int]) -> bool:
    return any(i not in delivered for i in range(bank.unit_start[u], bank.unit_start[u + 1]))


def select(
    bank: CatBank,
    config: CatConfig,
    theta: np.ndarray,
    se: np.ndarray,
    n_items: np.ndarray,
    administered: np.ndarray,
    n_selections: np.ndarray,
    seeds: np.ndarray,
) -> tuple[list[str | None], np.ndarray]:
    """Stop or select a unit for N sessions standing between units.

    theta, se: (N,) interim estimates (the start θ for sessions without routing answers).
    n_items, n_selections, seeds: (N,) ints.  administered: (N, U) bool.
    Returns the stop reasons (None = go on) and (N,) unit indices (-1 where stopped)."""
    eligible = eligible_units(bank, config, administered, n_items)
    info = unit_information(bank, theta)
    best = np.where(eligible, info, 0.0).max(axis=1, initial=0.0)
    reasons = stop_reasons(bank, config, n_items, se, administered, eligible, best)
    units = np.full(theta.size, -1, dtype=int)
    go = np.flatnonzero([r is None for r in reasons])
    if go.size == 0:
        return reasons, units
    allowed = restrict(bank, config, eligible[go], seeds[go])
    easy = config.start.method == "easy"
    first = n_selections[go] == 0
    later = go[~first] if easy else go
    later_allowed = allowed[~first] if easy else allowed
    if later.size:
        if config.selection.method == "max-info":
            crit = info[later]
            if config.selection.unit_criterion == "mean":
                crit = crit / bank.unit_size[None, :]
            mask = later_allowed
        else:
            crit, mask = criterion(bank, config, theta[later], n_items[later], later_allowed)
        scores = balanced_score(bank, config, crit, mask, administered[later], n_items[later])
        for row, s in zip(later, scores, strict=True):
            rng = draws.selection_rng(int(seeds[row]), int(n_selections[row]))
            units[row] = choose(bank, config, s, rng)
    if easy:
        for row, ok in zip(go[first], allowed[first], strict=True):
            rng = draws.selection_rng(int(seeds[row]), 0)
            units[row] = easy_unit(bank, config, ok, rng)
    return reasons, units


def routing_theta(
    bank: CatBank,
    config: CatConfig,
    responses: np.ndarray,
    prior: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interim θ and SE for (N, R) routing responses; sessions with no routing answer get the
    start θ and the prior SD."""
    theta, se = interim_estimate(bank, config, responses, prior)
    none = np.all(np.isnan(responses), axis=1)
    if none.any():
        theta[none] = start_theta(config, prior)
        se[none] = prior[1] if prior is not None else config.estimation.prior_sd
    return theta, se


def next_step(
    bank: CatBank,
    config: CatConfig | Mapping[str, Any],
    history: History,
    seed: int,
    *,
    prior: tuple[float, float] | None = None,
) -> Step:
    """The next step of a session.

    history: the (item id, score or None) pairs delivered so far, in order.  seed: the session's
    seed (a non-negative int, e.g. stored with the session).  prior: the person's (mean, sd) of θ,
    for ``start.method: prior`` and the interim prior.  If the last unit has items left, the next
    is its next item; otherwise the stopping rules are checked and a unit is selected."""
    cfg = as_config(config)
    state = parse_history(bank, history)
    theta, se = routing_theta(bank, cfg, state.responses[None, :], prior)
    if state.remaining:
        assert state.current_unit is not None
        return Step(
            False,
            None,
            bank.unit_ids[state.current_unit],
            state.remaining,
            state.remaining[0],
            float(theta[0]),
            float(se[0]),
            state.n_items,
        )
    reasons, units = select(
        bank,
        cfg,
        theta,
        se,
        np.array([state.n_items]),
        state.administered[None, :],
        np.array([state.n_selections]),
        np.array([seed]),
    )
    if reasons[0] is not None:
        return Step(True, reasons[0], None, (), None, float(theta[0]), float(se[0]), state.n_items)
    items = bank.unit_items(int(units[0]))
    return Step(
        False,
        None,
        bank.unit_ids[units[0]],
        items,
        items[0],
        float(theta[0]),
        float(se[0]),
        state.n_items,
    )


def finish(
    bank: CatBank,
    config: CatConfig | Mapping[str, Any],
    history: History,
    *,
    prior: tuple[float, float] | None = None,
) -> FinalResult:
    """The session's final θ (WLE or EAP as configured), SE, and its reporting-scale score and
    level (from ``config.reporting``).  Items not yet coded (None) do not count."""
    cfg = as_config(config)
    state = parse_history(bank, history)
    theta, se, method = final_estimate(bank, cfg, state.responses[None, :], prior)
    scale, levels = reporting.from_dict(cfg.reporting)
    score = float(scale.score(theta[0]))
    return FinalResult(
        float(theta[0]),
        float(se[0]),
        method,
        state.n_items,
        score,
        float(scale.se(se[0])),
        levels.level(score) if levels is not None else None,
    )
