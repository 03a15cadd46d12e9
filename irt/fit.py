"""Item fit against known item parameters: infit/outfit mean squares (Rasch family), the S-X²
statistic (Orlando & Thissen 2000) for any model, and the RMSD of PISA (OECD 2017, PISA 2015
Technical Report, ch. 9).

responses everywhere: (N persons, J items) integer scores, NaN = not administered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .models import ItemParameters, category_probabilities, log_likelihood
from .scoring import check_responses, quadrature, wle


@dataclass(frozen=True)
class MeanSquareFit:
    """Residual-based fit per item (Wright & Masters 1982; Linacre's Winsteps conventions).

    infit, outfit: (J,) information-weighted and unweighted mean squares (expected 1; > 1
    underfit / noise, < 1 overfit).  infit_t, outfit_t: (J,) Wilson–Hilferty standardised
    (ZSTD).  n: (J,) persons used.
    """

    item_ids: tuple[str, ...]
    infit: np.ndarray
    outfit: np.ndarray
    infit_t: np.ndarray
    outfit_t: np.ndarray
    n: np.ndarray


def mean_squares(
    params: ItemParameters,
    responses: np.ndarray,
    theta: np.ndarray | None = None,
    *,
    exclude_extreme: bool = True,
) -> MeanSquareFit:
    """Infit and outfit mean squares of every item.

    theta: (N,) person estimates; by default Warm's WLE (the usual estimate in Rasch software:
    finite for every pattern and nearly unbiased).  With ``exclude_extreme`` persons with all
    lowest or all highest scores are left out, as in Winsteps, because their residuals carry no
    information.  Defined for any model (the residuals use the model's expected score and
    variance) but conventional for Rasch / PCM items.

    z²_nj = (x - E)² / W with E = Σ_k k·P_k, W = Σ_k (k - E)² P_k; outfit = mean z²;
    infit = Σ (x - E)² / Σ W.  Standardisation: t = (MS^{1/3} - 1)(3/q) + q/3 with q² the
    model variance of the mean square (Wright & Masters 1982, pp. 99–101).
    """
    resp = check_responses(params, responses)
    th = wle(params, resp).theta if theta is None else np.asarray(theta, float)
    if th.shape != (resp.shape[0],):
        raise ValueError(f"theta must be (N,) = ({resp.shape[0]},), got {th.shape}")
    use = ~np.isnan(resp) & np.isfinite(th)[:, None]
    if exclude_extreme:
        top = params.n_categories[None, :] - 1
        seen = ~np.isnan(resp)
        low = np.all(~seen | (resp == 0), axis=1)
        high = np.all(~seen | (resp == top), axis=1)
        use &= ~(low | high)[:, None]
    probs = category_probabilities(params, np.where(np.isfinite(th), th, 0.0))  # (J, N, K)
    k = np.arange(probs.shape[2], dtype=float)
    e = probs @ k  # (J, N)
    dev = k[None, None, :] - e[:, :, None]
    w = np.sum(dev**2 * probs, axis=2)
    c4 = np.sum(dev**4 * probs, axis=2)
    x = np.where(use, resp, 0.0).T
    m = use.T
    sq = np.where(m, (x - e) ** 2, 0.0)
    n = m.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(m, sq / np.where(m, w, 1.0), 0.0)
        outfit = z2.sum(axis=1) / n
        sum_w = np.where(m, w, 0.0).sum(axis=1)
        infit = sq.sum(axis=1) / sum_w
        q_out = np.sqrt(np.maximum(np.where(m, c4 / w**2, 0.0).sum(axis=1) / n**2 - 1.0 / n, 0))
        q_in = np.sqrt(np.maximum(np.where(m, c4 - w**2, 0.0).sum(axis=1) / sum_w**2, 0))
        outfit_t = (np.cbrt(outfit) - 1.0) * (3.0 / q_out) + q_out / 3.0
        infit_t = (np.cbrt(infit) - 1.0) * (3.0 / q_in) + q_in / 3.0
    return MeanSquareFit(params.ids, infit, outfit, infit_t, outfit_t, n)


def lord_wingersky(probs: np.ndarray) -> np.ndarray:
    """Summed-score likelihoods by the Lord & Wingersky (1984) recursion.

    probs: (J, Q, K) category probabilities of J items at Q nodes.  Returns (Q, S + 1) with
    S = Σ_j (K_j - 1) the largest summed score (categories of probability 0 past an item's top
    only ever add zeros): entry [q, s] = P(Σ_j X_j = s | θ_q).
    """
    j, q, k = probs.shape
    out = np.ones((q, 1))
    for item in range(j):
        new = np.zeros((q, out.shape[1] + k - 1))
        for c in range(k):
            new[:, c : c + out.shape[1]] += out * probs[item, :, c : c + 1]
        out = new
    return out


def n_parameters(params: ItemParameters) -> np.ndarray:
    """(J,) free parameters per item: Rasch 1, 2PL 2, 3PL 3, GRM and GPCM m + 1."""
    n = np.empty(params.n_items, dtype=int)
    for j, model in enumerate(params.models):
        m = params.n_categories[j] - 1
        n[j] = {"rasch": 1, "2pl": 2, "3pl": 3}.get(model, m + 1)
    return n


@dataclass(frozen=True)
class SX2:
    """S-X² per item: statistic, df and p_value, each (J,); NaN where no block holds the item
    (or df ≤ 0).  n: (J,) persons counted."""

    item_ids: tuple[str, ...]
    statistic: np.ndarray
    df: np.ndarray
    p_value: np.ndarray
    n: np.ndarray


def _collapse(obs: np.ndarray, exp: np.ndarray, min_expected: float) -> list[tuple[int, int]]:
    """Adjacent score groups merged from the low end until every expected cell count is at least
    ``min_expected``; a short remainder at the top joins the last group.  obs, exp: (S, K)."""
    groups: list[tuple[int, int]] = []
    start = 0
    for s in range(exp.shape[0]):
        if np.all(exp[start : s + 1].sum(axis=0) >= min_expected):
            groups.append((start, s + 1))
            start = s + 1
    if start < exp.shape[0]:
        if groups:
            groups[-1] = (groups[-1][0], exp.shape[0])
        else:
            groups.append((0, exp.shape[0]))
    return groups


def s_x2(
    params: ItemParameters,
    responses: np.ndarray,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_nodes: int = 61,
    min_expected: float = 1.0,
    min_block: int = 50,
    n_estimated: np.ndarray | None = None,
) -> SX2:
    """Orlando & Thissen's (2000) S-X² item fit for any mix of models (Kang & Chen 2008 for
    polytomous items).

    Persons are grouped by summed score s; for item j the observed proportions in category k are
    compared with the model's P(X_j = k | S = s) = ∫ P_jk(θ) L^{(-j)}_{s-k}(θ) g(θ) dθ /
    ∫ L_s(θ) g(θ) dθ, the summed-score likelihoods L from the Lord–Wingersky recursion and g the
    N(prior_mean, prior_sd²) population.  The lowest and highest summed scores are dropped
    (they determine the item score); adjacent score groups are merged until every expected
    count is at least ``min_expected``.

    Incomplete data: the statistic is computed within blocks of persons with the same set of
    administered items (a booklet), and the blocks' contributions to X² and to the degrees of
    freedom are added; blocks smaller than ``min_block`` persons or with fewer than 3 items are
    skipped.  df = Σ (groups × (K_j - 1)) - n_estimated_j (default :func:`n_parameters`).
    """
    resp = check_responses(params, responses)
    nodes, weights = quadrature(prior_mean, prior_sd, n_nodes)
    probs_all = category_probabilities(params, nodes)  # (J, Q, K)
    n_items = params.n_items
    chi = np.zeros(n_items)
    df = np.zeros(n_items)
    used = np.zeros(n_items, dtype=int)
    seen = ~np.isnan(resp)
    patterns, inverse = np.unique(seen, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for b, pattern in enumerate(patterns):
        items = np.flatnonzero(pattern)
        rows = np.flatnonzero(inverse == b)
        if items.size < 3 or rows.size < min_block:
            continue
        probs = probs_all[items]
        tops = params.n_categories[items] - 1
        x = resp[np.ix_(rows, items)].astype(int)
        total = x.sum(axis=1)
        s_max = int(tops.sum())
        full = lord_wingersky(probs)[:, : s_max + 1]  # (Q, S+1)
        denom = weights @ full  # (S+1,)
        n_s = np.bincount(total, minlength=s_max + 1)
        inner = slice(1, s_max)  # drop s = 0 and s = S
        for pos, j in enumerate(items):
            kj = tops[pos] + 1
            others = lord_wingersky(np.delete(probs, pos, axis=0))  # (Q, S - top_j + 1)
            exp_p = np.zeros((s_max + 1, kj))
            for c in range(kj):
                width = min(others.shape[1], s_max + 1 - c)
                exp_p[c : c + width, c] = weights @ (probs[pos, :, c : c + 1] * others[:, :width])
            with np.errstate(divide="ignore", invalid="ignore"):
                exp_p = np.where(denom[:, None] > 0, exp_p / denom[:, None], 0.0)
            obs = np.zeros((s_max + 1, kj))
            np.add.at(obs, (total, x[:, pos]), 1.0)
            exp_n = exp_p * n_s[:, None]
            o, e = obs[inner], exp_n[inner]
            keep = n_s[inner] > 0
            o, e = o[keep], e[keep]
            if o.shape[0] == 0:
                continue
            for lo, hi in _collapse(o, e, min_expected):
                og, eg = o[lo:hi].sum(axis=0), e[lo:hi].sum(axis=0)
                cells = eg > 0
                chi[j] += np.sum((og[cells] - eg[cells]) ** 2 / eg[cells])
                df[j] += cells.sum() - 1
            used[j] += int(n_s[inner][keep].sum())
    n_est = n_parameters(params) if n_estimated is None else np.asarray(n_estimated)
    df = df - n_est
    valid = (used > 0) & (df > 0)
    statistic = np.where(used > 0, chi, np.nan)
    p = np.where(valid, stats.chi2.sf(chi, np.maximum(df, 1)), np.nan)
    return SX2(params.ids, statistic, np.where(used > 0, df, np.nan), p, used)


@dataclass(frozen=True)
class RMSD:
    """PISA's RMSD per item.

    rmsd: (J,) for dichotomous items the RMSD of P(X = 1); for polytomous items the largest
    RMSD over categories.  by_category: (J, K) RMSD of each category's curve (NaN past an item's
    top).  PISA flags an item (in a group) when RMSD > 0.12 (OECD 2017, ch. 9; 0.15 in 2015's
    field trial).
    """

    item_ids: tuple[str, ...]
    rmsd: np.ndarray
    by_category: np.ndarray


def rmsd(
    params: ItemParameters,
    responses: np.ndarray,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_nodes: int = 61,
) -> RMSD:
    """Root mean squared deviation between the pseudo-observed and the model category curves,
    weighted by the posterior θ distribution (OECD 2017, PISA 2015 Technical Report, ch. 9):

        RMSD_jk = sqrt( Σ_q f_j(θ_q) (P^obs_jk(θ_q) - P_jk(θ_q))² ),
        P^obs_jk(θ_q) = Σ_n h_nq 1[x_nj = k] / Σ_n h_nq,   f_j(θ_q) = Σ_n h_nq / n_j,

    h_nq the posterior of person n at node q (all the person's administered items, prior
    N(prior_mean, prior_sd²)), sums over the n_j persons who were administered item j.  For a
    group-specific RMSD (PISA computes it per country and language) pass that group's rows.
    """
    resp = check_responses(params, responses)
    nodes, weights = quadrature(prior_mean, prior_sd, n_nodes)
    logpost = log_likelihood(params, resp, nodes) + np.log(weights)[None, :]
    logpost -= logpost.max(axis=1, keepdims=True)
    post = np.exp(logpost)
    post /= post.sum(axis=1, keepdims=True)  # (N, Q)
    probs = category_probabilities(params, nodes)  # (J, Q, K)
    seen = (~np.isnan(resp)).astype(float)  # (N, J)
    mass = seen.T @ post  # (J, Q)
    n_j = seen.sum(axis=0)
    out = np.full((params.n_items, probs.shape[2]), np.nan)
    for c in range(probs.shape[2]):
        hit = (resp == c).astype(float)  # NaN compares False
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = (hit.T @ post) / mass
            f = mass / n_j[:, None]
            out[:, c] = np.sqrt(np.nansum(f * (observed - probs[:, :, c]) ** 2, axis=1))
    out[np.arange(probs.shape[2])[None, :] >= params.n_categories[:, None]] = np.nan
    out[n_j == 0] = np.nan
    dich = params.n_categories == 2
    summary = np.where(dich, out[:, 1], np.nanmax(np.where(np.isnan(out), -1, out), axis=1))
    summary[n_j == 0] = np.nan
    return RMSD(params.ids, summary, out)
