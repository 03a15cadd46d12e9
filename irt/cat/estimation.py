"""Interim and final θ for CAT sessions, vectorized over sessions, by the estimators of
:mod:`irt.scoring` (no estimator of its own).

Interim θ (routing): EAP (Bock & Mislevy 1982) or MAP under the configured prior; MLE only once a
session's routing responses are mixed (not all at the lowest or all at the highest category), EAP
before that, since the MLE of an extreme pattern is infinite.  Final θ: WLE (Warm 1989) or EAP.
"""

from __future__ import annotations

import numpy as np

from .. import scoring
from .bank import CatBank
from .config import CatConfig


def _prior(config: CatConfig, prior: tuple[float, float] | None) -> tuple[float, float]:
    if prior is not None:
        return float(prior[0]), float(prior[1])
    return config.estimation.prior_mean, config.estimation.prior_sd


def _columns(responses: np.ndarray) -> np.ndarray:
    """Routing items that any session has answered: the only columns the likelihood needs."""
    return np.flatnonzero(~np.all(np.isnan(responses), axis=0))


def _mixed(bank: CatBank, responses: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(N,) True where the responses are neither all-lowest nor all-highest category."""
    resp = responses[:, cols]
    seen = ~np.isnan(resp)
    top = bank.params.n_categories[cols][None, :] - 1
    low = np.all(~seen | (resp == 0), axis=1)
    high = np.all(~seen | (resp == top), axis=1)
    return seen.any(axis=1) & ~low & ~high


def interim_estimate(
    bank: CatBank,
    config: CatConfig,
    responses: np.ndarray,
    prior: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """θ and SE for routing.  responses: (N, R) scores of the routing items, NaN = not
    administered or not yet coded.  prior: (mean, sd) instead of the configured prior.
    Returns theta, se: (N,); sessions without responses get the prior mean and SD."""
    mean, sd = _prior(config, prior)
    cols = _columns(responses)
    n = responses.shape[0]
    if cols.size == 0:
        return np.full(n, float(mean)), np.full(n, float(sd))
    params = bank.params.subset(cols)
    resp = responses[:, cols]
    method = config.estimation.interim
    if method == "map":
        est = scoring.map_estimate(params, resp, prior_mean=mean, prior_sd=sd)
        return est.theta, est.se
    base = scoring.eap(params, resp, prior_mean=mean, prior_sd=sd)
    theta, se = base.theta.copy(), base.se.copy()
    if method == "mle":
        mixed = _mixed(bank, responses, cols)
        if mixed.any():
            ml = scoring.mle(params, resp[mixed])
            theta[mixed], se[mixed] = ml.theta, ml.se
    return theta, se


def final_estimate(
    bank: CatBank,
    config: CatConfig,
    responses: np.ndarray,
    prior: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Final θ, SE and method name.  responses: (N, R) as for :func:`interim_estimate`.

    WLE where a session has routing responses; a session with none gets the prior (EAP with no
    data), and the method is then reported as "eap"."""
    mean, sd = _prior(config, prior)
    n = responses.shape[0]
    cols = _columns(responses)
    if cols.size == 0:
        return np.full(n, float(mean)), np.full(n, float(sd)), "eap"
    params = bank.params.subset(cols)
    resp = responses[:, cols]
    if config.estimation.final == "eap":
        est = scoring.eap(params, resp, prior_mean=mean, prior_sd=sd)
        return est.theta, est.se, "eap"
    est = scoring.wle(params, resp)
    theta, se = est.theta.copy(), est.se.copy()
    none = np.isnan(theta)
    theta[none], se[none] = mean, sd
    return theta, se, "wle" if not none.all() else "eap"
