"""Inter-rater agreement of two coders on the same responses: percent agreement and Cohen's kappa.

    p_o = Σ_k n_kk / n,   p_e = Σ_k (n_k· / n)(n_·k / n),   κ = (p_o - p_e) / (1 - p_e)

(Cohen 1960).  The standard error is the large-sample one under κ ≠ 0 of Fleiss, Cohen & Everitt
(1969); PISA reports per-item agreement of multiply coded responses this way (OECD 2017, ch. 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class AgreementError(ValueError):
    """Codes that cannot be compared (different lengths, no pairs)."""


@dataclass(frozen=True)
class Agreement:
    """n: number of doubly coded responses; percent: 100·p_o; kappa (NaN when p_e = 1, i.e.
    both coders always gave one and the same code); se: SE of kappa; table: (K, K) counts,
    rows coder 1, columns coder 2, in the order of ``categories``."""

    n: int
    percent: float
    kappa: float
    se: float
    categories: tuple[object, ...]
    table: np.ndarray


def contingency(
    first: Sequence[object], second: Sequence[object], categories: Sequence[object] | None = None
) -> tuple[np.ndarray, tuple[object, ...]]:
    """The (K, K) table of two coders' codes (rows: first coder).  categories: the codes in
    order (default: the sorted union of the codes given)."""
    a, b = list(first), list(second)
    if len(a) != len(b):
        raise AgreementError(f"the coders coded {len(a)} and {len(b)} responses; pair them first")
    cats = tuple(categories) if categories is not None else tuple(sorted(set(a) | set(b), key=str))
    index = {c: k for k, c in enumerate(cats)}
    unknown = [c for c in (*a, *b) if c not in index]
    if unknown:
        raise AgreementError(f"code {unknown[0]!r} is not one of {list(cats)}")
    table = np.zeros((len(cats), len(cats)), dtype=float)
    np.add.at(table, (np.array([index[c] for c in a], int), np.array([index[c] for c in b], int)), 1)
    return table, cats


def kappa_from_table(table: np.ndarray) -> tuple[float, float, float]:
    """(percent agreement, κ, SE of κ) of a (K, K) count table."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise AgreementError(f"the table must be square (K, K), got shape {t.shape}")
    n = t.sum()
    if n <= 0:
        raise AgreementError("no doubly coded responses")
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_o = float(np.trace(p))
    p_e = float(rows @ cols)
    if np.isclose(p_e, 1.0):
        return 100.0 * p_o, float("nan"), float("nan")
    kappa = (p_o - p_e) / (1.0 - p_e)
    # Fleiss, Cohen & Everitt (1969), the variance of κ̂ when κ ≠ 0
    diag = np.diag(p)
    term1 = float(np.sum(diag * (1.0 - (rows + cols) * (1.0 - kappa)) ** 2))
    off = (1.0 - kappa) ** 2 * p * (cols[:, None] + rows[None, :]) ** 2
    term2 = float(off.sum() - np.trace(off))
    term3 = (kappa - p_e * (1.0 - kappa)) ** 2
    var = (term1 + term2 - term3) / (n * (1.0 - p_e) ** 2)
    return 100.0 * p_o, float(kappa), float(np.sqrt(max(var, 0.0)))


def cohen_kappa(
    first: Sequence[object], second: Sequence[object], categories: Sequence[object] | None = None
) -> Agreement:
    """Agreement of two coders over the same responses: first, second: (n,) codes."""
    table, cats = contingency(first, second, categories)
    percent, kappa, se = kappa_from_table(table)
    return Agreement(int(table.sum()), percent, kappa, se, cats, table)
