"""Learning-outcome reports: group means on the reporting scale with standard errors from
plausible values, the share of students at each proficiency level, trends across test windows,
and each student's score with its SE and level.

Plausible values (Mislevy 1991) are drawn from each student's posterior with a prior conditioned
on the student's reporting cell (group × window): the cell's normal N(μ_g, σ_g²) is estimated by
marginal maximum likelihood (EM over the posterior moments) with the item parameters fixed, so
that group means are not shrunk towards the overall mean as they would be with one common prior.

Standard errors follow Rubin's rules over the M plausible values (OECD 2009, PISA Data Analysis
Manual, ch. 8): U = mean of the within-PV sampling variances, B = variance of the M
estimates, V = U + (1 + 1/M)·B — the code of ``itembank report`` (irt.survey_estimates).  U
comes from the replicate design passed in (:mod:`.survey_design`), else from a random-group
jackknife (Kott 2001), i.e. assumes simple random sampling; the page says so.  A group with fewer students than
the minimum group size is suppressed (no figures, no n), and so is every group that would let
it be computed by difference (:mod:`.disclosure`, over every grouping and window of the same
students, whichever grouping is asked for).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from irt import survey_estimates
from irt.models import ItemParameters as IrtParameters
from irt.models import log_likelihood
from irt.replicates import ReplicateDesign, random_groups
from irt.reporting import ProficiencyLevels, ReportingScale
from irt.reporting import from_dict as reporting_from_dict
from irt.scoring import eap, plausible_values
from itembank.delivery.cat_config import DEFAULT_REPORTING

from .datasets import Matrix
from .disclosure import Protection, cells_by, protect
from .scope import Scope

GROUPINGS = ("city", "school", "class", "grade", "language", "gender")
N_PV = 5


@dataclass(frozen=True)
class GroupRow:
    """One group (or group × window): n students; None figures (and n) when suppressed."""

    group: str
    window: str | None
    n: int | None
    suppressed: bool
    mean: float | None = None
    se: float | None = None
    level_shares: list[float] | None = None  # per level, percent
    level_se: list[float] | None = None


@dataclass(frozen=True)
class StudentRow:
    person_id: str
    group: str
    window: str | None
    score: float
    se: float
    level: str


@dataclass
class Report:
    grouping: str
    level_labels: list[str]
    groups: list[GroupRow]
    trends: list[GroupRow]
    students: list[StudentRow]
    windows: list[str]
    n_students: int | None  # None when the overall figures are suppressed
    n_items: int
    min_group_size: int
    overall: GroupRow | None = None
    # no sampling design is stored with data sets or tests: SEs assume simple random sampling
    srs_only: bool = True
    notes: list[str] = field(default_factory=list)


def rubin(estimates: np.ndarray, sampling_variances: np.ndarray) -> tuple[float, float]:
    """Combine M estimates and their sampling variances: (mean, SE) by Rubin's rules."""
    est = np.asarray(estimates, float)
    u = float(np.mean(sampling_variances))
    m = est.size
    b = float(np.var(est, ddof=1)) if m > 1 else 0.0
    return float(est.mean()), float(np.sqrt(u + (1.0 + 1.0 / m) * b))


def cell_priors(
    params: IrtParameters, scores: np.ndarray, cells: np.ndarray, *, mean: float, sd: float,
    n_iter: int = 50,
) -> dict[Any, tuple[float, float]]:
    """Per cell, (μ, σ) of a normal population estimated by EM with item parameters fixed.
    scores: (N, J), cells: (N,) labels."""
    nodes = np.linspace(mean - 6 * sd, mean + 6 * sd, 121)
    loglik = log_likelihood(params, scores, nodes)  # (N, Q)
    loglik -= loglik.max(axis=1, keepdims=True)
    lik = np.exp(loglik)
    out: dict[Any, tuple[float, float]] = {}
    powers = np.stack([np.ones_like(nodes), nodes, nodes**2])  # (3, Q)
    for cell in np.unique(cells):
        rows = lik[cells == cell]
        mu, sigma = mean, sd
        for _ in range(n_iter):
            prior = np.exp(-0.5 * ((nodes - mu) / sigma) ** 2)
            # each person's posterior mass, first and second moment in one product (n, 3)
            moments = rows @ (powers * prior[None, :]).T
            m1 = moments[:, 1] / moments[:, 0]
            m2 = moments[:, 2] / moments[:, 0]
            new_mu = float(m1.mean())
            new_sigma = float(np.sqrt(max(m2.mean() - new_mu**2, 1e-4)))
            done = abs(new_mu - mu) < 1e-5 and abs(new_sigma - sigma) < 1e-5
            mu, sigma = new_mu, min(max(new_sigma, 0.05 * sd), 3 * sd)
            if done:
                break
        out[cell] = (mu, sigma)
    return out


