"""Person ability estimates from item responses and known item parameters: MLE, WLE, EAP, MAP and
plausible values.

Everything is vectorized over persons; the CAT engine calls these one person at a time with a
few items, so the per-call overhead is kept to a few array operations per iteration.

Conventions shared by every function here:

- ``responses``: (N persons, J items) integer scores as floats, NaN = not administered.  A 1-D
  array (J,) is taken as one person.  Any mix of the models in :mod:`irt.models`.
- Normal prior N(prior_mean, prior_sd²) for the Bayesian estimators.
- Standard errors use the Fisher (expected) test information over each person's administered
  items, I(θ) = Σ_j I_j(θ); for the 2PL and Rasch models this equals the observed information.

Undefined cases, by design rather than by accident:

- A person with no administered items gets the prior (θ = prior_mean, se = prior_sd) from EAP
  and MAP, and θ = se = NaN from MLE and WLE.
- MLE for an extreme pattern (every administered item at its lowest, or every one at its
  highest category) has no finite maximum: θ is the nearer bound and se = inf.  More generally,
  whenever the MLE or WLE equation has no root inside ``bounds``, θ is the bound toward which the
  likelihood increases and se = inf.
- WLE exists for extreme patterns of Rasch / 2PL / GRM / GPCM items (Warm 1989) and is returned
  as a finite value with a finite se.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models import ItemParameters, category_derivatives, log_likelihood

_TINY = 1e-300
_H = 1e-5  # step of the central difference for the second θ-derivative of P (WLE only)
METHODS = ("mle", "wle", "eap", "map")


class ScoringError(ValueError):
    """Responses that do not fit the item parameters (shape, scores out of range), bad options."""


@dataclass(frozen=True)
class AbilityEstimates:
    """Ability estimates for N persons.

    theta: (N,) estimates.  se: (N,) standard errors: the posterior SD for EAP; 1/sqrt(I(θ)+1/σ²)
    for MAP; 1/sqrt(I(θ)) for MLE and WLE, inf where θ sits at a bound, NaN where undefined (no
    administered items).  method: "mle", "wle", "eap" or "map".
    """

    theta: np.ndarray
    se: np.ndarray
    method: str


# -- input ------------------------------------------------------------------------------------
def check_responses(params: ItemParameters, responses: np.ndarray) -> np.ndarray:
    """Validate once at the boundary: (N, J) float array, each score NaN or in 0..K_j-1."""
    resp = np.asarray(responses, dtype=float)
    if resp.ndim == 1:
        resp = resp[None, :]
    if resp.ndim != 2 or resp.shape[1] != params.n_items:
        raise ScoringError(
            f"responses must be (N persons, {params.n_items} items), got shape {resp.shape}"
        )
    seen = ~np.isnan(resp)
    bad = seen & ((resp < 0) | (resp > params.n_categories[None, :] - 1) | (resp % 1 != 0))
    if bad.any():
        n, j = np.argwhere(bad)[0]
        raise ScoringError(
            f"person {n}, item {params.ids[j]}: score {resp[n, j]:g} is not one of "
            f"0..{params.n_categories[j] - 1}"
        )
    return resp


def _check_prior(prior_sd: float) -> None:
    if not np.isfinite(prior_sd) or prior_sd <= 0:
        raise ScoringError(f"prior_sd must be a positive number, got {prior_sd}")


def quadrature(prior_mean: float, prior_sd: float, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced nodes over prior_mean ± 6·prior_sd and normalised normal weights, (Q,) each.

    The grid of mirt's ``fscores`` (61 points on [-6, 6] for a standard normal prior).
    """
    if n_nodes < 3:
        raise ScoringError(f"n_nodes must be at least 3, got {n_nodes}")
    _check_prior(prior_sd)
    z = np.linspace(-6.0, 6.0, int(n_nodes))
    w = np.exp(-0.5 * z**2)
    return prior_mean + prior_sd * z, w / w.sum()


