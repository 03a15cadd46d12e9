"""Rotated booklet designs: units grouped into clusters of about equal time, and clusters rotated
over booklet positions in a balanced incomplete block design (BIBD).

A cyclic design develops base blocks D ⊂ Z_v: booklet (i, D) holds clusters (d + i) mod v in
positions 1..k, i = 0..v−1.  Every cluster then sits in every position exactly once per base
block (a Youden square when there is one block), and the number of booklets in which two
clusters meet is the number of times their difference occurs among the base blocks' differences.
When the differences of the base blocks cover Z_v \\ {0} equally often (a difference family;
one block: a cyclic difference set, e.g. {0, 1, 3} mod 7 as in PISA 2000's 7 × 3 design),
every pair of clusters meets λ times (Hall 1986, *Combinatorial Theory*, ch. 11; PISA 2012
Technical Report, ch. 2).

A necessary condition (Fisher's counting): λ (v − 1) = m k (k − 1) for m base blocks, so with
v = 6 clusters and k = 3 positions no single-block design can balance pairs;
:func:`rotation_design` then returns the most even design it finds and says so.

numpy only; unit attributes come in as plain arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np


# -- clusters -----------------------------------------------------------------------------------
def balance_clusters(minutes: np.ndarray, n_clusters: int, groups: np.ndarray | None = None,
                     improve: int = 200) -> list[list[int]]:
    """Split units into ``n_clusters`` clusters of about equal total time.

    minutes: (U,) each unit's estimated time.  groups: (U,) a label per unit (its content
    domain) to spread over the clusters: no cluster gets more than ceil(n_g / C) units of a
    group g.  Longest-processing-time first (Graham 1969): units in decreasing time go to the
    lightest cluster under that cap; then single moves and pairwise swaps that shrink the spread (max − min load)
    while keeping the cap.  Returns the unit indices of each cluster, in the input order.
    """
    minutes = np.asarray(minutes, float)
    U = len(minutes)
    if n_clusters < 1 or n_clusters > U:
        raise ValueError(f"cannot make {n_clusters} clusters from {U} units (need 1 ≤ clusters ≤ units)")
    groups = np.zeros(U, int) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    n_groups = groups.max() + 1
    # at most ceil(n_g / C) units of a group per cluster: the group is spread as evenly as it can be
    cap = -(-np.bincount(groups, minlength=n_groups) // n_clusters)
    load = np.zeros(n_clusters)
    count = np.zeros((n_clusters, n_groups), int)
    where = np.zeros(U, int)
    for u in sorted(range(U), key=lambda u: (-minutes[u], u)):
        g = groups[u]
        c = min(range(n_clusters), key=lambda c: (count[c, g] >= cap[g], load[c], c))
        where[u] = c
        load[c] += minutes[u]
        count[c, g] += 1

    def spread_of(ld: np.ndarray) -> tuple[float, float]:
        return float(ld.max() - ld.min()), float(np.sum((ld - ld.mean()) ** 2))

    for _ in range(improve):  # the best move or swap of units between clusters, while it helps
        best = spread_of(load)
        step: tuple[int, int, int | None] | None = None
        for u in range(U):
            a, gu = where[u], groups[u]
            for b in range(n_clusters):  # move u to cluster b
                if b == a or count[b, gu] + 1 > cap[gu] or count[a].sum() == 1:
                    continue
                trial = load.copy()
                trial[a] -= minutes[u]
                trial[b] += minutes[u]
                score = spread_of(trial)
                if score < best:
                    best, step = score, (u, b, None)
            for v in range(U):  # swap u and v
                b, gv = where[v], groups[v]
                delta = minutes[u] - minutes[v]
                if a == b or delta == 0:
                    continue
                if gu != gv and (count[b, gu] + 1 > cap[gu] or count[a, gv] + 1 > cap[gv]):
                    continue  # it would pile a group up in one cluster
                trial = load.copy()
                trial[a] -= delta
                trial[b] += delta
                score = spread_of(trial)
                if score < best:
                    best, step = score, (u, b, v)
        if step is None:
            break
        mover, target, partner = step
        origin = where[mover]
        moves = [(mover, origin, target)] + ([(partner, target, origin)] if partner is not None else [])
        for unit, src, dst in moves:
            load[src] -= minutes[unit]
            load[dst] += minutes[unit]
            count[src, groups[unit]] -= 1
            count[dst, groups[unit]] += 1
            where[unit] = dst
    return [[u for u in range(U) if where[u] == c] for c in range(n_clusters)]


# -- rotation -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignBalance:
    """position_counts: (v, k) how often each cluster sits in each position.
    pair_counts: (v, v) how many booklets hold both clusters (diagonal: booklets per cluster).
    lam: the common pair count when every pair meets equally often, else None."""

    position_counts: np.ndarray
    pair_counts: np.ndarray
    positions_balanced: bool
    lam: int | None

    @property
    def pairs_balanced(self) -> bool:
        return self.lam is not None

    def describe(self) -> str:
        off = self.pair_counts[~np.eye(len(self.pair_counts), dtype=bool)]
        pos = "each cluster appears equally often in each position" if self.positions_balanced else "positions are NOT balanced"
        if self.lam is not None:
            return f"{pos}; every pair of clusters shares λ = {self.lam} booklet(s)"
        return f"{pos}; pairs of clusters are NOT balanced: they share between {off.min()} and {off.max()} booklets"


def design_balance(design: np.ndarray, n_clusters: int) -> DesignBalance:
    """Balance of a design.  design: (B booklets, k positions) of cluster indices 0..v−1."""
    design = np.asarray(design, int)
    v, k = n_clusters, design.shape[1]
    pos = np.zeros((v, k), int)
    pairs = np.zeros((v, v), int)
    for booklet in design:
        for p, c in enumerate(booklet):
            pos[c, p] += 1
        for a in booklet:
            for b in booklet:
                pairs[a, b] += 1
    off = pairs[~np.eye(v, dtype=bool)]
    lam = int(off[0]) if v > 1 and np.all(off == off[0]) else (0 if v == 1 else None)
    return DesignBalance(pos, pairs, bool(np.all(pos == pos[0, 0])), lam)


def _difference_counts(blocks: list[tuple[int, ...]], v: int) -> np.ndarray:
    counts = np.zeros(v, int)
    for block in blocks:
        for a in block:
            for b in block:
                if a != b:
                    counts[(a - b) % v] += 1
    return counts[1:]


@dataclass(frozen=True)
class RotationDesign:
    """booklets: (B, k) cluster index per booklet and position.  base_blocks: what was developed.
    balance: its :class:`DesignBalance`.  note: why pairs are not balanced, when they are not."""

    booklets: np.ndarray
    base_blocks: tuple[tuple[int, ...], ...]
    balance: DesignBalance
    note: str = ""


def rotation_design(n_clusters: int, positions: int, n_blocks: int = 1, search_limit: int = 200_000) -> RotationDesign:
    """A cyclic rotation of ``n_clusters`` clusters over booklets of ``positions`` clusters.

    ``n_blocks`` base blocks give n_blocks × n_clusters booklets.  Searches for a difference
    family (all pair counts equal); when none exists (or none is found within
    ``search_limit`` candidates) returns the design with the most even pair counts and
    explains in ``note``.  Positions are always balanced (cyclic development).
    """
    v, k = n_clusters, positions
    if not 1 <= k <= v:
        raise ValueError(f"booklets of {k} positions need 1 ≤ positions ≤ clusters ({v})")
    if n_blocks < 1:
        raise ValueError("n_blocks must be at least 1")
    note = ""
    pairs_total = n_blocks * k * (k - 1)
    possible = v == 1 or pairs_total % (v - 1) == 0
    if not possible:
        note = (f"perfect pair balance is impossible with {v} clusters, {k} positions and {n_blocks * v} booklets: "
                f"λ·(v−1) = {n_blocks}·k·(k−1) needs {pairs_total} to be a multiple of {v - 1}")
    # Candidate base blocks contain 0 (any block is a cyclic shift of one that does).
    candidates = [(0, *rest) for rest in combinations(range(1, v), k - 1)]
    best: tuple[tuple[int, ...], ...] | None = None
    best_score: tuple[int, int] | None = None
    tried = 0

    def score(blocks: tuple[tuple[int, ...], ...]) -> tuple[int, int]:
        if v == 1:
            return (0, 0)
        d = _difference_counts(list(blocks), v)
        return int(d.max() - d.min()), int(np.sum((d - d.mean()) ** 2) * 1000)

    def search(start: int, chosen: tuple[tuple[int, ...], ...]) -> bool:
        nonlocal best, best_score, tried
        if len(chosen) == n_blocks:
            tried += 1
            s = score(chosen)
            if best_score is None or s < best_score:
                best, best_score = chosen, s
            return s[0] == 0 or tried >= search_limit
        for i in range(start, len(candidates)):
            if search(i, (*chosen, candidates[i])):
                return True
        return False

    search(0, ())
    assert best is not None
    booklets = np.array([[(d + i) % v for d in block] for block in best for i in range(v)], int)
    balance = design_balance(booklets, v)
    if not balance.pairs_balanced and not note:
        note = (f"no cyclic design with {n_blocks} base block(s) balancing pairs was found for {v} clusters "
                f"in {k} positions; try another number of booklets (n_blocks) or clusters")
    return RotationDesign(booklets, best, balance, note)


def suggest_clusters(total_minutes: float, n_units: int, positions: int,
                     cluster_minutes: float = 30.0) -> int:
    """The number of clusters closest to ``total_minutes / cluster_minutes`` for which a
    one-block cyclic design with ``positions`` positions balances pairs (so λ(v−1) = k(k−1)),
    with positions < clusters ≤ units.  Falls back to the plain ratio when none exists."""
    k = positions
    wanted = max(total_minutes / cluster_minutes, 1.0)
    options = [v for v in range(k + 1, n_units + 1) if (k * (k - 1)) % (v - 1) == 0
               and rotation_design(v, k).balance.pairs_balanced]
    if not options:
        return max(min(n_units, round(wanted)), min(k, n_units))
    return min(options, key=lambda v: (abs(v - wanted), v))
