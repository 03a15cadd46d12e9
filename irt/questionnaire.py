"""Questionnaire indices: Likert scales calibrated with the generalized partial credit model,
persons scored by weighted likelihood, the scores standardised in a reference population, and
the scale's measurement invariance across groups (languages) checked by RMSD, as PISA does.

The steps, one function each (OECD, PISA 2018 Technical Report, ch. 16, "Scaling procedures and
construct validation of context questionnaire data"):

1. :func:`reverse_code`: negatively worded items are turned round, x → (K − 1) − x, so that a
   higher score always means more of the construct.
2. :func:`scale` calibrates the scale's items with the GPCM (Muraki 1992),
   P(X = k | θ) ∝ exp(Σ_{v ≤ k} a(θ − b_v)), by MML-EM with θ ~ N(0, 1)
   (:class:`irt.calibration.Calibrator`, unchanged), and scores every person with Warm's (1989)
   weighted likelihood estimate (:func:`irt.scoring.wle`), which is finite for the all-lowest
   and all-highest patterns that are common on attitude scales.
3. :func:`standardise`: the WLEs become an index with mean 0 and SD 1 in the reference population
   (all persons, or those marked ``reference``), weighted by the student weights when given:
   index = (WLE − μ_ref) / σ_ref.  PISA standardises on the OECD countries with equal weights;
   here the reference is whatever the caller marks.
4. :func:`invariance`: for each group g the population N(μ_g, σ_g²) is estimated with the pooled
   item parameters fixed (:func:`irt.latent_regression.fit` with an intercept only), and PISA's
   RMSD (:func:`irt.fit.rmsd`) compares the group's pseudo-observed category curves with the
   pooled model's, per item and category,

       RMSD_jkg = sqrt( Σ_q f_g(θ_q) (P^obs_jkg(θ_q) − P_jk(θ_q))² ),

   weighted by the group's posterior θ density f_g.  An item whose RMSD exceeds the threshold in
   a group does not measure the same way there: PISA then gives it group-specific parameters or
   drops it for that group.  Here it is flagged for a person to decide.  The default 0.12 is
   PISA's cut-off for cognitive items (OECD 2017, PISA 2015 Technical Report ch. 9); PISA's
   questionnaire chapters (ch. 16) have used a more lenient one, so it is a parameter.

Shapes: ``responses`` (N persons, J items) integer scores from 0, NaN = not answered; ``weights``
(N,); ``groups`` (N,) labels.  Nothing loops over persons; the few loops are over groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import latent_regression
from .calibration import CalibrationResult, Calibrator
from .fit import rmsd
from .models import ItemParameters
from .scoring import AbilityEstimates, wle

RMSD_THRESHOLD = 0.12  # PISA's cut-off for cognitive items (OECD 2017, ch. 9)


class QuestionnaireError(ValueError):
    """Responses, weights or groups that cannot be scaled as asked (the message says which)."""


@dataclass(frozen=True)
class Standardisation:
    """index = (value − mean) / sd, with mean and sd those of the reference population."""

    mean: float
    sd: float

    def apply(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, float) - self.mean) / self.sd


@dataclass(frozen=True)
class Invariance:
    """RMSD of each item in each group against the pooled item parameters.

    groups: (G,) labels, sorted.  item_ids: (J,).  n: (G,) persons per group.
    population_mean, population_sd: (G,) the group's N(μ_g, σ_g) on the pooled θ metric.
    rmsd: (G, J) the largest RMSD over an item's categories; by_category: (G, J, K), NaN past an
    item's top category.  flagged: (G, J) rmsd > threshold.
    """

    groups: tuple[str, ...]
    item_ids: tuple[str, ...]
    n: np.ndarray
    population_mean: np.ndarray
    population_sd: np.ndarray
    rmsd: np.ndarray
    by_category: np.ndarray
    threshold: float
    flagged: np.ndarray

    def flags(self) -> list[tuple[str, str, float]]:
        """(group, item id, RMSD) of every flagged item, in group then item order."""
        return [
            (self.groups[g], self.item_ids[j], float(self.rmsd[g, j]))
            for g, j in np.argwhere(self.flagged)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per group its population and, per item, RMSD by category and the flag."""

        def num(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "threshold": self.threshold,
            "groups": [
                {
                    "group": group,
                    "n": int(self.n[g]),
                    "mean": num(self.population_mean[g]),
                    "sd": num(self.population_sd[g]),
                    "items": [
                        {
                            "id": item_id,
                            "rmsd": num(self.rmsd[g, j]),
                            "rmsd_by_category": [
                                num(v) for v in self.by_category[g, j] if not np.isnan(v)
                            ],
                            "flagged": bool(self.flagged[g, j]),
                        }
                        for j, item_id in enumerate(self.item_ids)
                    ],
                }
                for g, group in enumerate(self.groups)
            ],
        }


