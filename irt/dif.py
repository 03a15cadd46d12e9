"""Differential item functioning between a reference and a focal group by the Mantel–Haenszel
procedure (Holland & Thayer 1988), with Mantel's (1963) extension and the standardized mean
difference for polytomous items, ETS A/B/C classification and two-stage purification.

Matching and missing data: persons are matched on their summed score over the matching items,
within strata formed by that score *and* the set of matching items the person was administered
(so persons who took different booklets are never pooled in one stratum).  For each studied item
only the persons who were administered it count, and the studied item is always part of its own
matching score (Holland & Thayer 1988).  In sparse designs (CAT) the strata become small and the
procedure loses power: use it on booklet designs.

Sign convention: α_MH > 1 and MH D-DIF < 0 mean the item favours the reference group (it is
harder for focal-group members of equal matching score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

DELTA = -2.35  # MH D-DIF = -2.35 ln α_MH, the ETS delta metric (Holland & Thayer 1988)


class DIFError(ValueError):
    """The DIF analysis cannot run as asked (unknown group, shapes, no persons in a group)."""


@dataclass(frozen=True)
class ItemDIF:
    """DIF statistics of one item.

    Dichotomous items: ``alpha_mh`` (common odds ratio), ``mh_d_dif`` = -2.35 ln α_MH with its
    ``se`` (Robins, Breslow & Greenland 1986 variance of ln α_MH), ``chi_square`` the MH statistic
    with continuity correction and its ``p_value`` (1 df); ``ets_class`` A, B or C.
    Polytomous items: alpha_mh, mh_d_dif and se are NaN; chi_square and p_value are Mantel's
    (1963) 1-df test for ordered categories; ``ets_class`` AA, BB or CC.
    Both: ``smd`` the standardized mean difference (focal minus reference item score, weighted by
    the focal group's distribution over strata; Dorans & Kulick 1986), ``smd_ratio`` = smd / SD of
    the item score.  ``ets_class`` is "" where no stratum holds both groups.
    """

    id: str
    kind: str
    n_reference: int
    n_focal: int
    alpha_mh: float
    mh_d_dif: float
    se: float
    chi_square: float
    p_value: float
    smd: float
    smd_ratio: float
    ets_class: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: NaN and inf become None."""
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True)
class DIFResult:
    """Per-item results and the matching items of the final stage."""

    items: tuple[ItemDIF, ...]
    matching_items: tuple[str, ...]
    purified: bool


def ets_class(mh_d_dif: float, se: float, p_value: float, level: float = 0.05) -> str:
    """ETS categories for dichotomous items (Dorans & Holland 1993; Zwick 2012):

    - C: |D| ≥ 1.5 and |D| significantly greater than 1 (one-sided z test of |D| - 1 at ``level``);
    - A: |D| < 1, or D not significantly different from 0 (MH chi-square p ≥ ``level``);
    - B: every other item.
    """
    if not np.isfinite(p_value):
        return ""
    d = abs(mh_d_dif)
    z = stats.norm.ppf(1 - level)
    if d >= 1.5 and np.isfinite(se) and se > 0 and (d - 1.0) / se > z:
        return "C"
    if d >= 1.5 and np.isinf(d):
        return "C"
    if d < 1.0 or p_value >= level:
        return "A"
    return "B"


def ets_polytomous_class(smd_ratio: float, p_value: float, level: float = 0.05) -> str:
    """ETS categories for polytomous items (Zwick, Thayer & Mazzeo 1997; Zwick 2012):
    AA if Mantel's p ≥ level or |SMD/SD| ≤ .17; CC if p < level and |SMD/SD| > .25; else BB."""
    if not np.isfinite(p_value):
        return ""
    r = abs(smd_ratio)
    if p_value >= level or r <= 0.17:
        return "AA"
    if r > 0.25:
        return "CC"
    return "BB"


