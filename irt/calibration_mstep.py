"""The M-step of MML-EM calibration: each model in slope-intercept form, the derivatives of its
category probabilities with respect to its parameters, and a vectorized Fisher-scoring update of
all items of one model at once from the expected counts r_jqk.

Parameter vectors η per item (the coordinates in which Newton steps are well conditioned):

- rasch  [d]                  P(X=1|θ) = σ(θ + d)                       (b = -d)
- 2pl    [a, d]               P(X=1|θ) = σ(aθ + d)                      (b = -d/a)
- 3pl    [a, d, γ]            P(X=1|θ) = c + (1-c) σ(aθ + d), c = σ(γ)
- grm    [a, d_1..d_m]        P(X≥k|θ) = σ(aθ + d_k), d decreasing       (Samejima 1969)
- gpcm   [a, d_1..d_m]        P(X=k|θ) ∝ exp(Σ_{v≤k} (aθ + d_v))         (Muraki 1992)
- pcm    [d_1..d_m]           the GPCM with a = 1 (Masters 1982)

The update maximises Σ_q Σ_k r_jqk log P_jk(θ_q) + log prior(η_j) for every item j of a group
(Bock & Aitkin 1981, eq. 12–15) by Fisher scoring with per-item step halving; no loop over items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .priors import Priors, asymptote_penalty, intercept_penalty, slope_penalty

FIT_MODELS = ("rasch", "2pl", "3pl", "grm", "gpcm", "pcm")
_TINY = 1e-300


def _logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def n_parameters(model: str, n_cat: int) -> int:
    """Length of η for ``model`` with ``n_cat`` categories."""
    m = n_cat - 1
    return {"rasch": 1, "2pl": 2, "3pl": 3, "grm": 1 + m, "gpcm": 1 + m, "pcm": m}[model]


def slope_index(model: str) -> int | None:
    """Position of a in η, or None when a is fixed at 1."""
    return None if model in ("rasch", "pcm") else 0


def intercept_slice(model: str, n_cat: int) -> slice:
    """Positions of d (or d_1..d_m) in η."""
    m = n_cat - 1
    return {
        "rasch": slice(0, 1),
        "2pl": slice(1, 2),
        "3pl": slice(1, 2),
        "grm": slice(1, 1 + m),
        "gpcm": slice(1, 1 + m),
        "pcm": slice(0, m),
    }[model]


def split(model: str, eta: np.ndarray, n_cat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """η: (n, P) → a (n,), d (n, m), c (n,)."""
    n = eta.shape[0]
    k = slope_index(model)
    a = np.ones(n) if k is None else eta[:, k]
    d = eta[:, intercept_slice(model, n_cat)]
    c = _logistic(eta[:, 2]) if model == "3pl" else np.zeros(n)
    return a, d, c


def to_reported(model: str, eta: np.ndarray, n_cat: int) -> tuple[np.ndarray, ...]:
    """η → (a (n,), b (n, m) with b = -d/a, c (n,)) on the reported metric."""
    a, d, c = split(model, eta, n_cat)
    return a, -d / a[:, None], c


def start_values(model: str, counts: np.ndarray, c_start: float = 0.2) -> np.ndarray:
    """Starting η from observed category counts.  counts: (n, K) with every category observed."""
    n, n_cat = counts.shape
    total = counts.sum(axis=1, keepdims=True)
    prop = (counts + 0.5) / (total + 0.5 * n_cat)
    # P(X ≥ k) for k = 1..m; the 1.2 roughly undoes the shrinkage of marginalising over N(0, 1)
    cum = np.clip(np.cumsum(prop[:, ::-1], axis=1)[:, ::-1][:, 1:], 1e-4, 1 - 1e-4)
    logit_cum = 1.2 * np.log(cum / (1.0 - cum))
    ones = np.ones((n, 1))
    if model == "rasch":
        return logit_cum
    if model == "2pl":
        return np.hstack([ones, logit_cum])
    if model == "3pl":
        p = np.clip((cum[:, :1] - c_start) / (1 - c_start), 0.02, 0.98)
        gamma = np.full((n, 1), np.log(c_start / (1 - c_start)))
        return np.hstack([ones, 1.2 * np.log(p / (1 - p)), gamma])
    if model == "grm":
        return np.hstack([ones, logit_cum])
    adjacent = np.log(prop[:, 1:] / prop[:, :-1])  # log P(k)/P(k-1) = aθ + d_k at θ = 0
    return adjacent if model == "pcm" else np.hstack([ones, adjacent])


def probabilities(
    model: str, eta: np.ndarray, theta: np.ndarray, n_cat: int, jacobian: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """P: (n, Q, K) and dP/dη: (n, Q, K, P) (None unless ``jacobian``).  theta: (Q,)."""
    n, q_ = eta.shape[0], theta.size
    a, d, c = split(model, eta, n_cat)
    th = theta[None, :]
    if model in ("rasch", "2pl", "3pl"):
        s = _logistic(a[:, None] * th + d[:, :1])
        p1 = c[:, None] + (1 - c[:, None]) * s
        probs = np.stack([1 - p1, p1], axis=2)
        if not jacobian:
            return probs, None
        w = (1 - c[:, None]) * s * (1 - s)
        if model == "rasch":
            cols = [w]
        elif model == "2pl":
            cols = [w * th, w]
        else:
            cols = [w * th, w, (c * (1 - c))[:, None] * (1 - s)]
        d1 = np.stack(cols, axis=2)  # (n, Q, P)
        return probs, np.stack([-d1, d1], axis=2)
    m = n_cat - 1
    if model == "grm":
        star = np.zeros((n, q_, m + 2))
        star[:, :, 0] = 1.0
        star[:, :, 1 : m + 1] = _logistic(a[:, None, None] * th[:, :, None] + d[:, None, :])
        probs = star[:, :, :-1] - star[:, :, 1:]
        if not jacobian:
            return probs, None
        w = star * (1 - star)  # zero at both ends
        jac = np.zeros((n, q_, n_cat, 1 + m))
        jac[:, :, :, 0] = theta[None, :, None] * (w[:, :, :-1] - w[:, :, 1:])
        for v in range(1, m + 1):
            jac[:, :, v, v] = w[:, :, v]
            jac[:, :, v - 1, v] = -w[:, :, v]
        return probs, jac
    # gpcm / pcm
    k = np.arange(n_cat, dtype=float)
    cumd = np.concatenate([np.zeros((n, 1)), np.cumsum(d, axis=1)], axis=1)  # (n, K)
    s = a[:, None, None] * k[None, None, :] * th[:, :, None] + cumd[:, None, :]
    s -= s.max(axis=2, keepdims=True)
    e = np.exp(s)
    probs = e / e.sum(axis=2, keepdims=True)
    if not jacobian:
        return probs, None
    # ∂s_k/∂d_v = [v ≤ k]; P(X ≥ v) = Σ_{k ≥ v} P_k
    tail = np.cumsum(probs[:, :, ::-1], axis=2)[:, :, ::-1][:, :, 1:]  # (n, Q, m)
    lower = (np.arange(1, n_cat)[None, :] <= k[:, None]).astype(float)  # (K, m)
    dd = probs[:, :, :, None] * (lower[None, None, :, :] - tail[:, :, None, :])
    if model == "pcm":
        return probs, dd
    mean = probs @ k
    da = probs * theta[None, :, None] * (k[None, None, :] - mean[:, :, None])
    return probs, np.concatenate([da[:, :, :, None], dd], axis=3)


def penalty(
    model: str, eta: np.ndarray, n_cat: int, priors: Priors
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log prior (n,), its gradient (n, P) and a negative semi-definite curvature (n, P, P)."""
    n, p_ = eta.shape
    value = np.zeros(n)
    grad = np.zeros((n, p_))
    curv = np.zeros((n, p_, p_))
    ka = slope_index(model)
    ds = intercept_slice(model, n_cat)
    a, d, _ = split(model, eta, n_cat)
    if priors.a is not None and ka is not None:
        v, g, h = slope_penalty(a, priors.a)
        value += v
        grad[:, ka] += g
        curv[:, ka, ka] += h
    if priors.b is not None:
        v, ga, gd, caa, cad, cdd = intercept_penalty(a, d, priors.b)
        value += v
        grad[:, ds] += gd
        idx = np.arange(ds.start, ds.stop)
        curv[:, idx, idx] += cdd
        if ka is not None:
            grad[:, ka] += ga
            curv[:, ka, ka] += caa
            curv[:, ka, idx] += cad
            curv[:, idx, ka] += cad
    if priors.c is not None and model == "3pl":
        v, g, h = asymptote_penalty(eta[:, 2], priors.c)
        value += v
        grad[:, 2] += g
        curv[:, 2, 2] += h
    return value, grad, curv


