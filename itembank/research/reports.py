"""Learning-outcome reports: group means and SDs on the reporting scale, the share of students
at each proficiency level, differences between groups, trends across test windows — each with
its standard error and 95% interval — and each student's score with its SE and level.

The figures are computed by the code of ``itembank report`` (:mod:`.survey_report`): plausible
values (Mislevy 1991) from the population model θ ~ N(Γᵀx, σ²) (irt.latent_regression) with x
the dummies of the reported grouping and of the test window, so that group means and trends are
not shrunk towards the overall mean; every statistic is computed with the final weight and each
replicate weight for each plausible value, and the sampling variance averaged over plausible
values is combined with the imputation variance by Rubin's rules (OECD 2009, PISA Data Analysis
Manual, ch. 8; :mod:`irt.survey_estimates`).  The replicates are the data set's stored design
(:mod:`.dataset_design`); without one, a random-group jackknife, i.e. the SEs assume simple random
sampling, and the page says so.  A group with fewer students than the minimum group size is
suppressed (no figures, no n), and so is every group that would let it be computed by difference
(:mod:`.disclosure`, over every grouping and window of the same students, whichever grouping is
asked for); differences are shown only between published groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from irt.models import ItemParameters as IrtParameters
from irt.replicates import ReplicateDesign, random_groups
from irt.reporting import ProficiencyLevels, ReportingScale
from irt.reporting import from_dict as reporting_from_dict
from irt.scoring import eap
from itembank.delivery.cat_config import DEFAULT_REPORTING

from .background import design_matrix
from .datasets import Matrix
from .disclosure import Protection, cells_by, protect
from .index_correlations import CorrelationRow, correlations
from .scope import Scope
from .survey_report import SRS_NOTE, difference_of_means, figures, scale_plausible_values

GROUPINGS = ("city", "school", "class", "grade", "language", "gender")
N_PV = 5
MAX_DIFFERENCE_GROUPS = 20  # pairwise differences of at most 20 groups (190 pairs)


@dataclass(frozen=True)
class GroupRow:
    """One group (or group × window): n students; None figures (and n) when suppressed.
    Intervals are (low, high) 95% intervals."""

    group: str
    window: str | None
    n: int | None
    suppressed: bool
    mean: float | None = None
    se: float | None = None
    level_shares: list[float] | None = None  # per level, percent
    level_se: list[float] | None = None
    ci: tuple[float, float] | None = None
    sd: float | None = None
    se_sd: float | None = None
    sd_ci: tuple[float, float] | None = None
    level_ci: list[tuple[float, float]] | None = None


@dataclass(frozen=True)
class DifferenceRow:
    """Mean of group a − mean of group b with its SE, 95% interval and significance (5%)."""

    group_a: str
    group_b: str
    difference: float
    se: float
    ci: tuple[float, float]
    significant: bool


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
    # True: no sampling design with replicates: SEs assume simple random sampling
    srs_only: bool = True
    notes: list[str] = field(default_factory=list)
    differences: list[DifferenceRow] = field(default_factory=list)
    differences_omitted: bool = False  # more than MAX_DIFFERENCE_GROUPS published groups
    method: str = "srs-groups"  # "jk2", "brr-fay", "given" or "srs-groups"
    n_replicates: int = 0
    n_pv: int = N_PV
    conditioned_on: list[str] = field(default_factory=list)
    seed: int = 0
    # the scale score's correlation with each questionnaire index (index id, then group "" = all)
    correlations: list[CorrelationRow] = field(default_factory=list)
    # the questionnaire whose indices are correlated: id, version, scales (id, name, n,
    # reliability), too_few (scales too few students answered to scale), notes; None: none
    questionnaire: dict[str, Any] | None = None
    # the reporting scale as REPORT.json gives it ({mean, sd, population: {mean, sd}}), so that a
    # later report can be compared with this one (``itembank report --compare-to``)
    scale: dict[str, Any] | None = None


def rubin(estimates: np.ndarray, sampling_variances: np.ndarray) -> tuple[float, float]:
    """Combine M estimates and their sampling variances: (mean, SE) by Rubin's rules."""
    est = np.asarray(estimates, float)
    u = float(np.mean(sampling_variances))
    m = est.size
    b = float(np.var(est, ddof=1)) if m > 1 else 0.0
    return float(est.mean()), float(np.sqrt(u + (1.0 + 1.0 / m) * b))


def summarise(
    label: str, window: str | None, scale_pv: np.ndarray, levels: ProficiencyLevels | None,
    min_size: int, design: ReplicateDesign,
) -> GroupRow:
    """Mean, SD and level shares of one group's (n, M) scale-score PVs with their SEs and
    intervals, by :func:`.survey_report.figures` (the code of ``itembank report``); ``design``
    are the group's rows of the replicate design."""
    n = scale_pv.shape[0]
    if n < max(min_size, 2):
        return GroupRow(label, window, None, True)
    f = figures(scale_pv, design, levels)
    shares = ses = cis = None
    if f.levels is not None:
        shares = [e.estimate for e in f.levels]
        ses = [e.se for e in f.levels]
        cis = [e.interval for e in f.levels]
    return GroupRow(label, window, n, False, f.mean.estimate, f.mean.se, shares, ses,
                    ci=f.mean.interval, sd=f.sd.estimate, se_sd=f.sd.se, sd_ci=f.sd.interval,
                    level_ci=cis)


