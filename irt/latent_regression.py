"""The population model of large-scale assessments: a latent regression θ ~ N(Γᵀx, σ²) on
background variables x, estimated with the item parameters fixed, and plausible values drawn
from each student's posterior given the responses and x (Mislevy 1991; Mislevy, Beaton, Kaplan &
Sheehan 1992; OECD, PISA 2018 Technical Report ch. 9).

Estimation is EM over a fixed grid of θ nodes (the item likelihood L_nq is computed once):

    E-step:  p_nq ∝ L_nq · φ((θ_q − x_nᵀΓ)/σ);  posterior moments m_n = Σ_q p_nq θ_q,
             v_n = Σ_q p_nq θ_q² − m_n²
    M-step:  Γ = (XᵀWX)⁻¹ XᵀW m;   σ² = Σ_n w_n [(m_n − x_nᵀΓ)² + v_n] / Σ_n w_n

(the EM for a normal regression with latent outcome: Dempster, Laird & Rubin 1977; Mislevy 1985).
Plausible values are draws from p_n· given the final Γ, σ² (as PISA; NAEP also draws Γ).  With x
= a column of ones the model is the unconditioned one: one normal N(μ, σ²) for everybody, which
shrinks every group difference toward zero in proportion to the measurement error.

Many background variables (dummies of schools, questionnaire items) are reduced to principal
components first (:func:`principal_components`), as PISA keeps the components that explain 80–95%
of their variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import ItemParameters, log_likelihood
from .scoring import check_responses


class LatentRegressionError(ValueError):
    """A background matrix or setting the model cannot use."""


@dataclass(frozen=True)
class PopulationModel:
    """gamma: (P,) regression coefficients on the columns of X; sigma: the residual SD;
    iterations, converged; log_likelihood: the marginal log-likelihood at the estimate."""

    gamma: np.ndarray
    sigma: float
    iterations: int
    converged: bool
    log_likelihood: float


def principal_components(x: np.ndarray, *, share: float = 0.95) -> np.ndarray:
    """Standardised principal components of x (N, P) explaining at least ``share`` of its
    variance, (N, C) with C ≤ P; constant columns are dropped."""
    x = np.asarray(x, float)
    sd = x.std(axis=0)
    keep = sd > 1e-12
    if not keep.any():
        return np.empty((x.shape[0], 0))
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    var = s**2 / np.sum(s**2)
    c = int(np.searchsorted(np.cumsum(var), share - 1e-12) + 1)
    c = min(c, int(np.sum(s > 1e-8 * s[0])))
    return u[:, :c] * np.sqrt(x.shape[0])


def _check_design(x: np.ndarray, n: int, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[0] != n:
        raise LatentRegressionError(f"background must be (N = {n}, P), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise LatentRegressionError("background values must be finite (impute missing values)")
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    if w.shape != (n,) or np.any(w < 0) or not w.sum() > 0:
        raise LatentRegressionError("weights must be (N,) non-negative with a positive sum")
    if np.linalg.matrix_rank(x * np.sqrt(w)[:, None]) < x.shape[1]:
        raise LatentRegressionError(
            "the background columns are collinear (a dummy for every level plus a constant?)"
        )
    return x, w


def _posterior(loglik: np.ndarray, nodes: np.ndarray, mu: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior (N, Q) on the grid and the marginal log-likelihood per person (N,)."""
    logp = loglik - 0.5 * ((nodes[None, :] - mu[:, None]) / sigma) ** 2
    top = logp.max(axis=1, keepdims=True)
    p = np.exp(logp - top)
    total = p.sum(axis=1, keepdims=True)
    h = nodes[1] - nodes[0]
    marginal = top[:, 0] + np.log(total[:, 0] * h / (np.sqrt(2 * np.pi) * sigma))
    return p / total, marginal


def fit(
    params: ItemParameters,
    responses: np.ndarray,
    background: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    n_nodes: int = 241,
    tol: float = 1e-6,
    max_iter: int = 500,
    population: tuple[float, float] = (0.0, 1.0),
) -> tuple[PopulationModel, np.ndarray, np.ndarray]:
    """Estimate Γ, σ by EM with item parameters fixed.

    responses: (N, J) scores, NaN = not administered; background: (N, P) with a constant column
    (the intercept) among them; weights: (N,) student weights (default 1).  population: (mean,
    SD) of the calibration, which places the θ grid (mean ± 7 SD, ``n_nodes`` points).  Returns
    the model, the grid (Q,) and the log-likelihood matrix (N, Q) for :func:`draw`.
    """
    resp = check_responses(params, responses)
    x, w = _check_design(background, resp.shape[0], weights)
    nodes = np.linspace(population[0] - 7.0 * population[1], population[0] + 7.0 * population[1], n_nodes)
    loglik = log_likelihood(params, resp, nodes)  # (N, Q)
    xtw = x.T * w[None, :]
    xtwx = xtw @ x
    gamma = np.linalg.solve(xtwx, xtw @ np.full(x.shape[0], population[0]))
    sigma = float(population[1])
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        post, _ = _posterior(loglik, nodes, x @ gamma, sigma)
        m = post @ nodes
        v = np.maximum(post @ nodes**2 - m**2, 0.0)
        new_gamma = np.linalg.solve(xtwx, xtw @ m)
        resid = m - x @ new_gamma
        new_sigma = float(np.sqrt(max(np.sum(w * (resid**2 + v)) / w.sum(), 1e-8)))
        change = max(float(np.abs(new_gamma - gamma).max()), abs(new_sigma - sigma))
        gamma, sigma = new_gamma, new_sigma
        if change < tol:
            converged = True
            break
    _, marginal = _posterior(loglik, nodes, x @ gamma, sigma)
    model = PopulationModel(gamma, sigma, iteration, converged, float(np.sum(w * marginal)))
    return model, nodes, loglik


def draw(
    model: PopulationModel,
    background: np.ndarray,
    nodes: np.ndarray,
    loglik: np.ndarray,
    n_draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Plausible values (N, n_draws): draws from p_n· on the grid, each a node picked with its
    posterior probability plus a uniform offset within its cell (a continuous draw from the
    piecewise-constant density, as :func:`irt.scoring.plausible_values`)."""
    if n_draws < 1:
        raise LatentRegressionError(f"n_draws must be at least 1, got {n_draws}")
    post, _ = _posterior(loglik, nodes, np.asarray(background, float) @ model.gamma, model.sigma)
    cdf = np.cumsum(post, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((post.shape[0], n_draws))
    cell = np.minimum((cdf[:, None, :] < u[:, :, None]).sum(axis=2), nodes.size - 1)
    h = nodes[1] - nodes[0]
    return nodes[cell] + h * (rng.random(cell.shape) - 0.5)


def plausible_values(
    params: ItemParameters,
    responses: np.ndarray,
    background: np.ndarray | None,
    n_draws: int,
    rng: np.random.Generator,
    *,
    weights: np.ndarray | None = None,
    population: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, PopulationModel]:
    """Conditioned plausible values (N, n_draws) and the fitted population model.
    ``background=None`` gives unconditioned PVs (a constant column only: one N(μ, σ²))."""
    n = np.asarray(responses).shape[0]
    x = np.ones((n, 1)) if background is None else np.asarray(background, float)
    model, nodes, loglik = fit(params, responses, x, weights=weights, population=population)
    return draw(model, x, nodes, loglik, n_draws, rng), model
