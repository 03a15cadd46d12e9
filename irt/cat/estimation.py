"""Interim and final θ for CAT sessions, vectorized over sessions, by the estimators of
:mod:`irt.scoring` (no estimator of its own).

Interim θ (routing): EAP (Bock & Mislevy 1982) or MAP under the configured prior; MLE only once a
session's routing responses are mixed (not all at the lowest or all at the highest category), EAP
before that, since the MLE of an extreme pattern is infinite.  Final θ: WLE (Warm 1989) or EAP.

The interim EAP under the configured prior reads log P of every routing item on the nodes of
:func:`irt.scoring.eap` from a table built once per bank and prior (:func:`eap_tables`), so a step
sums a few table rows instead of evaluating the model: log L(θ_q) = Σ_j log P_j(x_j | θ_q) (Lord
1980, local independence), the same terms as :func:`irt.scoring.eap` (θ̂ agrees to rounding).
A person-specific prior (``prior=``) goes through :func:`irt.scoring.eap` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import scoring
from ..models import category_probabilities
from .bank import CatBank
from .config import CatConfig

EAP_NODES = 61
"""Nodes of the interim EAP: :func:`irt.scoring.eap`'s default."""
TINY = 1e-300  # irt.models.log_likelihood's floor under P before the log


@dataclass(frozen=True)
class EapTables:
    """nodes (Q,), log prior weights (Q,) and log P (R, K, Q) of each routing item's categories
    on the nodes (K = the most categories; log TINY for categories an item does not have)."""

    nodes: np.ndarray
    log_weights: np.ndarray
    log_p: np.ndarray


def eap_tables(bank: CatBank, prior_mean: float, prior_sd: float) -> EapTables:
    """The EAP tables of ``bank`` under the normal prior (mean, sd), built once per bank."""
    key = ("eap", float(prior_mean), float(prior_sd))
    found = bank.memo.get(key)
    if isinstance(found, EapTables):
        return found
    nodes, weights = scoring.quadrature(prior_mean, prior_sd, EAP_NODES)
    probs = category_probabilities(bank.params, nodes)  # (R, Q, K)
    log_p = np.ascontiguousarray(np.transpose(np.log(np.maximum(probs, TINY)), (0, 2, 1)))
    tables = EapTables(nodes, np.log(weights), log_p)
    bank.memo[key] = tables
    return tables


def eap_from_loglik(
    loglik: np.ndarray, log_weights: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """EAP θ and posterior SD from (N, Q) log-likelihoods: the operations of scoring.eap."""
    logpost = loglik + log_weights[None, :]
    logpost -= logpost.max(axis=1, keepdims=True)
    post = np.exp(logpost)
    post = post / post.sum(axis=1, keepdims=True)
    mean = post @ nodes
    var = post @ nodes**2 - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def _table_eap(
    bank: CatBank, responses: np.ndarray, cols: np.ndarray, mean: float, sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interim EAP of (N, R) responses from the bank's tables (only the answered columns)."""
    tables = eap_tables(bank, mean, sd)
    resp = responses[:, cols]
    seen = ~np.isnan(resp)
    scores = np.where(seen, resp, 0.0).astype(np.intp)
    terms = tables.log_p[cols[None, :], scores]  # (N, C, Q)
    loglik = np.where(seen[:, :, None], terms, 0.0).sum(axis=1)
    return eap_from_loglik(loglik, tables.log_weights, tables.nodes)


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
    top = bank.n_categories[cols][None, :] - 1
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
    resp = responses[:, cols]
    method = config.estimation.interim
    if method == "map":
        est = scoring.map_estimate(bank.params.subset(cols), resp, prior_mean=mean, prior_sd=sd)
        return est.theta, est.se
    if prior is None:
        theta, se = _table_eap(bank, responses, cols, mean, sd)
    else:
        base = scoring.eap(bank.params.subset(cols), resp, prior_mean=mean, prior_sd=sd)
        theta, se = base.theta.copy(), base.se.copy()
    if method == "mle":
        mixed = _mixed(bank, responses, cols)
        if mixed.any():
            ml = scoring.mle(bank.params.subset(cols), resp[mixed])
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