@dataclass(frozen=True)
class ScaleIndex:
    """What scaling one questionnaire scale produced.

    calibration: the GPCM calibration (θ ~ N(0, 1)).  wle: raw WLE θ and se (N,) on its metric.
    standardisation: the reference population's mean and SD of the WLEs.  index, se: (N,) the
    standardised index and its standard error (se / sd); NaN for persons with fewer than
    ``min_responses`` answers.  n_responses: (N,).  reliability: the WLE reliability
    1 − mean(se²) / var(WLE) over the persons scored (Adams 2005).  invariance: across ``groups``
    with common item parameters, or None.  freed: items given group-specific parameters
    (``free_flagged``); their ids in ``calibration`` are ``"id[group]"``.
    """

    calibration: CalibrationResult
    wle: AbilityEstimates
    standardisation: Standardisation
    index: np.ndarray
    se: np.ndarray
    n_responses: np.ndarray
    reliability: float
    invariance: Invariance | None
    freed: tuple[str, ...] = ()

    @property
    def params(self) -> ItemParameters:
        return self.calibration.params


# -- steps ------------------------------------------------------------------------------------
def reverse_code(
    responses: np.ndarray, reverse: Sequence[bool] | np.ndarray, n_categories: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Turn round the reverse-coded items: x → (K_j − 1) − x where ``reverse[j]``.

    responses: (N, J), NaN kept; reverse: (J,) bools; n_categories: (J,) K_j.  Returns a copy.
    """
    resp = np.array(responses, dtype=float)
    rev = np.asarray(reverse, dtype=bool)
    k = np.asarray(n_categories, dtype=float)
    if resp.ndim != 2 or rev.shape != (resp.shape[1],) or k.shape != (resp.shape[1],):
        raise QuestionnaireError(
            f"responses (N, J) with one reverse flag and one category count per item; got "
            f"{resp.shape}, {rev.shape}, {k.shape}"
        )
    return np.where(rev[None, :], (k - 1.0)[None, :] - resp, resp)


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise QuestionnaireError(f"weights must be (N = {n},) finite and non-negative")
    return w


def standardise(
    values: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    reference: np.ndarray | None = None,
) -> Standardisation:
    """The (weighted) mean and SD of ``values`` (N,) over the reference population.

    reference: (N,) bools, default everybody; persons with a NaN value do not count.  The SD is
    the weighted population SD, sqrt(Σ w (x − x̄)² / Σ w), as PISA's index standardisation.
    """
    x = np.asarray(values, dtype=float)
    w = _weights(weights, x.shape[0])
    use = np.isfinite(x) & (w > 0)
    if reference is not None:
        ref = np.asarray(reference, dtype=bool)
        if ref.shape != x.shape:
            raise QuestionnaireError(f"reference must be (N = {x.shape[0]},) bools")
        use &= ref
    if use.sum() < 2:
        raise QuestionnaireError("the reference population has fewer than two persons scored")
    wu, xu = w[use], x[use]
    mean = float(np.sum(wu * xu) / wu.sum())
    sd = float(np.sqrt(np.sum(wu * (xu - mean) ** 2) / wu.sum()))
    if not sd > 0:
        raise QuestionnaireError("every person of the reference population has the same score")
    return Standardisation(mean, sd)


def _group_codes(groups: Sequence[Any] | np.ndarray, n: int) -> tuple[tuple[str, ...], np.ndarray]:
    labels = np.asarray([str(g) for g in groups])
    if labels.shape != (n,):
        raise QuestionnaireError(f"groups must have one label per person (N = {n})")
    names, codes = np.unique(labels, return_inverse=True)
    return tuple(str(s) for s in names), codes


def invariance(
    params: ItemParameters,
    responses: np.ndarray,
    groups: Sequence[Any] | np.ndarray,
    *,
    threshold: float = RMSD_THRESHOLD,
    weights: np.ndarray | None = None,
    n_nodes: int = 61,
) -> Invariance:
    """PISA's RMSD of every item in every group against the pooled ``params``.

    Each group's θ distribution N(μ_g, σ_g²) is estimated by EM with the items fixed (weighted
    when ``weights`` are given), and the RMSD is taken under that distribution, so a group that
    simply agrees more is not mistaken for a non-invariant item.  responses: (N, J), NaN = not
    answered; groups: (N,) labels.  A group with fewer than two persons who answered is reported
    with NaN.
    """
    if not threshold > 0:
        raise QuestionnaireError(f"the RMSD threshold must be positive, got {threshold}")
    resp = np.asarray(responses, dtype=float)
    names, codes = _group_codes(groups, resp.shape[0])
    w = _weights(weights, resp.shape[0])
    n_groups, n_items, k_max = len(names), params.n_items, params.max_categories
    mean = np.full(n_groups, np.nan)
    sd = np.full(n_groups, np.nan)
    by_cat = np.full((n_groups, n_items, k_max), np.nan)
    counts = np.bincount(codes, minlength=n_groups)
    for g in range(n_groups):  # a handful of groups (languages), never persons
        rows = (codes == g) & ~np.all(np.isnan(resp), axis=1)
        if rows.sum() < 2 or not w[rows].sum() > 0:
            continue
        model, _, _ = latent_regression.fit(
            params, resp[rows], np.ones((int(rows.sum()), 1)), weights=w[rows]
        )
        mean[g], sd[g] = float(model.gamma[0]), model.sigma
        result = rmsd(params, resp[rows], prior_mean=mean[g], prior_sd=sd[g], n_nodes=n_nodes)
        by_cat[g, :, : result.by_category.shape[1]] = result.by_category
    with np.errstate(invalid="ignore"):
        worst = np.where(
            np.all(np.isnan(by_cat), axis=2), np.nan, np.nanmax(np.nan_to_num(by_cat, nan=-1.0), axis=2)
        )
    return Invariance(
        names,
        params.ids,
        counts,
        mean,
        sd,
        worst,
        by_cat,
        float(threshold),
        np.nan_to_num(worst, nan=0.0) > threshold,
    )


def split_by_group(
    responses: np.ndarray,
    item_ids: Sequence[str],
    split: Sequence[str],
    groups: Sequence[Any] | np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Give each item in ``split`` one column per group, ``"id[group]"``, NaN outside the group,
    so that a calibration gives it group-specific parameters while the other items stay common
    (PISA's treatment of a non-invariant item).  responses: (N, J); groups: (N,) labels.
    Returns the new (N, J') responses and their item ids, a split item's columns in its place."""
    resp = np.asarray(responses, dtype=float)
    names, codes = _group_codes(groups, resp.shape[0])
    unknown = sorted(set(split) - set(item_ids))
    if unknown:
        raise QuestionnaireError(f"cannot split items not in the scale: {unknown}")
    cols: list[np.ndarray] = []
    ids: list[str] = []
    for j, item_id in enumerate(item_ids):
        if item_id in split:
            for g, name in enumerate(names):
                cols.append(np.where(codes == g, resp[:, j], np.nan))
                ids.append(f"{item_id}[{name}]")
        else:
            cols.append(resp[:, j])
            ids.append(item_id)
    return np.column_stack(cols), ids