def _stratum_codes(resp: np.ndarray, matching: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) summed score over ``matching`` items and (N,) id of the administered-set pattern."""
    sub = resp[:, matching]
    seen = ~np.isnan(sub)
    score = np.where(seen, sub, 0.0).sum(axis=1)
    if seen.all():
        return score, np.zeros(resp.shape[0], dtype=int)
    _, pattern = np.unique(seen, axis=0, return_inverse=True)
    return score, pattern.ravel()


def _item_dif(
    x: np.ndarray,
    focal: np.ndarray,
    stratum: np.ndarray,
    polytomous: bool,
    item_id: str,
    level: float,
) -> ItemDIF:
    """Statistics for one item.  x: (n,) scores of the persons who saw it (both groups);
    focal: (n,) bool; stratum: (n,) integer stratum codes."""
    _, s = np.unique(stratum, return_inverse=True)
    n_s = int(s.max(initial=-1)) + 1
    ref = ~focal

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
        return np.bincount(s, weights=w, minlength=n_s)

    n_r, n_f = count(ref), count(focal)
    t = n_r + n_f
    sum_r, sum_f = count(ref, x), count(focal, x)
    sum_all, sq_all = sum_r + sum_f, count(np.ones_like(focal), x**2)
    use = (n_r > 0) & (n_f > 0) & (t > 1)
    nan = float("nan")
    n_ref_total, n_foc_total = int(ref.sum()), int(focal.sum())
    if not use.any():
        return ItemDIF(
            item_id,
            "polytomous" if polytomous else "dichotomous",
            n_ref_total,
            n_foc_total,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            "",
        )
    n_r, n_f, t = n_r[use], n_f[use], t[use]
    sum_r, sum_f, sum_all, sq_all = sum_r[use], sum_f[use], sum_all[use], sq_all[use]

    # standardized mean difference, focal weights (Dorans & Kulick 1986)
    smd = float(np.sum(n_f * (sum_f / n_f - sum_r / n_r)) / n_f.sum())
    sd = float(np.std(x))
    smd_ratio = smd / sd if sd > 0 else nan

    if polytomous:
        # Mantel (1963): sum of focal-group item scores against its conditional expectation
        expected = n_f * sum_all / t
        var = n_r * n_f * (t * sq_all - sum_all**2) / (t**2 * (t - 1))
        v = float(var.sum())
        chi = float((sum_f.sum() - expected.sum()) ** 2 / v) if v > 0 else nan
        p = float(stats.chi2.sf(chi, 1)) if np.isfinite(chi) else nan
        return ItemDIF(
            item_id,
            "polytomous",
            n_ref_total,
            n_foc_total,
            nan,
            nan,
            nan,
            chi,
            p,
            smd,
            smd_ratio,
            ets_polytomous_class(smd_ratio, p, level),
        )

    # 2×2 tables per stratum: A, B reference right/wrong; C, D focal right/wrong
    a, c = sum_r, sum_f
    b, d = n_r - a, n_f - c
    m1, m0 = a + c, b + d
    r_k, s_k = a * d / t, b * c / t
    big_r, big_s = r_k.sum(), s_k.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = float(big_r / big_s) if big_r + big_s > 0 else nan
        mh_d = DELTA * np.log(alpha)
        # Robins, Breslow & Greenland (1986) variance of ln α_MH
        p_k, q_k = (a + d) / t, (b + c) / t
        var_ln = (
            np.sum(p_k * r_k) / (2 * big_r**2)
            + np.sum(p_k * s_k + q_k * r_k) / (2 * big_r * big_s)
            + np.sum(q_k * s_k) / (2 * big_s**2)
        )
        se = float(abs(DELTA) * np.sqrt(var_ln))
    # MH chi-square with continuity correction (Holland & Thayer 1988)
    var_a = n_r * n_f * m1 * m0 / (t**2 * (t - 1))
    v = float(var_a.sum())
    dev = abs(float(a.sum() - (n_r * m1 / t).sum())) - 0.5
    chi = max(dev, 0.0) ** 2 / v if v > 0 else nan
    p = float(stats.chi2.sf(chi, 1)) if np.isfinite(chi) else nan
    return ItemDIF(
        item_id,
        "dichotomous",
        n_ref_total,
        n_foc_total,
        alpha,
        float(mh_d),
        se,
        float(chi),
        p,
        smd,
        smd_ratio,
        ets_class(float(mh_d), se, p, level),
    )


def mantel_haenszel(
    responses: np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    reference: object,
    focal: object,
    item_ids: Sequence[str] | None = None,
    n_categories: Sequence[int] | np.ndarray | None = None,
    purify: bool = True,
    level: float = 0.05,
) -> DIFResult:
    """MH DIF for every item of ``responses``.

    responses: (N persons, J items) integer scores, NaN = not administered.  groups: (N,) group
    labels; persons in neither ``reference`` nor ``focal`` are ignored.  n_categories: (J,);
    an item with more than 2 categories is treated as polytomous (default: from the largest
    observed score).

    Purification (Holland & Thayer 1988, two-stage): stage 1 matches on all items; items
    classified B/C (BB/CC) are removed from the matching score, and stage 2 recomputes every
    item's statistics, each studied item added back to its own matching score.
    """
    resp = np.asarray(responses, dtype=float)
    if resp.ndim != 2:
        raise DIFError(f"responses must be (N persons, J items), got shape {resp.shape}")
    n, j = resp.shape
    labels = np.asarray(groups, dtype=object)
    if labels.shape != (n,):
        raise DIFError(f"groups must give one label per person ({n}), got shape {labels.shape}")
    if reference == focal:
        raise DIFError("the reference and focal groups must differ")
    is_ref, is_foc = labels == reference, labels == focal
    for role, label, mask in (("reference", reference, is_ref), ("focal", focal, is_foc)):
        if not mask.any():
            raise DIFError(f"no person in the {role} group {label!r}")
    ids = [f"item{k + 1}" for k in range(j)] if item_ids is None else [str(i) for i in item_ids]
    if len(ids) != j:
        raise DIFError(f"item_ids has {len(ids)} entries for {j} items")
    if n_categories is None:
        top = np.nanmax(np.where(np.isnan(resp), -np.inf, resp), axis=0, initial=0)
        n_cat = np.maximum(top, 1).astype(int) + 1
    else:
        n_cat = np.asarray(n_categories, dtype=int)
    keep = is_ref | is_foc
    resp, is_foc = resp[keep], is_foc[keep]

    def stage(matching: np.ndarray) -> list[ItemDIF]:
        score, pattern = _stratum_codes(resp, matching)
        width = int(np.nansum(np.where(np.isnan(resp), 0, resp), axis=1).max(initial=0)) + 2
        out = []
        for k in range(j):
            seen = ~np.isnan(resp[:, k])
            own = 0.0 if matching[k] else resp[:, k]
            total = np.where(seen, score + np.where(seen, own, 0.0), 0.0)
            code = pattern * width + total.astype(int)
            out.append(
                _item_dif(resp[seen, k], is_foc[seen], code[seen], n_cat[k] > 2, ids[k], level)
            )
        return out

    everything = np.ones(j, dtype=bool)
    first = stage(everything)
    if not purify:
        return DIFResult(tuple(first), tuple(ids), False)
    flagged = np.array([r.ets_class in ("B", "C", "BB", "CC") for r in first])
    if not flagged.any() or flagged.all():
        return DIFResult(tuple(first), tuple(ids), True)
    matching = ~flagged
    return DIFResult(
        tuple(stage(matching)), tuple(i for i, m in zip(ids, matching, strict=True) if m), True
    )
