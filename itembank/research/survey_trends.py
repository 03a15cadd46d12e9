"""Trends against an earlier REPORT.json (another cycle, another calibration linked to the same
scale) for ``itembank report --compare-to``: the change of the overall and each group's mean
with its standard error.

The two samples are independent, so the variances add; the uncertainty of the link between the
two calibrations adds the linking error (OECD, PISA 2018 Technical Report ch. 12; PISA 2018
Results Volume I, Annex A7):

    SE(change)² = SE(later)² + SE(earlier)² + LE²

with LE given on the θ (logit) scale of the later calibration and turned into points of the
reporting scale by its factor sd / population sd (100 points per logit for a 500/100 scale on a
N(0, 1) population).  The means and SEs are read as the two reports publish them (two
decimals), so the trend can be checked by hand from the two files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from irt import survey_estimates as est
from irt.reporting import ReportingScale
from itembank.bank.json_file import read_json_file
from itembank.errors import DataFileError, Problem

NO_LINKING_ERROR = (
    "no linking error was given (--linking-error): the SEs of the trends contain the sampling "
    "and imputation variance of the two reports only and are too small when the two "
    "calibrations were linked through common items"
)


@dataclass(frozen=True)
class EarlierReport:
    """A validated earlier REPORT.json: its file name, the published mean and SE of the overall
    sample and of each group (None when suppressed) and whether its SEs assume simple random
    sampling."""

    path: str
    overall: tuple[float, float] | None
    groups: dict[str, tuple[float, float] | None]
    srs: bool


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# why a group has no trend (``trends_missing``' reasons; the web page words them)
SUPPRESSED_HERE = "suppressed in this report"
SUPPRESSED_EARLIER = "suppressed in the earlier report"
NOT_EARLIER = "not in the earlier report"
NOT_HERE = "not in this report"


class EarlierReportError(DataFileError):
    """The earlier report cannot be compared with: its problems, and per problem the key and
    what is wrong with it (``kinds``: "scale", another reporting scale; "grouping", grouped by
    another column; "shape", not a REPORT.json of the item bank)."""

    def __init__(self, problems: list[Problem], kinds: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.kinds = kinds


def read_earlier_report(path: str | Path, *, scale: ReportingScale,
                        group_by: str | None = None) -> EarlierReport:
    """:func:`check_earlier_report` of the JSON file at ``path``."""
    return check_earlier_report(read_json_file(path), str(path), scale=scale, group_by=group_by)


def check_earlier_report(doc: Any, name: str, *, scale: ReportingScale,
                         group_by: str | None = None) -> EarlierReport:
    """Check REPORT.json (``doc``, read from ``name``) to compare against: on the same
    reporting scale as ``scale`` (``scale.mean``, ``scale.sd`` and the θ population they are
    anchored to, ``scale.population.mean``/``sd``: a later calibration linked to the earlier one
    keeps the earlier's population), with ``overall`` and ``groups`` carrying ``mean`` and
    ``se_mean`` (or ``suppressed``), and, when it says so, grouped by the same column.  Every
    problem names the file and the key.  The web report's download carries its ``scale`` too,
    so this year's web report can be compared with last year's."""
    if not isinstance(doc, dict):
        raise EarlierReportError([Problem(name, 1, 1, "$: expected the object of a REPORT.json "
                                                      "(itembank report)")], [("$", "shape")])
    problems: list[Problem] = []
    kinds: list[tuple[str, str]] = []

    def bad(where: str, message: str, kind: str = "shape") -> None:
        problems.append(Problem(name, 0, 0, f"{where}: {message}"))
        kinds.append((where, kind))

    theirs_scale = doc.get("scale")
    if not isinstance(theirs_scale, dict):
        bad("scale", "missing: not a REPORT.json of itembank report (expected an object "
                     "{mean, sd, population})")
    else:
        population = theirs_scale.get("population")
        if not isinstance(population, dict):
            bad("scale.population", "expected an object {mean, sd}")
            population = {}
        for key, theirs, ours in (
            ("mean", theirs_scale.get("mean"), scale.mean),
            ("sd", theirs_scale.get("sd"), scale.sd),
            ("population.mean", population.get("mean"), scale.population_mean),
            ("population.sd", population.get("sd"), scale.population_sd),
        ):
            if not _number(theirs):
                bad(f"scale.{key}", f"expected a number, got {theirs!r}")
            elif abs(float(theirs) - ours) > 1e-9:
                bad(f"scale.{key}", f"the earlier report's scale has {key} {theirs:g}, this "
                                    f"report's {ours:g}: another reporting scale, no trend"
                    + (" (link this calibration to the earlier one and give its PARAMS.json "
                       "the earlier population)" if key.startswith("population") else ""),
                    "scale")
    inputs = doc.get("inputs")
    if group_by is not None and isinstance(inputs, dict):
        theirs = inputs.get("group_by")
        if theirs is not None and theirs != group_by:
            bad("inputs.group_by", f"the earlier report is grouped by {theirs!r}, this one by "
                                   f"{group_by!r}: its groups are not these groups", "grouping")

    def figures(where: str, entry: Any) -> tuple[float, float] | None:
        if not isinstance(entry, dict):
            bad(where, "expected an object")
            return None
        if entry.get("suppressed") is True:
            return None
        mean, se = entry.get("mean"), entry.get("se_mean")
        if not _number(mean):
            bad(f"{where}.mean", f"expected a number, got {mean!r}")
            mean = None
        if not _number(se) or se < 0:
            bad(f"{where}.se_mean", f"expected a number ≥ 0, got {se!r}")
            se = None
        return None if mean is None or se is None else (float(mean), float(se))

    overall = figures("overall", doc["overall"]) if "overall" in doc else None
    if "overall" not in doc:
        bad("overall", "missing: expected an object with mean and se_mean")
    groups: dict[str, tuple[float, float] | None] = {}
    raw_groups = doc.get("groups")
    if not isinstance(raw_groups, list):
        bad("groups", "missing: expected a list of groups")
    else:
        for k, entry in enumerate(raw_groups):
            label = entry.get("group") if isinstance(entry, dict) else None
            if not isinstance(label, str):
                bad(f"groups[{k}].group", f"expected the group's label, got {label!r}")
                continue
            if label in groups:
                bad(f"groups[{k}].group", f"duplicate group {label!r}")
                continue
            groups[label] = figures(f"groups[{k}] ({label})", entry)
    if problems:
        raise EarlierReportError(problems, kinds)
    design = doc.get("variance_estimation")
    srs = bool(design.get("assumes_simple_random_sampling")) if isinstance(design, dict) else False
    return EarlierReport(name, overall, groups, srs)


def _trend(label: str, later: tuple[float, float], earlier: tuple[float, float],
           linking_error: float) -> dict[str, Any]:
    t = est.trend(est.Estimate(later[0], later[1], later[1] ** 2, 0.0, 1),
                  est.Estimate(earlier[0], earlier[1], earlier[1] ** 2, 0.0, 1), linking_error)
    return {
        "group": label,
        "earlier_mean": earlier[0],
        "later_mean": later[0],
        "change": round(t.estimate, 2),
        "se_change": round(t.se, 2),
        "ci95_change": [round(x, 2) for x in t.interval],
        "significant": t.significant(),
    }


def _published(entry: Mapping[str, Any]) -> tuple[float, float] | None:
    if entry.get("suppressed") or "mean" not in entry:
        return None
    return float(entry["mean"]), float(entry["se_mean"])


def add_trends(report: dict[str, Any], earlier: EarlierReport,
               linking_error: float | None) -> None:
    """Add ``trends`` and ``trends_missing`` (and notes) to the later ``report`` (REPORT.json as
    a dict).  ``linking_error``: on the θ scale of the later calibration, None when not given
    (taken as 0, with a note)."""
    scale = report["scale"]
    per_logit = float(scale["sd"]) / float(scale["population"]["sd"])
    le_theta = 0.0 if linking_error is None else float(linking_error)
    le = le_theta * per_logit
    later_overall = _published(report["overall"])
    later_groups = {str(g["group"]): _published(g) for g in report["groups"]}
    trends: dict[str, Any] = {
        "earlier_report": earlier.path,
        "linking_error": {"theta": le_theta, "points": round(le, 4),
                          "points_per_logit": round(per_logit, 6),
                          "given": linking_error is not None},
        "formula": "se_change = sqrt(se_later² + se_earlier² + linking_error²): independent "
                   "samples, linking error in points of the reporting scale",
        "overall": None,
        "groups": [],
    }
    missing: list[dict[str, str]] = []

    def pair(label: str, ours: tuple[float, float] | None,
             theirs: tuple[float, float] | None) -> dict[str, Any] | None:
        if ours is None or theirs is None:
            missing.append({"group": label,
                            "reason": SUPPRESSED_HERE if ours is None else SUPPRESSED_EARLIER})
            return None
        return _trend(label, ours, theirs, le)

    trends["overall"] = pair("", later_overall, earlier.overall)
    for label in sorted(set(later_groups) | set(earlier.groups)):
        if label not in earlier.groups:
            missing.append({"group": label, "reason": NOT_EARLIER})
        elif label not in later_groups:
            missing.append({"group": label, "reason": NOT_HERE})
        elif (row := pair(label, later_groups[label], earlier.groups[label])) is not None:
            trends["groups"].append(row)
    report["trends"] = trends
    report["trends_missing"] = missing
    if linking_error is None:
        report["notes"].append(NO_LINKING_ERROR)
    if earlier.srs and not report["variance_estimation"]["assumes_simple_random_sampling"]:
        report["notes"].append(
            "the earlier report's SEs assume simple random sampling: the SEs of the trends are "
            "too small when its students were sampled in schools"
        )
