"""A learning-outcome report as large-scale assessments compute it: plausible values from the
population model (conditioned on background variables or not), every figure with its standard
error from replicate weights combined with the imputation variance over plausible values
(Rubin's rules), 95% intervals and significance of group differences.

The methods are in :mod:`irt.replicates`, :mod:`irt.survey_estimates` and
:mod:`irt.latent_regression`; this module assembles the REPORT.json document (``itembank
report``; docs/research.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from irt import survey_estimates as est
from irt.latent_regression import PopulationModel, plausible_values
from irt.models import ItemParameters
from irt.replicates import ReplicateDesign
from irt.reporting import ProficiencyLevels, ReportingScale

from .disclosure import protect
from .survey_correlations import correlations

SRS_NOTE = (
    "no sampling design (weights with strata and schools, or replicate weights) was given: "
    "standard errors assume simple random sampling of students and are too small when students "
    "were sampled in schools"
)
Step = Callable[[str], None]


def _figure(e: est.Estimate, digits: int = 2) -> dict[str, Any]:
    lo, hi = e.interval
    return {"estimate": round(e.estimate, digits), "se": round(e.se, digits),
            "ci95": [round(lo, digits), round(hi, digits)]}


@dataclass(frozen=True)
class Figures:
    """One group's figures: n, the sum of its final weights, mean and SD of the scale score and
    the percent at each level, each an :class:`irt.survey_estimates.Estimate` (SE, interval)."""

    n: int
    weighted_n: float
    mean: est.Estimate
    sd: est.Estimate
    levels: list[est.Estimate] | None


def figures(scale_pv: np.ndarray, design: ReplicateDesign,
            levels: ProficiencyLevels | None) -> Figures:
    """The figures of the (n, M) scale-score plausible values of a group whose rows of the
    replicate design are ``design`` (the report's code for the CLI and the web)."""
    return Figures(
        int(scale_pv.shape[0]),
        float(design.weights.sum()),
        est.estimate(est.mean, scale_pv, design),
        est.estimate(est.sd, scale_pv, design),
        None if levels is None else est.level_shares(scale_pv, np.asarray(levels.cuts), design),
    )


def difference_of_means(scale_pv: np.ndarray, design: ReplicateDesign, in_a: np.ndarray,
                        in_b: np.ndarray) -> est.Estimate:
    """Mean of group a − mean of group b (masks (N,) over the whole sample), with the SE that
    carries their covariance through the replicates."""
    return est.estimate(est.difference(est.mean, in_a, in_b), scale_pv, design)


def scale_plausible_values(
    params: ItemParameters, scores: np.ndarray, background: np.ndarray | None, n_pv: int,
    rng: np.random.Generator, design: ReplicateDesign, scale: ReportingScale,
    population: tuple[float, float],
) -> tuple[np.ndarray, PopulationModel]:
    """(N, n_pv) plausible values on the reporting scale from the population model with
    background (N, P) (None: unconditioned), fitted with the design's final weights."""
    theta_pv, model = plausible_values(
        params, scores, background, n_pv, rng, weights=design.weights, population=population
    )
    return scale.score(theta_pv), model


def _summary(scores: np.ndarray, design: ReplicateDesign, levels: ProficiencyLevels | None,
             label: str) -> dict[str, Any]:
    f = figures(scores, design, levels)
    mean, sd = f.mean, f.sd
    out: dict[str, Any] = {
        "group": label,
        "n": f.n,
        "weighted_n": round(f.weighted_n, 3),
        "mean": round(mean.estimate, 2),
        "se_mean": round(mean.se, 2),
        "ci95_mean": [round(x, 2) for x in mean.interval],
        "sd": round(sd.estimate, 2),
        "se_sd": round(sd.se, 2),
        "ci95_sd": [round(x, 2) for x in sd.interval],
    }
    if levels is not None and f.levels is not None:
        shares = f.levels
        out["levels"] = [
            {"level": lab, "percent": round(s.estimate, 2), "se_percent": round(s.se, 2),
             "ci95_percent": [round(x, 2) for x in s.interval]}
            for lab, s in zip(levels.labels, shares, strict=True)
        ]
    return out


def survey_report(
    params: ItemParameters,
    scores: np.ndarray,
    groups: np.ndarray,
    design: ReplicateDesign,
    *,
    background: np.ndarray | None,
    background_names: Sequence[str] = (),
    n_pv: int = 5,
    rng: np.random.Generator,
    scale: ReportingScale,
    levels: ProficiencyLevels | None,
    population: tuple[float, float] = (0.0, 1.0),
    min_group_size: int = 2,
    step: Step | None = None,
    indices: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """REPORT.json as a dict.  scores: (N, J) responses aligned with ``params``; groups: (N,)
    labels; design: the replicate design of the N students; background: (N, P) population-model
    matrix with a constant column, or None for unconditioned plausible values; indices: name →
    (N,) values (NaN = none) to correlate with the scale score (``correlations``)."""
    def tick(what: str) -> None:
        if step is not None:
            step(what)

    tick("population model")
    scale_pv, model = scale_plausible_values(params, scores, background, n_pv, rng, design, scale,
                                             population)
    tick("estimates")
    labels = sorted({str(g) for g in groups})
    rows = {g: groups == g for g in labels}
    report: dict[str, Any] = {
        "n_students": int(scores.shape[0]),
        "n_items": int(params.n_items),
        "plausible_values": int(n_pv),
        "scale": scale.to_dict(),
        "levels": None if levels is None else
        {"labels": list(levels.labels), "cuts": list(levels.cuts)},
        "population_model": {
            "conditioned": background is not None,
            "conditioned_on": list(background_names),
            "coefficients": dict(zip(background_names or ["(constant)"],
                                     (round(float(g), 5) for g in model.gamma), strict=False)),
            "residual_sd": round(model.sigma, 5),
            "iterations": model.iterations,
            "converged": model.converged,
        },
        "variance_estimation": {
            "method": design.method,
            "replicates": design.n_replicates,
            "assumes_simple_random_sampling": design.srs,
            "combination": "Rubin (1987): sampling variance averaged over plausible values + "
                           "(1 + 1/M) × variance between plausible values",
        },
        "notes": [],
        "overall": _summary(scale_pv, design, levels, ""),  # replaced below if suppressed
        "groups": [],
        "differences": [],
    }
    if design.srs:
        report["notes"].append(SRS_NOTE)
    if background is None:
        report["notes"].append(
            "plausible values are unconditioned (no background variables): differences between "
            "groups are attenuated toward zero"
        )
    # disclosure control: a small group shows no n, and neither does any group (or the
    # overall) from which it could be computed by difference
    shown = protect(
        {("overall", ""): range(scores.shape[0]),
         **{("group", g): np.flatnonzero(rows[g]).tolist() for g in labels}},
        min_size=max(min_group_size, 2),
    )
    if not shown.published(("overall", "")):
        report["n_students"] = None
        report["overall"] = {"group": "", "suppressed": True}
    small = []
    for g in labels:
        mask = rows[g]
        if not shown.published(("group", g)):
            small.append(g)
            report["groups"].append({"group": g, "suppressed": True})
            continue
        report["groups"].append(_summary(scale_pv[mask], design.subset(mask), levels, g))
    for a, b in combinations([g for g in labels if g not in small], 2):
        d = difference_of_means(scale_pv, design, rows[a], rows[b])
        report["differences"].append({
            "group_a": a, "group_b": b,
            "difference": round(d.estimate, 2), "se_difference": round(d.se, 2),
            "ci95_difference": [round(x, 2) for x in d.interval],
            "significant": d.significant(),
        })
    if indices:
        report["correlations"] = correlations(scale_pv, indices, design, rows, shown.published,
                                              max(min_group_size, 2))
        report["notes"].append(
            "a correlation leaves out the students without a value of its column (its n)")
        loose = [name for name in indices if name not in background_names]
        if loose:
            report["notes"].append(
                f"the plausible values are not conditioned on {', '.join(loose)} (--condition-on):"
                " their correlations with the scale score are attenuated toward zero")
    return report