def draw_plausible_values(
    params: IrtParameters, scores: np.ndarray, cells: np.ndarray, n_pv: int,
    rng: np.random.Generator, *, mean: float = 0.0, sd: float = 1.0,
) -> np.ndarray:
    """(N, n_pv) θ plausible values, each cell with its own estimated normal prior."""
    priors = cell_priors(params, scores, cells, mean=mean, sd=sd)
    pv = np.empty((scores.shape[0], n_pv))
    for cell, (mu, sigma) in priors.items():
        rows = cells == cell
        pv[rows] = plausible_values(params, scores[rows], n_pv, rng, prior_mean=mu, prior_sd=sigma)
    return pv


def summarise(
    label: str, window: str | None, scale_pv: np.ndarray, levels: ProficiencyLevels | None,
    min_size: int, design: ReplicateDesign | None = None,
) -> GroupRow:
    """Mean, SE and level shares of one group's (n, M) scale-score PVs, with the SEs of
    ``itembank report`` (irt.survey_estimates: replicate variance + Rubin's rules); ``design``
    are the group's rows of the replicate design (default: random groups, i.e. simple random
    sampling)."""
    n = scale_pv.shape[0]
    if n < max(min_size, 2):
        return GroupRow(label, window, None, True)
    if design is None:
        design = random_groups(None, n, np.random.default_rng(n))
    m = survey_estimates.estimate(survey_estimates.mean, scale_pv, design)
    shares = ses = None
    if levels is not None:
        found = survey_estimates.level_shares(scale_pv, np.asarray(levels.cuts), design)
        shares = [e.estimate for e in found]
        ses = [e.se for e in found]
    return GroupRow(label, window, n, False, m.estimate, m.se, shares, ses)


def _label(value: Any) -> str:
    return str(value or "–")


def disclosure(
    persons: Sequence[Mapping[str, Any]], min_group_size: int, scope: Scope | None
) -> Protection:
    """The one suppression pattern of every table a report can show for ``persons``: everyone,
    each grouping, and each grouping by window; the persons ``scope`` lists row by row are
    known to the viewer."""
    tables = [(), *[(g,) for g in GROUPINGS], *[(g, "window") for g in GROUPINGS]]
    known = [k for k, p in enumerate(persons) if scope is not None and scope.allows_person(p)]
    return protect(cells_by(persons, tables, label=_label), min_size=max(min_group_size, 2),
                   known=known)