# -- Bayesian estimators ----------------------------------------------------------------------
def _posterior(
    params: ItemParameters, resp: np.ndarray, prior_mean: float, prior_sd: float, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (Q,) and normalised posterior weights (N, Q) (Bock & Mislevy 1982)."""
    nodes, weights = quadrature(prior_mean, prior_sd, n_nodes)
    logpost = log_likelihood(params, resp, nodes) + np.log(weights)[None, :]
    logpost -= logpost.max(axis=1, keepdims=True)
    post = np.exp(logpost)
    return nodes, post / post.sum(axis=1, keepdims=True)


def eap(
    params: ItemParameters,
    responses: np.ndarray,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_nodes: int = 61,
) -> AbilityEstimates:
    """Expected a posteriori θ and posterior SD (Bock & Mislevy 1982).

    Quadrature over ``n_nodes`` equally spaced points on prior_mean ± 6·prior_sd.
    responses: (N, J), NaN = not administered.  Returns theta, se: (N,); se > 0 always.
    """
    resp = check_responses(params, responses)
    nodes, post = _posterior(params, resp, prior_mean, prior_sd, n_nodes)
    mean = post @ nodes
    var = post @ nodes**2 - mean**2
    return AbilityEstimates(mean, np.sqrt(np.maximum(var, 0.0)), "eap")


def plausible_values(
    params: ItemParameters,
    responses: np.ndarray,
    n_draws: int,
    rng: np.random.Generator,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_nodes: int = 61,
) -> np.ndarray:
    """Random draws from each person's posterior of θ (Mislevy 1991), (N, n_draws).

    The posterior is evaluated on a grid of max(n_nodes, 201) equally spaced points over
    prior_mean ± 6·prior_sd; a draw picks a grid cell with its posterior probability and then a
    uniform point inside the cell (inverse CDF of the piecewise-constant density), so draws are
    continuous and the added variance (h²/12 with h = 0.06·prior_sd) is negligible.

    The prior is the population model: with prior N(μ, σ²) equal to the population's, the PVs'
    mean and variance estimate the population's without the shrinkage of EAP.
    """
    if n_draws < 1:
        raise ScoringError(f"n_draws must be at least 1, got {n_draws}")
    resp = check_responses(params, responses)
    nodes, post = _posterior(params, resp, prior_mean, prior_sd, max(int(n_nodes), 201))
    h = nodes[1] - nodes[0]
    cdf = np.cumsum(post, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((resp.shape[0], n_draws))
    cell = np.minimum((cdf[:, None, :] < u[:, :, None]).sum(axis=2), len(nodes) - 1)
    return nodes[cell] + h * (rng.random(cell.shape) - 0.5)


# -- derivatives of the log-likelihood per person ----------------------------------------------
def _score_info(
    params: ItemParameters, resp: np.ndarray, theta: np.ndarray, *, warm: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """d log L/dθ, I(θ) and (if ``warm``) Warm's J(θ) = Σ_j Σ_k P'P''/P, each (N,) at θ_n.

    resp: (N, J); theta: (N,).  Only administered items count.
    """
    probs, deriv = category_derivatives(params, theta)  # (J, N, K)
    safe = np.maximum(probs, _TINY)
    k = probs.shape[2]
    admin = ~np.isnan(resp)  # (N, J)
    x = np.where(admin, resp, -1).astype(int).T  # (J, N)
    # d log P_{j,x}/dθ at each person's own θ
    chosen = np.take_along_axis(deriv / safe, np.clip(x, 0, k - 1)[:, :, None], axis=2)[:, :, 0]
    score = np.sum(np.where(admin.T, chosen, 0.0), axis=0)
    info_j = np.sum(np.where(probs > _TINY, deriv**2 / safe, 0.0), axis=2)  # (J, N)
    info = np.sum(np.where(admin.T, info_j, 0.0), axis=0)
    if not warm:
        return score, info, None
    _, d_hi = category_derivatives(params, theta + _H)
    _, d_lo = category_derivatives(params, theta - _H)
    second = (d_hi - d_lo) / (2 * _H)
    j_j = np.sum(np.where(probs > _TINY, deriv * second / safe, 0.0), axis=2)
    return score, info, np.sum(np.where(admin.T, j_j, 0.0), axis=0)


def _bracketed_root(
    fun: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lo: np.ndarray,
    hi: np.ndarray,
    start: np.ndarray,
    *,
    tol: float = 1e-9,
    max_iter: int = 200,
    secant: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Roots of N estimating equations f_n(θ) = 0 by Fisher scoring, safeguarded by bisection.

    ``fun(rows, theta)`` gives (f, slope) for the persons ``rows`` at ``theta``, slope < 0 an
    approximation of df/dθ (minus the information).  With ``secant`` the slope through the last
    two iterates replaces it once available (superlinear where the Fisher slope is only an
    approximation, as for WLE).  A step that leaves the current bracket is replaced by the
    bracket's midpoint, so every person converges.

    Returns (theta, interior): interior is False where f has no sign change on [lo, hi]; theta is
    then the end at which f says the objective is largest (lo if f ≤ 0 throughout, hi otherwise).
    """
    n = lo.shape[0]
    rows = np.arange(n)
    f_lo, _ = fun(rows, lo)
    f_hi, _ = fun(rows, hi)
    theta = np.clip(start, lo, hi).astype(float)
    interior = (f_lo > 0) != (f_hi > 0)
    theta[~interior & (f_lo <= 0)] = lo[~interior & (f_lo <= 0)]
    theta[~interior & (f_lo > 0)] = hi[~interior & (f_lo > 0)]
    # pos: a point where f > 0, neg: a point where f ≤ 0
    pos = np.where(f_lo > 0, lo, hi)
    neg = np.where(f_lo > 0, hi, lo)
    active = np.flatnonzero(interior)
    prev_th = np.full(n, np.nan)
    prev_f = np.full(n, np.nan)
    for _ in range(max_iter):
        if active.size == 0:
            break
        th = theta[active]
        f, slope = fun(active, th)
        if secant:
            with np.errstate(divide="ignore", invalid="ignore"):
                sec = (f - prev_f[active]) / (th - prev_th[active])
            slope = np.where(np.isfinite(sec) & (sec < 0), sec, slope)
            prev_th[active], prev_f[active] = th, f
        up = f > 0
        pos[active] = np.where(up, th, pos[active])
        neg[active] = np.where(up, neg[active], th)
        a, b = np.minimum(pos[active], neg[active]), np.maximum(pos[active], neg[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = th - f / slope
        ok = (slope < 0) & (newton > a) & (newton < b) & np.isfinite(newton)
        new = np.where(ok, newton, 0.5 * (a + b))
        done = (np.abs(new - th) < tol) | (b - a < tol) | (f == 0)
        theta[active] = np.where(f == 0, th, new)
        active = active[~done]
    return theta, interior


def _prior_bracket(
    params: ItemParameters, resp: np.ndarray, prior_mean: float, prior_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """An interval sure to hold the MAP: |d log L/dθ| ≤ Σ_j |a_j|·(K_j - 1) for every model here,
    so the root of score - (θ-μ)/σ² lies within μ ± σ²·Σ_j |a_j|(K_j - 1)."""
    admin = ~np.isnan(resp)
    bound = admin @ (np.abs(params.a) * (params.n_categories - 1)) * prior_sd**2 + 1e-6
    return prior_mean - bound, prior_mean + bound


def map_estimate(
    params: ItemParameters,
    responses: np.ndarray,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
) -> AbilityEstimates:
    """Maximum a posteriori θ (Bayes modal) under a N(prior_mean, prior_sd²) prior.

    Solves d log L/dθ - (θ - μ)/σ² = 0 by Fisher scoring with a bisection safeguard; se =
    1/sqrt(I(θ) + 1/σ²).  responses: (N, J), NaN = not administered.  Returns (N,) arrays.
    """
    _check_prior(prior_sd)
    resp = check_responses(params, responses)
    prec = 1.0 / prior_sd**2

    def fun(rows: np.ndarray, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score, info, _ = _score_info(params, resp[rows], th)
        return score - (th - prior_mean) * prec, -(info + prec)

    lo, hi = _prior_bracket(params, resp, prior_mean, prior_sd)
    theta, _ = _bracketed_root(fun, lo, hi, np.full(resp.shape[0], float(prior_mean)))
    _, info, _ = _score_info(params, resp, theta)
    return AbilityEstimates(theta, 1.0 / np.sqrt(info + prec), "map")


def _extreme(params: ItemParameters, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N,) masks: no administered item; every administered item at the category whose
    probability falls with θ; every one at the category whose probability rises with θ.

    The lowest category's probability falls with θ when a > 0 and rises when a < 0 (the top
    category the other way round), so with negative-slope items "all correct" is not extreme:
    its likelihood has a finite maximum, left to the root finder.  An item with a = 0 carries no
    information about θ and makes no pattern extreme.
    """
    admin = ~np.isnan(resp)
    none = ~admin.any(axis=1)
    top = params.n_categories - 1
    falling = np.where(params.a > 0, 0, np.where(params.a < 0, top, -1))[None, :]
    rising = np.where(params.a > 0, top, np.where(params.a < 0, 0, -1))[None, :]
    low = ~none & np.all(~admin | (resp == falling), axis=1)
    high = ~none & np.all(~admin | (resp == rising), axis=1)
    return none, low, high


def _check_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise ScoringError(f"bounds must be (low, high) with low < high, got {bounds}")
    return lo, hi


def _likelihood_root(
    params: ItemParameters, resp: np.ndarray, bounds: tuple[float, float], warm: bool, method: str
) -> AbilityEstimates:
    lo, hi = _check_bounds(bounds)
    n = resp.shape[0]
    theta = np.full(n, np.nan)
    se = np.full(n, np.nan)
    none, low, high = _extreme(params, resp)
    if not warm:
        theta[low], se[low] = lo, np.inf
        theta[high], se[high] = hi, np.inf
        solve = np.flatnonzero(~(none | low | high))
    else:
        solve = np.flatnonzero(~none)
    if solve.size:
        sub = resp[solve]

        def fun(rows: np.ndarray, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            score, info, j = _score_info(params, sub[rows], th, warm=warm)
            if j is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    score = score + np.where(info > 0, j / (2.0 * info), 0.0)
            return score, -info

        est, interior = _bracketed_root(
            fun,
            np.full(solve.size, lo),
            np.full(solve.size, hi),
            np.zeros(solve.size),
            secant=warm,
        )
        _, info, _ = _score_info(params, sub, est)
        with np.errstate(divide="ignore"):
            s = np.where(interior, 1.0 / np.sqrt(info), np.inf)
        theta[solve], se[solve] = est, s
    return AbilityEstimates(theta, se, method)


def mle(
    params: ItemParameters, responses: np.ndarray, *, bounds: tuple[float, float] = (-6.0, 6.0)
) -> AbilityEstimates:
    """Maximum-likelihood θ within ``bounds``; se = 1/sqrt(I(θ)).

    Extreme patterns (all administered items at 0, or all at their top category) get the nearer
    bound and se = inf; so does any pattern whose likelihood keeps increasing up to a bound.  No
    administered items: NaN.  responses: (N, J), NaN = not administered.  Returns (N,) arrays.
    """
    return _likelihood_root(params, check_responses(params, responses), bounds, False, "mle")


def wle(
    params: ItemParameters, responses: np.ndarray, *, bounds: tuple[float, float] = (-6.0, 6.0)
) -> AbilityEstimates:
    """Warm's (1989) weighted likelihood θ: the root of d log L/dθ + J(θ)/(2 I(θ)) = 0 with
    J(θ) = Σ_j Σ_k P'_jk P''_jk / P_jk, which removes the O(1/n) bias of the MLE.

    Finite for extreme patterns of Rasch, 2PL, GRM and GPCM items; if the equation has no root
    inside ``bounds`` (e.g. all-wrong on 3PL items), θ is the bound and se = inf.  se =
    1/sqrt(I(θ)) otherwise.  No administered items: NaN.  Returns (N,) arrays.
    """
    return _likelihood_root(params, check_responses(params, responses), bounds, True, "wle")


def estimate(
    params: ItemParameters, responses: np.ndarray, method: str, **kw: object
) -> AbilityEstimates:
    """Dispatch to :func:`mle`, :func:`wle`, :func:`eap` or :func:`map_estimate` by name."""
    funcs: dict[str, Callable[..., AbilityEstimates]] = {
        "mle": mle,
        "wle": wle,
        "eap": eap,
        "map": map_estimate,
    }
    key = method.lower()
    if key not in funcs:
        raise ScoringError(f"unknown scoring method {method!r}; use one of {METHODS}")
    return funcs[key](params, responses, **kw)
