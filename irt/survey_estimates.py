"""Population estimates with standard errors from replicate weights and plausible values.

Every statistic t is computed for each of the M plausible values with the final weight and with
each of the G replicate weights (OECD, PISA Data Analysis Manual 2009, ch. 7–8):

    sampling variance of PV m:  U_m = Σ_g c_g (t_gm − t_0m)²      (c_g: irt.replicates)
    estimate:                   t = (1/M) Σ_m t_0m
    imputation variance:        B = 1/(M − 1) Σ_m (t_0m − t)²
    total variance:             V = Ū + (1 + 1/M) B                (Rubin 1987, ch. 3)

A statistic is a function ``stat(values (N, M), weights (N, R)) -> (R, M)``: one value per weight
column (the final weight and the replicates, R = 1 + G) and plausible value, computed with matrix
products over students.  A difference between two groups of the same sample is a statistic in
its own right, so its SE carries the covariance of the two means through the replicates.  A trend
between independent samples on two calibrations adds the linking error:
SE² = SE₁² + SE₂² + linking_error² (OECD, PISA 2018 Technical Report ch. 12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .replicates import ReplicateDesign

Statistic = Callable[[np.ndarray, np.ndarray], np.ndarray]
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """An estimate with its SE: sampling variance (averaged over PVs), imputation variance B
    (0 with one value column) and the number M of plausible values."""

    estimate: float
    se: float
    sampling_variance: float
    imputation_variance: float
    n_pv: int

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% interval estimate ± 1.96 SE."""
        return self.estimate - Z95 * self.se, self.estimate + Z95 * self.se

    def significant(self, null: float = 0.0) -> bool:
        """Whether |estimate − null| > 1.96 SE (two-sided 5%)."""
        return bool(abs(self.estimate - null) > Z95 * self.se)


def combine(full: np.ndarray, replicates: np.ndarray, factors: np.ndarray) -> Estimate:
    """Rubin's rules over replicate variances.  full: (M,) estimates with the final weight;
    replicates: (G, M) with each replicate weight; factors: (G,) c_g."""
    full = np.atleast_1d(np.asarray(full, float))
    rep = np.asarray(replicates, float).reshape(-1, full.size)
    m = full.size
    u = float(np.mean(np.asarray(factors, float) @ (rep - full[None, :]) ** 2))
    b = float(np.var(full, ddof=1)) if m > 1 else 0.0
    total = u + (1.0 + 1.0 / m) * b
    return Estimate(float(full.mean()), float(np.sqrt(total)), u, b, m)


def estimate(stat: Statistic, values: np.ndarray, design: ReplicateDesign) -> Estimate:
    """Apply ``stat`` to values (N,) or (N, M) with every weight column of ``design``."""
    vals = np.asarray(values, float)
    if vals.ndim == 1:
        vals = vals[:, None]
    t = np.asarray(stat(vals, design.all_weights()), float)  # (1 + G, M)
    return combine(t[0], t[1:], design.factors)


# -- statistics: (N, M) values, (N, R) weights -> (R, M) ---------------------------------------
def _totals(weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=0)
    return np.where(total > 0, total, np.nan)[:, None]


def mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean Σ w y / Σ w."""
    return (weights.T @ values) / _totals(weights)


def sd(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted standard deviation sqrt(Σ w (y − ȳ)² / Σ w)."""
    mu = mean(values, weights)
    second = (weights.T @ values**2) / _totals(weights)
    return np.sqrt(np.maximum(second - mu**2, 0.0))


def share(indicator: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted percentage of ones of a 0/1 indicator."""
    return 100.0 * mean(indicator, weights)


def difference(stat: Statistic, in_a: np.ndarray, in_b: np.ndarray) -> Statistic:
    """The statistic in group A minus that in group B (masks (N,) of the same sample)."""
    a = np.asarray(in_a, float)[:, None]
    b = np.asarray(in_b, float)[:, None]

    def diff(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return stat(values, weights * a) - stat(values, weights * b)

    return diff


def correlation(other: np.ndarray) -> Statistic:
    """Weighted Pearson correlation of the values with ``other`` (N,) (e.g. a questionnaire
    index)."""
    x = np.asarray(other, float)

    def corr(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        tot = _totals(weights)
        mx = (weights.T @ x)[:, None] / tot  # (R, 1)
        my = (weights.T @ values) / tot  # (R, M)
        sxy = (weights.T @ (values * x[:, None])) / tot - mx * my
        sxx = (weights.T @ x**2)[:, None] / tot - mx**2
        syy = (weights.T @ values**2) / tot - my**2
        return sxy / np.sqrt(np.maximum(sxx * syy, 1e-300))

    return corr


def level_shares(
    scores: np.ndarray, cuts: np.ndarray, design: ReplicateDesign
) -> list[Estimate]:
    """Percent at each level of cut points ``cuts`` (L − 1,) (a score equal to a cut is in the
    higher level), one :class:`Estimate` per level.  scores: (N, M) plausible values."""
    vals = np.asarray(scores, float)
    if vals.ndim == 1:
        vals = vals[:, None]
    idx = np.searchsorted(np.asarray(cuts, float), vals, side="right")  # (N, M)
    n_levels = len(cuts) + 1
    # every level's indicator (N, L·M) through the weights at once: one product, not one per level
    indicators = (idx[:, None, :] == np.arange(n_levels)[None, :, None]).astype(float)
    t = share(indicators.reshape(vals.shape[0], -1), design.all_weights())  # (1 + G, L·M)
    t = t.reshape(t.shape[0], n_levels, vals.shape[1])
    return [combine(t[0, level], t[1:, level], design.factors) for level in range(n_levels)]


def trend(later: Estimate, earlier: Estimate, linking_error: float = 0.0) -> Estimate:
    """later − earlier for independent samples on linked scales: SE² = SE₁² + SE₂² + LE²."""
    var_s = later.sampling_variance + earlier.sampling_variance + linking_error**2
    var_i = later.imputation_variance + earlier.imputation_variance
    se = float(np.sqrt(later.se**2 + earlier.se**2 + linking_error**2))
    return Estimate(
        later.estimate - earlier.estimate, se, var_s, var_i, min(later.n_pv, earlier.n_pv)
    )


def srs_se_mean(values: np.ndarray) -> float:
    """The textbook SE of a mean under simple random sampling, s/√n (first column)."""
    v = np.asarray(values, float)
    v = v if v.ndim == 1 else v[:, 0]
    return float(v.std(ddof=1) / np.sqrt(v.size))