def _full_rank(x: np.ndarray, names: list[str],
               weights: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Drop columns that are linear combinations of earlier ones (e.g. the window dummy when
    only one school took part in a window, or a group whose weights are all 0), so that the
    population model fits."""
    xw = x * np.sqrt(weights)[:, None]
    if np.linalg.matrix_rank(xw) == x.shape[1]:
        return x, names
    keep: list[int] = []
    for j in range(x.shape[1]):
        trial = [*keep, j]
        if np.linalg.matrix_rank(xw[:, trial]) == len(trial):
            keep.append(j)
    return x[:, keep], [names[j] for j in keep]


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
    indices: Sequence[tuple[str, np.ndarray]] = (),
    step: Callable[[str], None] | None = None,
) -> Report:
    """The report of ``matrix`` (all students: aggregates of every city) for ``grouping``;
    per-student rows only within ``scope``.  ``design``: the replicate design of
    ``matrix.persons`` (weights and replicates stored with a data set); without it the SEs assume
    simple random sampling.  ``indices``: questionnaire indices (id, values (N,) in the order of
    ``matrix.persons``, NaN = none) whose correlation with the scale score the report gives.
    ``step``: called with "population-model", "estimates", "correlations" and "students" as
    each phase begins (a job's progress)."""
    sample_design = design

    def tick(what: str) -> None:
        if step is not None:
            step(what)

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
    report.scale = scale.to_dict()
    if not persons or params.n_items == 0:
        report.notes.append("no scored responses to calibrated items")
        return report
    if sample_design is not None:  # the data set's own design: design-based SEs
        design = sample_design.subset(answered)
    else:  # as ``itembank report`` without a design: a random-group jackknife
        design = random_groups(None, len(persons), np.random.default_rng([seed, 1]))
    report.srs_only = design.srs
    report.method, report.n_replicates = design.method, design.n_replicates
    report.n_pv, report.seed = n_pv, seed
    if not design.weights.sum() > 0:
        report.notes.append("every student with responses to calibrated items has weight 0")
        return report
    # the population model: the reported groups and the test windows, as categories
    x, x_names = design_matrix({grouping: groups.tolist(), "window": windows.tolist()},
                               categorical=[grouping, "window"])
    x, x_names = _full_rank(x, x_names, design.weights)
    report.conditioned_on = [grouping, *(["window"] if len(report.windows) > 1 else [])]
    tick("population-model")
    scale_pv, _model = scale_plausible_values(
        params, scores, x, n_pv, np.random.default_rng(seed), design, scale,
        (float(pop["mean"]), float(pop["sd"])))
    tick("estimates")
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
    masks: dict[str, np.ndarray] = {}
    for g in sorted(set(groups.tolist())):
        in_g = groups == g
        row = cell(((grouping,), (g,)), g, None, in_g)
        report.groups.append(row)
        if not row.suppressed:
            masks[g] = in_g
        for w in report.windows:
            rows = in_g & (windows == w)
            if rows.any():
                report.trends.append(cell(((grouping, "window"), (g, w)), g, w, rows))
    if len(masks) > MAX_DIFFERENCE_GROUPS:
        report.differences_omitted = True
    else:
        for a, b in combinations(masks, 2):
            d = difference_of_means(scale_pv, design, masks[a], masks[b])
            report.differences.append(
                DifferenceRow(a, b, d.estimate, d.se, d.interval, d.significant()))
    if indices:
        tick("correlations")
        report.correlations = correlations(
            scale_pv, design, [(name, np.asarray(v, float)[answered]) for name, v in indices],
            list(masks.items()), min_group_size, overall=not report.overall.suppressed)
    tick("students")
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


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(float(x), digits)


def _row_json(row: GroupRow, labels: Sequence[str]) -> dict[str, Any]:
    """A group of REPORT.json, with the keys of ``itembank report`` (rounded to 2 decimals)."""
    if row.suppressed:
        return {"group": row.group, **({"window": row.window} if row.window else {}),
                "suppressed": True}
    assert row.ci is not None and row.sd_ci is not None
    out: dict[str, Any] = {
        "group": row.group, **({"window": row.window} if row.window else {}), "n": row.n,
        "mean": _r(row.mean), "se_mean": _r(row.se), "ci95_mean": [_r(x) for x in row.ci],
        "sd": _r(row.sd), "se_sd": _r(row.se_sd), "ci95_sd": [_r(x) for x in row.sd_ci],
    }
    if row.level_shares is not None and row.level_se is not None and row.level_ci is not None:
        out["levels"] = [
            {"level": lab, "percent": _r(p), "se_percent": _r(se), "ci95_percent": [_r(x) for x in ci]}
            for lab, p, se, ci in zip(labels, row.level_shares, row.level_se, row.level_ci,
                                      strict=True)
        ]
    return out


def report_json(report: Report) -> dict[str, Any]:
    """The report as the REPORT.json document of ``itembank report`` (suppressed groups carry
    ``suppressed: true`` and no figures), plus the figures by test window (``windows``)."""
    labels = report.level_labels
    return {
        "n_students": report.n_students,
        "n_items": report.n_items,
        "plausible_values": report.n_pv,
        **({"scale": report.scale} if report.scale is not None else {}),
        "levels": {"labels": labels} if labels else None,
        "population_model": {"conditioned": True, "conditioned_on": report.conditioned_on},
        "variance_estimation": {
            "method": report.method,
            "replicates": report.n_replicates,
            "assumes_simple_random_sampling": report.srs_only,
            "combination": "Rubin (1987): sampling variance averaged over plausible values + "
                           "(1 + 1/M) × variance between plausible values",
        },
        "min_group_size": report.min_group_size,
        "notes": [*report.notes, *([SRS_NOTE] if report.srs_only else [])],
        "overall": (_row_json(report.overall, labels) if report.overall is not None
                    else {"group": "", "suppressed": True}),
        "groups": [_row_json(r, labels) for r in report.groups],
        "differences": [
            {"group_a": d.group_a, "group_b": d.group_b, "difference": _r(d.difference),
             "se_difference": _r(d.se), "ci95_difference": [_r(x) for x in d.ci],
             "significant": d.significant}
            for d in report.differences
        ],
        "differences_omitted": report.differences_omitted,
        # by test window within one calibration; not the ``trends`` of ``itembank report
        # --compare-to`` (between two reports, with the linking error)
        "windows": [_row_json(r, labels) for r in report.trends],
        **({"correlations": [_correlation_json(c) for c in report.correlations]}
           if report.correlations else {}),
    }


def _correlation_json(c: CorrelationRow) -> dict[str, Any]:
    if c.suppressed:
        return {"index": c.index, "group": c.group, "suppressed": True}
    assert c.ci is not None
    return {"index": c.index, "group": c.group, "n": c.n, "r": _r(c.r, 3), "se_r": _r(c.se, 3),
            "ci95_r": [_r(x, 3) for x in c.ci], "significant": c.significant}


def groups_csv(report: Report) -> str:
    """Groups and group × window rows: n, mean, SE, 95% interval, SD with SE, and per level the
    percent, SE and interval; a suppressed group shows neither its values nor its n."""
    import io

    from itembank.bank import csv_export

    out = io.StringIO()
    w = csv_export.writer(out)  # neutralises formulas in group names
    labels = report.level_labels
    w.writerow([report.grouping, "window", "n", "mean", "se", "ci95_low", "ci95_high", "sd",
                "se_sd", *(f"level_{lab}_pct" for lab in labels),
                *(f"level_{lab}_se" for lab in labels),
                *(f"level_{lab}_ci95_{end}" for lab in labels for end in ("low", "high"))])
    for row in [*report.groups, *report.trends]:
        if row.suppressed:
            # a suppressed group shows neither its values nor its n
            w.writerow([row.group, row.window or "", *[""] * 7, *[""] * 4 * len(labels)])
            continue
        assert row.ci is not None
        w.writerow([row.group, row.window or "", row.n, f"{row.mean:.1f}", f"{row.se:.2f}",
                    f"{row.ci[0]:.1f}", f"{row.ci[1]:.1f}", f"{row.sd:.1f}", f"{row.se_sd:.2f}",
                    *(f"{x:.1f}" for x in row.level_shares or []),
                    *(f"{x:.2f}" for x in row.level_se or []),
                    *(f"{x:.1f}" for ci in row.level_ci or [] for x in ci)])
    return out.getvalue()


def differences_csv(report: Report) -> str:
    """Every pair of published groups: the difference of means, its SE, interval, significance."""
    import io

    from itembank.bank import csv_export

    out = io.StringIO()
    w = csv_export.writer(out)
    w.writerow(["group_a", "group_b", "difference", "se", "ci95_low", "ci95_high", "significant"])
    for d in report.differences:
        w.writerow([d.group_a, d.group_b, f"{d.difference:.1f}", f"{d.se:.2f}", f"{d.ci[0]:.1f}",
                    f"{d.ci[1]:.1f}", "yes" if d.significant else "no"])
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


def correlations_csv(report: Report) -> str:
    """Each questionnaire index's correlation with the scale score, overall (group blank) and per
    group: n, r, SE, 95% interval, significance; a suppressed row shows neither figures nor n."""
    import io

    from itembank.bank import csv_export

    out = io.StringIO()
    w = csv_export.writer(out)
    w.writerow(["index", report.grouping, "n", "r", "se", "ci95_low", "ci95_high", "significant"])
    for c in report.correlations:
        if c.suppressed or c.ci is None:
            w.writerow([c.index, c.group, *[""] * 6])
            continue
        w.writerow([c.index, c.group, c.n, f"{c.r:.3f}", f"{c.se:.3f}", f"{c.ci[0]:.3f}",
                    f"{c.ci[1]:.3f}", "yes" if c.significant else "no"])
    return out.getvalue()