def objective(
    model: str, eta: np.ndarray, r: np.ndarray, theta: np.ndarray, n_cat: int, priors: Priors
) -> np.ndarray:
    """Σ_q Σ_k r_jqk log P_jk(θ_q) + log prior, (n,); -inf where η is outside the model."""
    probs, _ = probabilities(model, eta, theta, n_cat, jacobian=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(r > 0, np.log(np.where(probs > 0, probs, np.nan)) * r, 0.0)
    value = logp.sum(axis=(1, 2)) + penalty(model, eta, n_cat, priors)[0]
    return np.where(np.isfinite(value), value, -np.inf)


def score_and_information(
    model: str, eta: np.ndarray, r: np.ndarray, theta: np.ndarray, n_cat: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (n, P) and expected information (n, P, P) of Σ r log P.  r: (n, Q, K)."""
    probs, jac = probabilities(model, eta, theta, n_cat)
    assert jac is not None
    n, q_, k_, p_ = jac.shape
    p_safe = np.maximum(probs, _TINY)
    flat = jac.reshape(n, q_ * k_, p_)
    # batched matrix products rather than einsum: the M-step's share of a cycle at small sizes
    grad = ((r / p_safe).reshape(n, 1, q_ * k_) @ flat)[:, 0, :]
    weight = r.sum(axis=2)[:, :, None] / p_safe  # N_q / P_k
    info = np.swapaxes(flat, 1, 2) @ (flat * weight.reshape(n, q_ * k_, 1))
    return grad, info


@dataclass
class StepResult:
    eta: np.ndarray
    max_change: float


def fisher_scoring(
    model: str,
    eta: np.ndarray,
    r: np.ndarray,
    theta: np.ndarray,
    n_cat: int,
    priors: Priors,
    n_steps: int = 3,
    tol: float = 1e-7,
    max_step: float = 1.5,
) -> StepResult:
    """Up to ``n_steps`` Fisher-scoring steps for all items of one model; each item's step is
    halved until its penalised objective does not decrease.  eta: (n, P); r: (n, Q, K)."""
    eta = eta.copy()
    start = eta.copy()
    current = objective(model, eta, r, theta, n_cat, priors)
    p_ = eta.shape[1]
    eye = np.eye(p_)
    for _ in range(n_steps):
        grad, info = score_and_information(model, eta, r, theta, n_cat)
        _, pgrad, pcurv = penalty(model, eta, n_cat, priors)
        grad = grad + pgrad
        info = info - pcurv
        scale = np.maximum(np.abs(np.diagonal(info, axis1=1, axis2=2)).max(axis=1), 1.0)
        info = info + (1e-9 * scale)[:, None, None] * eye
        step = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        big = np.abs(step).max(axis=1, keepdims=True)
        step = np.where(big > max_step, step * max_step / np.maximum(big, 1e-300), step)
        pending = np.ones(eta.shape[0], bool)
        t = 1.0
        for _ in range(12):
            trial = eta + t * step
            value = objective(model, trial, r, theta, n_cat, priors)
            ok = pending & (value >= current - 1e-10 * np.maximum(1.0, np.abs(current)))
            eta[ok] = trial[ok]
            current[ok] = value[ok]
            pending &= ~ok
            if not pending.any():
                break
            t *= 0.5
        if np.abs(step).max(initial=0.0) < tol:
            break
    return StepResult(eta, float(np.abs(eta - start).max(initial=0.0)))