def learning_report(
    matrix: Matrix,
    records: Sequence[Mapping[str, Any]],
    *,
    grouping: str,
    population: Mapping[str, float] | None = None,
    reporting: Mapping[str, Any] | None = None,
    min_group_size: int = 5,
    scope: Scope | None = None,
    n_pv: int = N_PV,
    seed: int = 20261125,
    design: ReplicateDesign | None = None,
) -> Report:
    """The report of ``matrix`` (all students: aggregates of every city) for ``grouping``;
    per-student rows only within ``scope``.  ``design``: the replicate design of
    ``matrix.persons`` (weights and replicates stored with a data set); without it the SEs assume
    simple random sampling."""
    sample_design = design
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}; use one of {GROUPINGS}")
    by_id = {r["id"]: r for r in records}
    cols = [j for j, i in enumerate(matrix.item_ids) if i in by_id]
    params = IrtParameters.from_records([by_id[matrix.item_ids[j]] for j in cols])
    scores = matrix.scores[:, cols]
    answered = ~np.all(np.isnan(scores), axis=1)
    scores = scores[answered]
    persons = [p for p, a in zip(matrix.persons, answered, strict=True) if a]
    pop = population or {"mean": 0.0, "sd": 1.0}
    config = dict(reporting or DEFAULT_REPORTING)
    scale, levels = reporting_from_dict(config)
    scale = ReportingScale(float(pop["mean"]), float(pop["sd"]), scale.mean, scale.sd) \
        if "population" not in config else scale
    labels = levels.labels if levels is not None else ()
    groups = np.array([_label(p.get(grouping)) for p in persons], dtype=object)
    windows = np.array([_label(p.get("window")) for p in persons], dtype=object)
    report = Report(grouping, list(labels), [], [], [], sorted(set(windows.tolist())),
                    len(persons), params.n_items, min_group_size)
    if not persons or params.n_items == 0:
        report.notes.append("no scored responses to calibrated items")
        return report
    rng = np.random.default_rng(seed)
    cells = np.array([f"{g}\x1f{w}" for g, w in zip(groups, windows, strict=True)], dtype=object)
    theta_pv = draw_plausible_values(params, scores, cells, n_pv, rng,
                                     mean=float(pop["mean"]), sd=float(pop["sd"]))
    scale_pv = scale.score(theta_pv)
    if sample_design is not None:  # the data set's own design: design-based SEs
        design = sample_design.subset(answered)
        report.srs_only = design.srs
    else:
        design = random_groups(None, len(persons), np.random.default_rng(seed))
    shown = disclosure(persons, min_group_size, scope)

    def cell(key: tuple[tuple[str, ...], tuple[str, ...]], label: str, window: str | None,
             rows: np.ndarray | slice) -> GroupRow:
        if not shown.published(key):
            return GroupRow(label, window, None, True)
        return summarise(label, window, scale_pv[rows], levels, min_group_size,
                         design if isinstance(rows, slice) else design.subset(rows))

    report.overall = cell(((), ()), "", None, slice(None))
    if report.overall.suppressed:
        report.n_students = None
    for g in sorted(set(groups.tolist())):
        in_g = groups == g
        report.groups.append(cell(((grouping,), (g,)), g, None, in_g))
        for w in report.windows:
            rows = in_g & (windows == w)
            if rows.any():
                report.trends.append(cell(((grouping, "window"), (g, w)), g, w, rows))
    est = eap(params, scores, prior_mean=float(pop["mean"]), prior_sd=float(pop["sd"]))
    score, se = scale.score(est.theta), scale.se(est.se)
    level_of = [levels.labels[i] for i in levels.index(score)] if levels is not None else [""] * len(score)
    score_list, se_list = score.tolist(), se.tolist()
    report.students = [
        StudentRow(str(p["person_id"]), str(groups[k]), p.get("window"), score_list[k], se_list[k],
                   level_of[k])
        for k, p in enumerate(persons) if scope is None or scope.allows_person(p)
    ]
    return report


def groups_csv(report: Report) -> str:
    import io

    from itembank.bank import csv_export

    out = io.StringIO()
    w = csv_export.writer(out)  # neutralises formulas in group names
    w.writerow([report.grouping, "window", "n", "mean", "se",
                *(f"level_{lab}_pct" for lab in report.level_labels),
                *(f"level_{lab}_se" for lab in report.level_labels)])
    for row in [*report.groups, *report.trends]:
        if row.suppressed:
            # a suppressed group shows neither its values nor its n
            w.writerow([row.group, row.window or "", "", "", "", *[""] * 2 * len(report.level_labels)])
            continue
        w.writerow([row.group, row.window or "", row.n, f"{row.mean:.1f}", f"{row.se:.2f}",
                    *(f"{x:.1f}" for x in row.level_shares or []),
                    *(f"{x:.2f}" for x in row.level_se or [])])
    return out.getvalue()


def students_csv(report: Report) -> str:
    import io

    from itembank.bank import csv_export

    out = io.StringIO()
    w = csv_export.writer(out)  # neutralises formulas in person ids and group names
    w.writerow(["person_id", report.grouping, "window", "score", "se", "level"])
    for s in report.students:
        w.writerow([s.person_id, s.group, s.window or "", f"{s.score:.1f}", f"{s.se:.1f}", s.level])
    return out.getvalue()