def _calibrate_and_score(
    resp: np.ndarray, ids: list[str], settings: dict[str, Any]
) -> tuple[CalibrationResult, np.ndarray, AbilityEstimates]:
    calibration = Calibrator("gpcm", **settings).fit(resp, ids)
    # the calibration may have dropped degenerate items (drop_degenerate=True): score the rest
    kept = resp[:, [ids.index(i) for i in calibration.params.ids]]
    return calibration, kept, wle(calibration.params, kept)


def scale(
    responses: np.ndarray,
    item_ids: Sequence[str] | None = None,
    *,
    weights: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    groups: Sequence[Any] | np.ndarray | None = None,
    rmsd_threshold: float = RMSD_THRESHOLD,
    free_flagged: bool = False,
    min_responses: int = 1,
    **calibration_settings: Any,
) -> ScaleIndex:
    """Scale one questionnaire scale: GPCM calibration, WLE, standardisation, invariance.

    responses: (N, J) scores 0..K_j − 1 after reverse coding (:func:`reverse_code`), NaN = not
    answered.  weights: (N,) student weights for the standardisation and the groups'
    populations (the calibration itself is unweighted).  reference: (N,) bools, the population in
    which the index has mean 0 and SD 1 (default all persons scored).  groups: (N,) labels (e.g.
    the test language) for the invariance check, or None.  free_flagged: items flagged in any
    group are given group-specific parameters (:func:`split_by_group`) and the scale is
    calibrated and scored again; ``invariance`` stays the check of the common-parameter model and
    ``freed`` names those items.  min_responses: persons with fewer answers get no index (NaN).
    calibration_settings: passed to :class:`Calibrator` (tol, n_nodes, drop_degenerate,
    progress, ...); the model is always "gpcm", and item standard errors are left out
    (``se_method="none"``) unless asked for: the index does not need them.
    """
    resp = np.asarray(responses, dtype=float)
    if resp.ndim != 2 or resp.shape[1] < 2:
        raise QuestionnaireError(f"a scale needs responses (N, J ≥ 2 items), got shape {resp.shape}")
    if min_responses < 1:
        raise QuestionnaireError(f"min_responses must be at least 1, got {min_responses}")
    if free_flagged and groups is None:
        raise QuestionnaireError("free_flagged needs the groups whose invariance is checked")
    w = _weights(weights, resp.shape[0])
    if groups is not None:
        _group_codes(groups, resp.shape[0])  # one label per person, checked before calibrating
    ids = [f"I{j + 1}" for j in range(resp.shape[1])] if item_ids is None else list(item_ids)
    settings = {"se_method": "none", **calibration_settings}
    calibration, kept, est = _calibrate_and_score(resp, ids, settings)
    inv = (
        None
        if groups is None
        else invariance(calibration.params, kept, groups, threshold=rmsd_threshold, weights=w)
    )
    freed: tuple[str, ...] = ()
    if free_flagged and inv is not None and inv.flagged.any():
        freed = tuple(inv.item_ids[j] for j in np.flatnonzero(inv.flagged.any(axis=0)))
        split, split_ids = split_by_group(kept, list(calibration.params.ids), freed, groups)  # type: ignore[arg-type]
        calibration, kept, est = _calibrate_and_score(split, split_ids, settings)
    n_resp = np.sum(~np.isnan(kept), axis=1)
    scored = (n_resp >= min_responses) & np.isfinite(est.theta)
    theta = np.where(scored, est.theta, np.nan)
    ref = scored if reference is None else scored & np.asarray(reference, dtype=bool)
    std = standardise(theta, weights=w, reference=ref)
    finite_se = scored & np.isfinite(est.se)
    reliability = float("nan")
    if finite_se.sum() >= 2:
        var = float(np.var(theta[finite_se]))
        reliability = 1.0 - float(np.mean(est.se[finite_se] ** 2)) / var if var > 0 else float("nan")
    return ScaleIndex(
        calibration,
        est,
        std,
        std.apply(theta),
        np.where(scored, est.se / std.sd, np.nan),
        n_resp,
        reliability,
        inv,
        freed,
    )
