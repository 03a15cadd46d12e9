"""``itembank simulate-cat``: the report's contract keys, the plot, units from CAT.yaml, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from itembank.cli import main

CONTRACT = (
    "mean_length",
    "median_length",
    "rmse",
    "bias",
    "max_exposure",
    "overlap_rate",
    "seconds_per_selection",
    "conditional",
)


def _params(tmp_path: Path, n: int = 80) -> Path:
    rng = np.random.default_rng(1)
    items = [
        {
            "id": f"q{j:03d}",
            "model": "2pl",
            "a": float(rng.lognormal(0.1, 0.3)),
            "b": float(rng.normal()),
            "c": None,
        }
        for j in range(n)
    ]
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"items": items, "population": {"mean": 0.0, "sd": 1.0}}))
    return path


def test_report_and_plot(tmp_path: Path) -> None:
    params = _params(tmp_path)
    out, png = tmp_path / "report.json", tmp_path / "report.png"
    result = CliRunner().invoke(
        main,
        [
            "simulate-cat",
            "--params",
            str(params),
            "--examinees",
            "120",
            "--seed",
            "3",
            "--stop-se",
            "0.35",
            "--max-items",
            "15",
            "--exposure",
            "randomesque",
            "--out",
            str(out),
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    for key in CONTRACT:
        assert key in report
    assert report["examinees"] == 120 and report["median_length"] <= 15
    assert report["config"]["stopping"]["max_items"] == 15  # the option wins
    assert report["replayed_sessions"]["identical"] == report["replayed_sessions"]["n"]
    cond = report["conditional"]
    assert len(cond) == 10 and sum(c["n"] for c in cond) == 120
    assert {"bias", "rmse", "mean_length", "n"} <= set(cond[0])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_units_from_item_attributes_and_sympson_hetter(tmp_path: Path) -> None:
    params = _params(tmp_path, 60)
    rows = ["item_id,unit,dimension,domain,auto_scored"]
    rows += [f"q{j:03d},U{j // 3},dim{j % 2},dom,true" for j in range(60)]
    rows.append("essay,U0,dim0,dom,false")
    (tmp_path / "attributes.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "cat.yaml").write_text(
        "item_attributes: attributes.csv\n"
        "stopping: {se: 0.3, max_items: 12}\n"
        "exposure: {method: sympson-hetter, max_rate: 0.5}\n"
    )
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main,
        [
            "simulate-cat",
            "--params",
            str(params),
            "--config",
            str(tmp_path / "cat.yaml"),
            "--examinees",
            "100",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["median_length"] % 3 in (0, 1)  # whole units of 3 (+ the essay in U0)
    assert "parameters" in report["config"]["exposure"]
    exposure = report["item_exposure"]
    assert exposure["essay"] == exposure["q000"] == exposure["q002"]


def test_bad_config_names_the_field(tmp_path: Path) -> None:
    params = _params(tmp_path, 10)
    (tmp_path / "cat.yaml").write_text("stopping:\n  se: -0.1\n")
    result = CliRunner().invoke(
        main,
        [
            "simulate-cat",
            "--params",
            str(params),
            "--config",
            str(tmp_path / "cat.yaml"),
            "--examinees",
            "5",
            "--out",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 1
    assert "stopping.se" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        main,
        [
            "simulate-cat",
            "--params",
            str(params),
            "--max-items",
            "0",
            "--examinees",
            "5",
            "--out",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 1 and "stopping.max_items" in result.output
    assert not (tmp_path / "r.json").exists()
