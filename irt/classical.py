"""Classical (CTT) item analysis: item difficulty as the mean score ratio, item–rest correlation,
counts per score category and per raw response option, option–rest correlations, and
coefficient alpha.

Missing data (NaN = not administered): each item's statistics use the persons who were
administered it, and the rest score is the sum over the *other items each person took*.  In a
booklet design rest scores from different booklets are not on one scale, so compute the
item–rest correlations per booklet when booklets differ in difficulty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class ClassicalError(ValueError):
    """Input that classical item analysis cannot use (shapes, negative scores)."""


@dataclass(frozen=True)
class OptionStatistics:
    """One raw response option of one item: how many chose it, their mean rest score and the
    point-biserial correlation of choosing it with the rest score (a working distractor has a
    negative one)."""

    option: str
    count: int
    mean_rest: float
    rest_correlation: float


@dataclass(frozen=True)
class ItemStatistics:
    """Classical statistics of J items.

    n: (J,) persons administered.  mean: (J,) mean score.  max_score: (J,) top category.
    p_value: (J,) mean score / max_score (the proportion correct for dichotomous items).
    item_rest: (J,) Pearson correlation of the item score with the rest score (NaN if either is
    constant).  category_counts: (J, K) persons per score 0..K-1.  options: per item, the
    statistics of each raw option (empty unless raw options were given), most chosen first.
    """

    item_ids: tuple[str, ...]
    n: np.ndarray
    mean: np.ndarray
    max_score: np.ndarray
    p_value: np.ndarray
    item_rest: np.ndarray
    category_counts: np.ndarray
    options: tuple[tuple[OptionStatistics, ...], ...]


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2:
        return float("nan")
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return float("nan")
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))


def _missing_option(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def item_statistics(
    scores: np.ndarray,
    *,
    item_ids: Sequence[str] | None = None,
    n_categories: Sequence[int] | np.ndarray | None = None,
    options: np.ndarray | None = None,
) -> ItemStatistics:
    """Classical item statistics.

    scores: (N persons, J items) integer scores, NaN = not administered.
    n_categories: (J,) number of score categories (default: largest observed score + 1, at
    least 2); sets max_score and the width of category_counts.
    options: optional (N, J) object array of the raw responses (option ids such as "A", "B"),
    None / "" / NaN where not administered or omitted; gives the per-option statistics.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2:
        raise ClassicalError(f"scores must be (N persons, J items), got shape {x.shape}")
    n_persons, j = x.shape
    if np.any(x[~np.isnan(x)] < 0):
        raise ClassicalError("scores must be ≥ 0")
    ids = tuple(f"item{k + 1}" for k in range(j)) if item_ids is None else tuple(item_ids)
    if len(ids) != j:
        raise ClassicalError(f"item_ids has {len(ids)} entries for {j} items")
    seen = ~np.isnan(x)
    if n_categories is None:
        top = np.max(np.where(seen, x, 0), axis=0, initial=0)
        n_cat = np.maximum(top, 1).astype(int) + 1
    else:
        n_cat = np.asarray(n_categories, dtype=int)
    max_score = n_cat - 1
    filled = np.where(seen, x, 0.0)
    n = seen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / n
    total = filled.sum(axis=1)
    rest = total[:, None] - filled  # (N, J)
    item_rest = np.array([_corr(x[seen[:, k], k], rest[seen[:, k], k]) for k in range(j)])
    k_max = int(n_cat.max(initial=2))
    counts = np.stack([(x == c).sum(axis=0) for c in range(k_max)], axis=1)
    option_stats: list[tuple[OptionStatistics, ...]] = []
    if options is not None:
        opts = np.asarray(options, dtype=object)
        if opts.shape != (n_persons, j):
            raise ClassicalError(f"options must be shaped like scores {x.shape}, not {opts.shape}")
        for k in range(j):
            given = np.array([not _missing_option(v) for v in opts[:, k]])
            labels = np.array([str(v) for v in opts[given, k]], dtype=object)
            r = rest[given, k]
            stats_k = []
            for label in sorted(set(labels), key=lambda s: (-(labels == s).sum(), s)):
                chose = labels == label
                stats_k.append(
                    OptionStatistics(
                        label,
                        int(chose.sum()),
                        float(r[chose].mean()),
                        _corr(chose.astype(float), r),
                    )
                )
            option_stats.append(tuple(stats_k))
    else:
        option_stats = [() for _ in range(j)]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = mean / max_score
    return ItemStatistics(ids, n, mean, max_score, p_value, item_rest, counts, tuple(option_stats))


def cronbach_alpha(scores: np.ndarray) -> float:
    """Coefficient alpha (Cronbach 1951) over the persons with every item administered.

    scores: (N, J).  NaN if fewer than 2 items or 2 complete persons, or zero total variance.
    """
    x = np.asarray(scores, dtype=float)
    complete = x[~np.isnan(x).any(axis=1)]
    j = x.shape[1]
    if j < 2 or complete.shape[0] < 2:
        return float("nan")
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(j / (j - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total_var))
