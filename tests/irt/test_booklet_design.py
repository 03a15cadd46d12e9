"""Rotated booklet designs: positions and pairs balanced where possible, said when not."""

from __future__ import annotations

import numpy as np
import pytest

from irt.booklet_design import balance_clusters, design_balance, rotation_design, suggest_clusters


@pytest.mark.parametrize(("v", "k", "lam"), [(7, 3, 1), (7, 4, 2), (13, 4, 1), (11, 5, 2), (3, 2, 1), (4, 3, 2)])
def test_cyclic_designs_balance_positions_and_pairs(v: int, k: int, lam: int) -> None:
    design = rotation_design(v, k)
    assert design.booklets.shape == (v, k)
    # each cluster once per position
    for p in range(k):
        assert sorted(design.booklets[:, p].tolist()) == list(range(v))
    # every pair of clusters in λ booklets (counted directly, not via the library's helper)
    pairs = np.zeros((v, v), int)
    for row in design.booklets:
        assert len(set(row.tolist())) == k
        for a in row:
            for b in row:
                if a != b:
                    pairs[a, b] += 1
    off = pairs[~np.eye(v, dtype=bool)]
    assert set(off.tolist()) == {lam}
    assert design.balance.lam == lam and design.balance.positions_balanced
    assert design.note == ""


def test_pisa_design_uses_a_difference_set() -> None:
    design = rotation_design(7, 3)
    diffs = sorted((a - b) % 7 for a in design.base_blocks[0] for b in design.base_blocks[0] if a != b)
    assert diffs == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("v", "k"), [(6, 3), (4, 2), (9, 3), (8, 4)])
def test_impossible_balance_is_said(v: int, k: int) -> None:
    design = rotation_design(v, k)
    assert not design.balance.pairs_balanced
    assert "impossible" in design.note
    assert design.balance.positions_balanced
    assert "NOT balanced" in design.balance.describe()


def test_more_blocks_balance_what_one_cannot() -> None:
    # v = 5, k = 3: λ·4 = 6m needs m even; two base blocks give λ = 3
    assert not rotation_design(5, 3).balance.pairs_balanced
    two = rotation_design(5, 3, n_blocks=2)
    assert two.booklets.shape == (10, 3)
    assert two.balance.lam == 3


def test_design_balance_detects_unbalanced_positions() -> None:
    balance = design_balance(np.array([[0, 1], [0, 2], [1, 2]]), 3)
    assert not balance.positions_balanced
    assert balance.lam == 1


def test_clusters_have_about_equal_time_and_spread_domains() -> None:
    rng = np.random.default_rng(0)
    minutes = rng.integers(8, 14, 30)
    domains = np.repeat(["culture", "environment", "institutions", "socio_economic"], [8, 8, 7, 7])
    clusters = balance_clusters(minutes, 7, domains)
    assert sorted(u for c in clusters for u in c) == list(range(30))
    loads = [minutes[c].sum() for c in clusters]
    assert max(loads) - min(loads) <= max(minutes)  # within one unit's time
    for c in clusters:  # no cluster holds more than 2 units of one domain (8 units over 7 clusters)
        _, counts = np.unique(domains[c], return_counts=True)
        assert counts.max() <= 2


def test_suggested_cluster_count_is_balanced() -> None:
    v = suggest_clusters(500, 48, 4)
    assert rotation_design(v, 4).balance.pairs_balanced
    assert v == 13
