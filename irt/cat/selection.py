"""Unit selection criteria: which units may be given next, and how good each one is at θ̂.

Selection is at the unit level (a PISA unit = a stimulus and its items).  A unit's value is that of
its routing items at θ̂, by default the **mean per delivered item** (``unit_criterion: mean``): the
sum over routing items divided by the number of items the unit adds to the test, so that a unit is
judged by what each minute of testing buys and a long unit with one good item does not beat a short
excellent one; ``sum`` is the alternative.  Units without routing items are never selected.

Criteria, each vectorized over N sessions and returning (N, U), larger = better:

- ``max-info``: Fisher information I_u(θ̂) (Lord 1980), from the bank's θ-grid table.
- ``kl``: Kullback–Leibler information integrated over θ̂ ± c/√n (Chang & Ying 1996),
  KL_j = ∫ Σ_k P_jk(θ̂) log[P_jk(θ̂) / P_jk(θ)] dθ, computed from cumulative integrals of
  log P on the grid (θ̂ rounded to the nearest node, 0.05 apart).
- ``a-stratified`` with b-blocking (Chang, Qian & Ying 2001): units are sorted by mean b, cut into
  blocks of S consecutive units, and within each block assigned to strata 1..S by ascending mean a;
  the test moves through strata in S equal stages of ``stopping.max_items`` and picks the unit whose
  mean b is closest to θ̂ within the stage's stratum (the nearest stratum with units left if it is
  exhausted).
"""

from __future__ import annotations

import numpy as np

from .bank import GRID_LOW, GRID_STEP, CatBank
from .config import CatConfig


def eligible_units(
    bank: CatBank, config: CatConfig, administered: np.ndarray, n_items: np.ndarray
) -> np.ndarray:
    """(N, U) units that may be started: not given yet, with routing items, and fitting in what is
    left of ``stopping.max_items`` (a unit is never started if it would overshoot the maximum).

    administered: (N, U) bool.  n_items: (N,) items delivered so far."""
    room = config.stopping.max_items - n_items
    return (
        ~administered
        & (bank.unit_routing_count > 0)[None, :]
        & (bank.unit_size[None, :] <= room[:, None])
    )


def unit_information(bank: CatBank, theta: np.ndarray) -> np.ndarray:
    """(N, U) summed Fisher information of each unit's routing items at θ (N,)."""
    return bank.interpolate(bank.unit_information_table, theta)


def _per_item(bank: CatBank, config: CatConfig, values: np.ndarray) -> np.ndarray:
    if config.selection.unit_criterion == "mean":
        return values / bank.unit_size[None, :]
    return values


def kl_information(
    bank: CatBank, theta: np.ndarray, n_items: np.ndarray, width: float
) -> np.ndarray:
    """(N, R) KL information of each routing item over θ̂ ± width/√max(n, 1) (Chang & Ying 1996).

    With C the cumulative ∫ log P dθ on the grid, the integral over [lo, hi] of
    Σ_k P_k(θ̂) (log P_k(θ̂) - log P_k(θ)) is (hi - lo) Σ_k P_k log P_k(θ̂) - Σ_k P_k(θ̂) (C_hi - C_lo).
    """
    probs, plogp, cum = bank.log_probability_tables
    q_max = len(bank.grid) - 1
    q0 = np.clip(np.rint((theta - GRID_LOW) / GRID_STEP).astype(int), 0, q_max)
    half = np.rint(width / np.sqrt(np.maximum(n_items, 1)) / GRID_STEP).astype(int)
    lo = np.clip(q0 - half, 0, q_max)
    hi = np.clip(q0 + half, 0, q_max)
    p0 = probs[q0]  # (N, R, K)
    span = ((hi - lo) * GRID_STEP)[:, None]
    return span * plogp[q0] - np.sum(p0 * (cum[hi] - cum[lo]), axis=2)


def strata(bank: CatBank, n_strata: int) -> np.ndarray:
    """(U,) stratum 0..S-1 of each unit by a-stratification with b-blocking (Chang, Qian & Ying
    2001); -1 for units without routing items.  Low strata hold the least discriminating units."""
    key = ("strata", n_strata)
    if key in bank.memo:
        return bank.memo[key]  # type: ignore[return-value]
    out = np.full(bank.n_units, -1, dtype=int)
    routed = np.flatnonzero(bank.unit_routing_count > 0)
    by_b = routed[np.argsort(bank.unit_b[routed], kind="stable")]
    for start in range(0, by_b.size, n_strata):
        block = by_b[start : start + n_strata]
        ordered = block[np.argsort(bank.unit_a[block], kind="stable")]
        if block.size < n_strata:  # a short last block: spread over the strata evenly
            out[ordered] = np.floor(np.arange(block.size) * n_strata / block.size).astype(int)
        else:
            out[ordered] = np.arange(n_strata)
    bank.memo[key] = out
    return out


def stratum_mask(
    bank: CatBank, config: CatConfig, eligible: np.ndarray, n_items: np.ndarray
) -> np.ndarray:
    """(N, U) the eligible units of each session's current stratum: stage = ⌊n·S / max_items⌋;
    if that stratum has no eligible unit, the nearest one that has (ties to the higher)."""
    s = config.selection.strata
    unit_stratum = strata(bank, s)
    stage = np.minimum(s - 1, (n_items * s) // config.stopping.max_items)
    onehot = unit_stratum[:, None] == np.arange(s)[None, :]  # (U, S)
    available = (eligible.astype(float) @ onehot.astype(float)) > 0  # (N, S)
    distance = np.abs(np.arange(s)[None, :] - stage[:, None]) - 0.1 * np.arange(s)[None, :] / s
    distance = np.where(available, distance, np.inf)
    target = np.argmin(distance, axis=1)
    return eligible & (unit_stratum[None, :] == target[:, None])


def criterion(
    bank: CatBank,
    config: CatConfig,
    theta: np.ndarray,
    n_items: np.ndarray,
    eligible: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The configured criterion, (N, U), and the (N, U) eligibility it applies (a-stratified
    narrows it to the current stratum)."""
    method = config.selection.method
    if method == "max-info":
        return _per_item(bank, config, unit_information(bank, theta)), eligible
    if method == "kl":
        item_kl = kl_information(bank, theta, n_items, config.selection.kl_width)
        return _per_item(bank, config, bank.unit_sum(item_kl)), eligible
    mask = stratum_mask(bank, config, eligible, n_items)
    return -np.abs(bank.unit_b[None, :] - theta[:, None]), mask
