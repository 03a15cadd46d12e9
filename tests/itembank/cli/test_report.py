"""`itembank report`: REPORT.json's contract, design-based SEs against simple random sampling,
conditioned plausible values, and bad input named by file, row and column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from irt.models import ItemParameters, sample_responses
from itembank.bank.params_json import ParamsFile, write_params
from itembank.bank.responses_csv import ResponseData, write_responses
from itembank.cli import main


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """40 schools in 20 strata, 25 students each (ICC 0.3), gender with an effect of 0.5 SD,
    12 2PL items; weights 1 to 3."""
    rng = np.random.default_rng(5)
    params = ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": float(rng.uniform(0.8, 1.6)),
         "b": float(rng.normal())}
        for j in range(12)
    )
    n_schools, per = 40, 25
    school = np.repeat(np.arange(n_schools), per)
    gender = rng.random(school.size) < 0.5
    theta = (rng.normal(0, np.sqrt(0.3), n_schools)[school] + 0.5 * gender - 0.25
             + rng.normal(0, np.sqrt(0.7), school.size))
    x = sample_responses(params, theta, rng).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan  # rotated booklets: about 10 items each
    ids = [f"s{k:04d}" for k in range(school.size)]
    write_responses(tmp_path / "r.csv", ResponseData(ids, list(params.ids), x))
    write_params(tmp_path / "p.json", ParamsFile(params=params))
    with open(tmp_path / "bg.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "gender", "stratum", "school", "wt", "ses"])
        for k, pid in enumerate(ids):
            w.writerow([pid, "F" if gender[k] else "M", f"st{school[k] // 2}", f"sc{school[k]}",
                        f"{1 + 2 * rng.random():.3f}", f"{rng.normal():.3f}"])
    return {"r": tmp_path / "r.csv", "p": tmp_path / "p.json", "bg": tmp_path / "bg.csv",
            "out": tmp_path / "report.json"}


def _run(files: dict[str, Path], *extra: str) -> tuple[int, str, dict]:
    args = ["report", str(files["r"]), "--params", str(files["p"]), "--background",
            str(files["bg"]), "--group-by", "gender", "--seed", "3", "--out", str(files["out"]),
            *extra]
    result = CliRunner().invoke(main, args)
    doc = json.loads(files["out"].read_text()) if result.exit_code == 0 else {}
    return result.exit_code, result.output, doc


def test_report_contract_and_design_based_errors(files: dict[str, Path]) -> None:
    code, output, srs = _run(files, "--weight", "wt", "--condition-on", "ses")
    assert code == 0, output
    assert srs["variance_estimation"]["assumes_simple_random_sampling"] is True
    assert any("simple random sampling" in n for n in srs["notes"])
    code, output, jk = _run(files, "--weight", "wt", "--replicates", "jk2", "--stratum",
                            "stratum", "--psu", "school", "--condition-on", "ses")
    assert code == 0, output
    assert jk["variance_estimation"] == {
        **jk["variance_estimation"], "method": "jk2", "replicates": 20,
        "assumes_simple_random_sampling": False,
    }
    assert not any("simple random sampling" in n for n in jk["notes"])
    for group in jk["groups"]:
        assert {"n", "mean", "se_mean", "sd", "se_sd", "levels"} <= set(group)
        assert len(group["levels"]) == 6
        assert {"percent", "se_percent"} <= set(group["levels"][0])
        assert sum(lv["percent"] for lv in group["levels"]) == pytest.approx(100, abs=0.1)
    (diff,) = jk["differences"]
    assert {"difference", "se_difference"} <= set(diff)
    # F − M = 0.5 SD = 50 points; significant
    assert (diff["group_a"], diff["group_b"]) == ("F", "M")
    assert abs(diff["difference"] - 50) < 15 and diff["significant"]
    # clustered sample: the design SE of a mean is well above the SRS one
    assert jk["overall"]["se_mean"] > 1.8 * srs["overall"]["se_mean"]
    code, _, brr = _run(files, "--weight", "wt", "--replicates", "brr-fay", "--stratum",
                        "stratum", "--psu", "school")
    assert code == 0 and brr["variance_estimation"]["replicates"] == 80
    assert brr["overall"]["se_mean"] == pytest.approx(jk["overall"]["se_mean"], rel=0.35)
    assert brr["population_model"]["conditioned"] is False


def test_given_replicate_weights(files: dict[str, Path]) -> None:
    rows = list(csv.reader(files["bg"].open(encoding="utf-8")))
    rows[0] += ["rw1", "rw2", "rw3"]
    for r in rows[1:]:
        r += ["1", "2", "0"]
    with open(files["bg"], "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, output, doc = _run(files, "--replicate-weights", "rw", "--replicates", "jk2")
    assert code == 0, output
    assert doc["variance_estimation"]["method"] == "jk2"
    assert doc["variance_estimation"]["replicates"] == 3


def test_bad_input_is_named(files: dict[str, Path]) -> None:
    lines = files["bg"].read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    bad = lines[3].split(",")
    bad[head.index("wt")] = "heavy"
    lines[3] = ",".join(bad)
    files["bg"].write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    code, output, _ = _run(files, "--weight", "wt")
    assert code == 1
    assert f"r.csv:{len(lines)}:1: person 's0999' has no row in" in output
    files["bg"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output, _ = _run(files, "--weight", "wt")
    assert code == 1 and f"bg.csv:4:{head.index('wt') + 1}: --weight: wt must be a number" in output
    code, output, _ = _run(files, "--stratum", "stratum", "--psu", "school")
    assert code == 1 and "needs --replicates" in output
    code, output, _ = _run(files, "--condition-on", "nothing")
    assert code == 1 and "--condition-on: no column 'nothing'" in output


def _edit_background(files: dict[str, Path], column: str, cells: dict[int, str]) -> int:
    """Set ``column`` of the given 0-based data rows; returns the column's 1-based number."""
    rows = list(csv.reader(files["bg"].open(encoding="utf-8")))
    col = rows[0].index(column)
    for k, text in cells.items():
        rows[k + 1][col] = text
    with open(files["bg"], "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return col + 1


def test_correlations_and_trends(files: dict[str, Path]) -> None:
    _edit_background(files, "ses", {k: "" for k in range(0, 1000, 10)})  # 100 without a value
    design = ("--weight", "wt", "--replicates", "jk2", "--stratum", "stratum", "--psu", "school")
    code, output, doc = _run(files, *design, "--condition-on", "ses", "--correlate", "ses,wt")
    assert code == 0, output
    corr = {(c["index"], c["group"]): c for c in doc["correlations"]}
    assert list(corr) == [("ses", ""), ("ses", "F"), ("ses", "M"),
                          ("wt", ""), ("wt", "F"), ("wt", "M")]
    assert (corr["ses", ""]["n"], corr["wt", ""]["n"]) == (900, 1000)
    for figure in corr.values():
        assert {"r", "se_r", "ci95_r", "significant", "n"} <= set(figure)
        assert figure["ci95_r"][0] < figure["r"] < figure["ci95_r"][1]
        assert 0 < figure["se_r"] < 0.2
    bg = list(csv.DictReader(files["bg"].open(encoding="utf-8")))
    for group in ("F", "M"):
        with_value = sum(1 for r in bg if r["gender"] == group and r["ses"])
        assert corr["ses", group]["n"] == with_value < 500
    assert any("leaves out the students without a value" in n for n in doc["notes"])
    assert any("not conditioned on wt" in n for n in doc["notes"])  # ses is conditioned on
    assert not any("not conditioned on ses" in n for n in doc["notes"])
    assert "trends" not in doc and doc["inputs"]["correlate"] == ["ses", "wt"]

    earlier = files["out"].with_name("earlier.json")
    files["out"].rename(earlier)
    code, output, later = _run(files, *design, "--condition-on", "ses", "--compare-to",
                               str(earlier), "--linking-error", "0.05")
    assert code == 0, output
    old = json.loads(earlier.read_text())
    trends = later["trends"]
    # the same data, seed and design: no change; SE = √(2 se² + 5²) (0.05 logit = 5 points)
    assert trends["linking_error"]["points"] == 5.0
    assert trends["overall"]["change"] == 0.0
    se = old["overall"]["se_mean"]
    assert trends["overall"]["se_change"] == pytest.approx(np.sqrt(2 * se**2 + 25), abs=0.006)
    assert [t["group"] for t in trends["groups"]] == ["F", "M"]
    assert later["trends_missing"] == []
    assert "correlations" not in later
    code, output, later = _run(files, *design, "--compare-to", str(earlier))
    assert code == 0, output
    assert later["trends"]["linking_error"]["given"] is False
    assert any("no linking error was given" in n for n in later["notes"])


def test_correlation_and_trend_errors_are_named(files: dict[str, Path]) -> None:
    code, output, _ = _run(files, "--correlate", "ses,nothing")
    assert code == 1 and "bg.csv:1:0: --correlate: no column 'nothing'" in output
    assert not files["out"].exists()
    col = _edit_background(files, "ses", {2: "often"})
    code, output, _ = _run(files, "--correlate", "ses")
    assert code == 1 and f"bg.csv:4:{col}: --correlate: ses must be a number, got 'often'" in output
    assert not files["out"].exists()
    _edit_background(files, "ses", {k: "" for k in range(1000)})
    code, output, _ = _run(files, "--correlate", "ses")
    assert code == 1 and f"bg.csv:1:{col}: --correlate: column 'ses' has no value" in output
    assert not files["out"].exists()
    earlier = files["out"].with_name("earlier.json")
    earlier.write_text(json.dumps({"scale": {"mean": 500, "sd": 100}, "groups": []}))
    code, output, _ = _run(files, "--compare-to", str(earlier))
    assert code == 1 and "earlier.json:0:0: overall: missing" in output
    earlier.write_text(json.dumps({"scale": {"mean": 250, "sd": 50}, "overall": {},
                                   "groups": []}))
    code, output, _ = _run(files, "--compare-to", str(earlier))
    assert code == 1 and "earlier.json:0:0: scale.mean: the earlier report's scale" in output
    code, output, _ = _run(files, "--linking-error", "0.1")
    assert code == 2 and "give --compare-to too" in output
    code, output, _ = _run(files, "--compare-to", str(earlier), "--linking-error", "-1")
    assert code == 2 and "--linking-error" in output
    assert not files["out"].exists()


def _write_indices(path: Path, rows: list[list[str]]) -> Path:
    """An INDICES.csv as `itembank questionnaire scale` writes it: person_id, then per scale the
    index and its SE, blank when the student has no index."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["person_id", "ATT", "ATT_se"])
        w.writerows(rows)
    return path


def test_indices_joined_by_person_id(files: dict[str, Path]) -> None:
    rng = np.random.default_rng(8)
    ids = [f"s{k:04d}" for k in range(1000)]
    # the first 50 students have no row, the next 30 a blank index, one row is nobody's
    rows = [[pid, "" if k < 80 else f"{rng.normal():.6f}", f"{0.3 + rng.random():.6f}"]
            for k, pid in enumerate(ids) if k >= 50] + [["stranger", "1.0", "0.4"]]
    indices = _write_indices(files["r"].with_name("indices.csv"), rows)
    code, output, doc = _run(files, "--indices", str(indices), "--condition-on", "ses,ATT",
                             "--correlate", "ATT,ses")
    assert code == 0, output
    overall = {c["index"]: c for c in doc["correlations"] if c["group"] == ""}
    assert (overall["ATT"]["n"], overall["ses"]["n"]) == (920, 1000)
    assert "ATT" in doc["population_model"]["conditioned_on"]
    assert "ATT:missing" in doc["population_model"]["conditioned_on"]
    assert doc["inputs"]["indices"] == [str(indices)]
    files["out"].unlink()

    # a column of the same name as in BACKGROUND.csv, a cell that is not a number, nobody
    _write_indices(indices, [["s0001", "1.0", "0.3"]])
    text = indices.read_text(encoding="utf-8").replace("ATT_se", "ses")
    indices.write_text(text, encoding="utf-8")
    code, output, _ = _run(files, "--indices", str(indices))
    assert code == 1 and "indices.csv:1:3: column 'ses' is also in" in output
    _write_indices(indices, [["s0001", "1.0", "0.3"], ["s0002", "high", "0.3"]])
    code, output, _ = _run(files, "--indices", str(indices), "--correlate", "ATT")
    assert code == 1 and "indices.csv:3:2: --correlate: ATT must be a number, got 'high'" in output
    _write_indices(indices, [["t0001", "1.0", "0.3"]])
    code, output, _ = _run(files, "--indices", str(indices), "--correlate", "ATT")
    assert code == 1 and "indices.csv:1:1: no person_id of the responses has a row here" in output
    assert not files["out"].exists()
