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
