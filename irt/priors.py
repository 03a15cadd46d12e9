"""Prior densities on item parameters, used as penalties (MAP) in the calibration's M-step.

Priors are stated on the reported parameters: a ~ lognormal(meanlog, sdlog), b ~ normal(mean, sd)
(every b of GRM/GPCM items), c ~ Beta(α, β) (3PL only).  The M-step works in slope-intercept form
(a, d = -a·b, γ = logit c), so each prior returns its log density with gradient and a negative
semi-definite curvature in those coordinates (chain rule; Gauss–Newton for b).  Mislevy (1986) and
Harwell & Baker (1991) on Bayesian item estimation; the Beta(5, 17) default for c follows BILOG's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Priors:
    """a: (meanlog, sdlog) of a lognormal on the slope, or None.
    b: (mean, sd) of a normal on each difficulty / boundary / step, or None.
    c: (alpha, beta) of a Beta on the 3PL lower asymptote, or None (then c is unpenalised).
    """

    a: tuple[float, float] | None = None
    b: tuple[float, float] | None = None
    c: tuple[float, float] | None = (5.0, 17.0)

    def __post_init__(self) -> None:
        for name, pair in (("a", self.a), ("b", self.b), ("c", self.c)):
            if pair is not None and (
                len(pair) != 2 or pair[1] <= 0 or (name == "c" and pair[0] <= 0)
            ):
                raise ValueError(f"prior on {name}: expected two numbers with a positive scale")


def slope_penalty(a: np.ndarray, prior: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """log p(a), d/da, curvature for a lognormal prior.  a: (n,).  Each output (n,)."""
    mu, sd = prior
    a_pos = np.maximum(a, 1e-6)
    la = np.log(a_pos)
    value = -0.5 * ((la - mu) / sd) ** 2 - la
    grad = -(la - mu) / (sd**2 * a_pos) - 1.0 / a_pos
    curv = -1.0 / (sd**2 * a_pos**2)
    return value, grad, curv


def intercept_penalty(
    a: np.ndarray, d: np.ndarray, prior: tuple[float, float]
) -> tuple[np.ndarray, ...]:
    """Normal prior on b = -d/a.  a: (n,), d: (n, m).

    Returns log p summed over the m values (n,), d/da (n,), d/dd (n, m), and the Gauss–Newton
    curvature pieces: caa (n,), cad (n, m), cdd (n, m) (the dd block is diagonal).
    """
    mu, sd = prior
    a_ = a[:, None]
    b = -d / a_
    resid = (b - mu) / sd**2
    value = -0.5 * np.sum((b - mu) ** 2, axis=1) / sd**2
    db_da = -b / a_  # ∂b/∂a = d/a²
    db_dd = -1.0 / a_ * np.ones_like(d)
    grad_a = np.sum(-resid * db_da, axis=1)
    grad_d = -resid * db_dd
    caa = -np.sum(db_da**2, axis=1) / sd**2
    cad = -(db_da * db_dd) / sd**2
    cdd = -(db_dd**2) / sd**2
    return value, grad_a, grad_d, caa, cad, cdd


def asymptote_penalty(gamma: np.ndarray, prior: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Beta(α, β) prior on c = logistic(γ), differentiated in γ.  gamma: (n,).  Outputs (n,)."""
    alpha, beta = prior
    c = 1.0 / (1.0 + np.exp(-gamma))
    c = np.clip(c, 1e-12, 1 - 1e-12)
    value = (alpha - 1.0) * np.log(c) + (beta - 1.0) * np.log1p(-c)
    grad = (alpha - 1.0) * (1.0 - c) - (beta - 1.0) * c
    curv = -(alpha + beta - 2.0) * c * (1.0 - c)
    return value, grad, curv
