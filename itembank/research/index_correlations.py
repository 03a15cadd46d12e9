"""Correlations of the scale score with questionnaire indices, overall and per group, each with
its standard error: the weighted Pearson correlation (:func:`irt.survey_estimates.correlation`)
computed for every plausible value with the final and every replicate weight, combined by
Rubin's rules (OECD 2009, PISA Data Analysis Manual, ch. 8), by the code of ``itembank report
--correlate`` (:mod:`.survey_correlations`); these are its rows for the web page.  Students without an index value
(the questionnaire not reached, too few statements answered) are left out of that index's
correlations; a group with fewer such students than the minimum group size is not shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from irt.replicates import ReplicateDesign

from .survey_correlations import correlation


@dataclass(frozen=True)
class CorrelationRow:
    """The correlation of the scale score with ``index`` in ``group`` ("" = every student):
    n students with both; None figures when too few (``suppressed``)."""

    index: str
    group: str
    n: int | None
    suppressed: bool
    r: float | None = None
    se: float | None = None
    ci: tuple[float, float] | None = None
    significant: bool = False


def correlation_row(index: str, group: str, scale_pv: np.ndarray, values: np.ndarray,
                    design: ReplicateDesign, rows: np.ndarray, min_size: int) -> CorrelationRow:
    """One row: scale_pv (N, M) plausible values, values (N,) the index (NaN = none), rows (N,)
    the group's mask, design the replicate design of the N students.  The estimate is
    :func:`.survey_correlations.correlation` (the code of ``itembank report --correlate``)."""
    e, n = correlation(scale_pv[rows], values[rows], design.subset(rows))
    if n < max(min_size, 3) or e is None or not (np.isfinite(e.estimate) and np.isfinite(e.se)):
        return CorrelationRow(index, group, None, True)
    lo, hi = e.interval
    # a correlation lies in [−1, 1]: the symmetric interval is cut there
    return CorrelationRow(index, group, n, False, e.estimate, e.se,
                          (max(lo, -1.0), min(hi, 1.0)), e.significant())


def correlations(
    scale_pv: np.ndarray, design: ReplicateDesign, indices: Sequence[tuple[str, np.ndarray]],
    groups: Sequence[tuple[str, np.ndarray]], min_size: int, *, overall: bool = True,
) -> list[CorrelationRow]:
    """Every index's correlation overall (unless ``overall`` is False: the report does not
    publish its overall figures), then in each of ``groups`` ((label, mask (N,)) of the groups
    the report publishes)."""
    everyone = np.ones(scale_pv.shape[0], dtype=bool)
    out: list[CorrelationRow] = []
    for name, values in indices:
        v = np.asarray(values, float)
        out.append(correlation_row(name, "", scale_pv, v, design, everyone, min_size) if overall
                   else CorrelationRow(name, "", None, True))
        out += [correlation_row(name, label, scale_pv, v, design, mask, min_size)
                for label, mask in groups]
    return out
