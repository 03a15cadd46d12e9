"""Measurement precision of a test: conditional standard errors from the test information
function, marginal reliability over the population, and empirical reliability of a set of
ability estimates.
"""

from __future__ import annotations

import numpy as np

from .models import ItemParameters
from .models import test_information as _test_information
from .scoring import AbilityEstimates, quadrature


def conditional_se(params: ItemParameters, theta: np.ndarray | float) -> np.ndarray:
    """SE(θ) = 1/sqrt(I(θ)) of the MLE on the whole test, (Q,); inf where I(θ) = 0."""
    info = _test_information(params, theta)
    with np.errstate(divide="ignore"):
        return 1.0 / np.sqrt(info)


def marginal_reliability(
    params: ItemParameters,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_nodes: int = 61,
) -> float:
    """Marginal reliability of the whole test from its information function (Green, Bock,
    Humphreys, Linn & Reckase 1984):

        ρ = σ² / (σ² + E_g[1 / I(θ)]),  g = N(prior_mean, prior_sd²),

    the share of the observed-score variance of the MLE that is true variance.
    """
    nodes, weights = quadrature(prior_mean, prior_sd, n_nodes)
    info = _test_information(params, nodes)
    with np.errstate(divide="ignore"):
        error_var = float(weights @ (1.0 / info))
    return float(prior_sd**2 / (prior_sd**2 + error_var))


def empirical_reliability(estimates: AbilityEstimates) -> float:
    """Reliability of a sample of estimates (persons with finite θ and se).

    EAP / MAP (Bock & Mislevy 1982; du Toit 2003): var(θ̂) / (var(θ̂) + mean(se²)), since the
    posterior mean's variance plus the mean posterior variance is the population variance.
    MLE / WLE: (var(θ̂) - mean(se²)) / var(θ̂), the error variance taken out of the observed.
    """
    ok = np.isfinite(estimates.theta) & np.isfinite(estimates.se)
    theta, se = estimates.theta[ok], estimates.se[ok]
    if theta.size < 2:
        return float("nan")
    var = float(np.var(theta))
    err = float(np.mean(se**2))
    if estimates.method in ("eap", "map"):
        return var / (var + err)
    return (var - err) / var if var > 0 else float("nan")
