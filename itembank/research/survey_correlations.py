"""Correlations of the scale score with questionnaire indices (or any numeric background column)
for REPORT.json (``itembank report --correlate``), each with its standard error.

The weighted Pearson correlation is computed per plausible value with the final weight and with
every replicate weight (:func:`irt.survey_estimates.correlation`) and combined by Rubin's rules
(Rubin 1987; OECD, PISA Data Analysis Manual 2009, ch. 7–8): the estimate is the mean of
the M correlations, its variance the replicate variance averaged over plausible values plus
(1 + 1/M) × their variance.  A student without a value of the index is left out of that
correlation only (domain estimation: the replicates keep every zone).  Disclosure control: a
suppressed group gets no correlations, and a correlation over fewer than the minimum number of
students is not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np

from irt import survey_estimates as est
from irt.replicates import ReplicateDesign

NO_VARIANCE = "the index has the same value for every student with a weight (in some replicate)"


def correlation(scale_pv: np.ndarray, index: np.ndarray,
                design: ReplicateDesign) -> tuple[est.Estimate | None, int]:
    """The correlation of the plausible values (n, M) with ``index`` (n,) (NaN = no value) over
    the students who have a value, and their number; None when the index does not vary (with
    the final weight or with some replicate weight) among them."""
    x = np.asarray(index, float)
    present = ~np.isnan(x)
    n = int(present.sum())
    if n < 2:
        return None, n
    sub = design.subset(present)
    xs = x[present]
    w = sub.all_weights()  # (n, 1 + G)
    total = w.sum(axis=0)
    if np.any(total <= 0):
        return None, n
    mx = (w.T @ xs) / total
    var = (w.T @ xs**2) / total - mx**2
    scale = max(float(np.max(np.abs(xs))), 1.0) ** 2
    if np.any(var <= 1e-12 * scale):
        return None, n
    return est.estimate(est.correlation(xs), np.asarray(scale_pv, float)[present], sub), n


def _row(name: str, group: str, e: est.Estimate | None, n: int,
         min_size: int) -> dict[str, Any]:
    if n < min_size:
        return {"index": name, "group": group, "suppressed": True}
    if e is None:
        return {"index": name, "group": group, "n": n, "r": None, "note": NO_VARIANCE}
    lo, hi = e.interval
    return {
        "index": name,
        "group": group,
        "n": n,
        "r": round(e.estimate, 3),
        "se_r": round(e.se, 3),
        # a correlation lies in [−1, 1]; the symmetric interval is cut there
        "ci95_r": [round(max(lo, -1.0), 3), round(min(hi, 1.0), 3)],
        "significant": e.significant(),
    }


def correlations(
    scale_pv: np.ndarray,
    indices: Mapping[str, np.ndarray],
    design: ReplicateDesign,
    rows: Mapping[str, np.ndarray],
    published: Callable[[Hashable], bool],
    min_size: int,
) -> list[dict[str, Any]]:
    """REPORT.json's ``correlations``: per index (name → (N,) values, NaN = none), its
    correlation with the scale score (N, M) over every student (group "") and in each group
    (``rows``: label → (N,) mask), one row each: ``index``, ``group``, ``n`` (students with a
    value), ``r``, ``se_r``, ``ci95_r``, ``significant`` — the rows of the web report's
    REPORT.json.  ``published((kind, label))`` is the report's disclosure decision
    (``("overall", "")``, ``("group", g)``): a group it hides, or fewer than ``min_size``
    students with a value, gives ``{"index", "group", "suppressed": true}``."""
    out: list[dict[str, Any]] = []
    blocks = [("", None, ("overall", ""))] + [(g, m, ("group", g)) for g, m in rows.items()]
    for name, values in indices.items():
        x = np.asarray(values, float)
        for label, mask, key in blocks:
            if not published(key):
                out.append({"index": name, "group": label, "suppressed": True})
                continue
            if mask is None:
                e, n = correlation(scale_pv, x, design)
            else:
                e, n = correlation(scale_pv[mask], x[mask], design.subset(mask))
            out.append(_row(name, label, e, n, min_size))
    return out
