"""Trends against an earlier REPORT.json (itembank/research/survey_trends.py): the SE of a change
from two given reports by hand, the linking error turned into points, groups in one report only,
and earlier files that are not a REPORT.json named by file and key."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from irt.reporting import ReportingScale
from itembank.errors import DataFileError
from itembank.research.survey_trends import (
    NO_LINKING_ERROR,
    add_trends,
    read_earlier_report,
)

SCALE = ReportingScale(0.0, 1.0, 500.0, 100.0)


def _report(overall: tuple[float, float], groups: dict[str, tuple[float, float] | None],
            *, population_sd: float = 1.0, srs: bool = False) -> dict[str, Any]:
    """The keys of REPORT.json that a trend reads (a suppressed group: None)."""
    return {
        "scale": {"mean": 500.0, "sd": 100.0, "population": {"mean": 0.0, "sd": population_sd}},
        "variance_estimation": {"method": "jk2", "replicates": 20,
                                "assumes_simple_random_sampling": srs},
        "notes": [],
        "overall": {"group": "", "mean": overall[0], "se_mean": overall[1]},
        "groups": [{"group": g} | ({"suppressed": True} if v is None else
                                   {"mean": v[0], "se_mean": v[1]})
                   for g, v in groups.items()],
        "inputs": {"group_by": "city"},
    }


def _write(tmp_path: Path, doc: Any, name: str = "earlier.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_trend_se_from_two_given_reports(tmp_path: Path) -> None:
    # both calibrations on one θ metric whose reference population has SD 0.8
    earlier = _write(tmp_path, _report((480.0, 3.0), {"A": (470.0, 5.0), "B": (490.0, 4.0),
                                                      "C": (500.0, 6.0), "D": None},
                                       population_sd=0.8))
    later = _report((492.0, 4.0), {"A": (475.0, 12.0), "B": (505.5, 4.0), "D": (510.0, 9.0),
                                   "E": (520.0, 7.0)}, population_sd=0.8)
    add_trends(later, read_earlier_report(earlier, scale=ReportingScale(0.0, 0.8, 500, 100),
                                          group_by="city"), 0.024)
    trends = later["trends"]
    # 0.024 logit on a scale of 100 points per 0.8 logit: 3 points
    assert trends["linking_error"] == {"theta": 0.024, "points": 3.0, "points_per_logit": 125.0,
                                       "given": True}
    overall = trends["overall"]
    # overall: change 12, SE = √(4² + 3² + 3²) = √34 = 5.83; 12 > 1.96 × 5.83 = 11.43
    assert overall["change"] == 12.0 and overall["se_change"] == 5.83
    assert overall["significant"] is True
    assert overall["ci95_change"] == [round(12 - 1.959964 * math.sqrt(34), 2),
                                      round(12 + 1.959964 * math.sqrt(34), 2)]
    a, b = trends["groups"]
    # A: change 5, SE = √(12² + 5² + 3²) = √178 = 13.34, not significant
    assert (a["group"], a["earlier_mean"], a["later_mean"]) == ("A", 470.0, 475.0)
    assert (a["change"], a["se_change"], a["significant"]) == (5.0, 13.34, False)
    # B: change 15.5, SE = √(4² + 4² + 3²) = √41 = 6.40
    assert (b["change"], b["se_change"], b["significant"]) == (15.5, 6.4, True)
    assert later["trends_missing"] == [
        {"group": "C", "reason": "not in this report"},
        {"group": "D", "reason": "suppressed in the earlier report"},
        {"group": "E", "reason": "not in the earlier report"},
    ]
    assert NO_LINKING_ERROR not in later["notes"]


def test_without_a_linking_error_the_report_says_so(tmp_path: Path) -> None:
    earlier = _write(tmp_path, _report((480.0, 3.0), {"A": (470.0, 5.0)}, srs=True))
    later = _report((492.0, 4.0), {"A": None})
    later["overall"] = {"group": "", "suppressed": True}
    add_trends(later, read_earlier_report(earlier, scale=SCALE), None)
    assert later["trends"]["linking_error"]["given"] is False
    assert later["trends"]["overall"] is None and later["trends"]["groups"] == []
    assert later["trends_missing"] == [
        {"group": "", "reason": "suppressed in this report"},
        {"group": "A", "reason": "suppressed in this report"},
    ]
    assert NO_LINKING_ERROR in later["notes"]
    assert any("earlier report's SEs assume simple random sampling" in n for n in later["notes"])
    # with E = 0 given, the SE is √(se₁² + se₂²) and no note
    later = _report((492.0, 4.0), {})
    add_trends(later, read_earlier_report(earlier, scale=SCALE), 0.0)
    assert later["trends"]["overall"]["se_change"] == 5.0
    assert NO_LINKING_ERROR not in later["notes"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("scale"), "earlier.json:0:0: scale: missing: not a REPORT.json"),
        (lambda d: d["scale"].update(sd=50), "earlier.json:0:0: scale.sd: the earlier report's "
                                             "scale has sd 50, this report's 100"),
        (lambda d: d["scale"]["population"].update(mean=0.2),
         "earlier.json:0:0: scale.population.mean: the earlier report's scale has population.mean"
         " 0.2, this report's 0: another reporting scale, no trend (link this calibration"),
        (lambda d: d["scale"].pop("population"), "scale.population: expected an object"),
        (lambda d: d.pop("groups"), "earlier.json:0:0: groups: missing"),
        (lambda d: d.pop("overall"), "earlier.json:0:0: overall: missing"),
        (lambda d: d["groups"][0].pop("se_mean"), "earlier.json:0:0: groups[0] (A).se_mean: "
                                                  "expected a number ≥ 0, got None"),
        (lambda d: d["groups"][1].update(mean="high"), "earlier.json:0:0: groups[1] (B).mean: "
                                                       "expected a number, got 'high'"),
        (lambda d: d["groups"][1].update(group="A"), "groups[1].group: duplicate group 'A'"),
        (lambda d: d["inputs"].update(group_by="school"),
         "inputs.group_by: the earlier report is grouped by 'school', this one by 'city'"),
    ],
)
def test_an_earlier_file_that_is_not_a_report_is_named(tmp_path: Path, change: Any,
                                                       message: str) -> None:
    doc = _report((480.0, 3.0), {"A": (470.0, 5.0), "B": (490.0, 4.0)})
    bad = copy.deepcopy(doc)
    change(bad)
    path = _write(tmp_path, bad)
    with pytest.raises(DataFileError) as info:
        read_earlier_report(path, scale=SCALE, group_by="city")
    assert message in str(info.value)
    assert str(path) in str(info.value)
    read_earlier_report(_write(tmp_path, doc, "good.json"), scale=SCALE,
                        group_by="city")


def test_not_json_and_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "earlier.json"
    path.write_text('{"scale": {\n  "mean": 500,,\n}', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"earlier.json:2:15: invalid JSON"):
        read_earlier_report(path, scale=SCALE)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"earlier.json:1:1: \$: expected the object"):
        read_earlier_report(path, scale=SCALE)
    with pytest.raises(DataFileError, match="cannot read the file"):
        read_earlier_report(tmp_path / "absent.json", scale=SCALE)
