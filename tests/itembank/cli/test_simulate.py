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


def _pretest(tmp_path: Path, n: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    items = [
        {"id": f"p{j:02d}", "model": "2pl", "a": float(rng.lognormal(0.1, 0.3)),
         "b": float(rng.normal()), "c": None}
        for j in range(n)
    ]
    path = tmp_path / "pretest.json"
    path.write_text(json.dumps({"items": items, "population": {"mean": 0.0, "sd": 1.0}}))
    return path


def _simulate(tmp_path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["simulate-cat", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_pretest_does_not_change_the_adaptive_report(tmp_path: Path) -> None:
    params, pretest = _params(tmp_path, 60), _pretest(tmp_path, 5)
    common = ["--params", str(params), "--examinees", "300", "--seed", "4", "--max-items", "12"]
    plain = _simulate(tmp_path, *common)
    seeded = _simulate(
        tmp_path, *common, "--pretest", str(pretest), "--pretest-per-session", "2"
    )
    report = seeded.pop("pretest")
    for key in ("rmse", "bias", "mean_length", "item_exposure", "conditional"):
        assert seeded[key] == plain[key]  # pretest items never route, never count
    counts = report["responses_per_item"]
    assert set(counts) == {f"p{j:02d}" for j in range(5)}
    assert sum(counts.values()) == 600 and max(counts.values()) - min(counts.values()) <= 1
    assert {"rmse_a", "rmse_b", "converged", "items"} <= set(report)
    assert [i["id"] for i in report["items"]] == sorted(counts)


def test_pretest_recovery_with_3000_simulees(tmp_path: Path) -> None:
    """The issue's simulation check: pretest items seeded into adaptive sessions of 3,000
    simulees are recovered with RMSE(a) and RMSE(b) at most 0.15 (12 items, 4 per session:
    1,000 responses each)."""
    params, pretest = _params(tmp_path, 200), _pretest(tmp_path, 12)
    report = _simulate(
        tmp_path,
        "--params", str(params), "--pretest", str(pretest), "--pretest-per-session", "4",
        "--examinees", "3000", "--seed", "1", "--stop-se", "0.3", "--max-items", "30",
    )["pretest"]  # fmt: skip
    counts = list(report["responses_per_item"].values())
    assert min(counts) >= 0.9 * max(counts) and sum(counts) == 12_000
    assert report["converged"]
    assert report["rmse_b"] <= 0.15 and report["rmse_a"] <= 0.15


def test_pretest_units_from_item_attributes_and_overlap_refused(tmp_path: Path) -> None:
    params, pretest = _params(tmp_path, 40), _pretest(tmp_path, 4)
    (tmp_path / "cat.yaml").write_text(
        "item_attributes:\n"
        + "".join(f"  - {{item_id: q{j:03d}, unit: U{j}}}\n" for j in range(40))
        + "  - {item_id: p00, unit: P0}\n  - {item_id: p01, unit: P0}\n"
        + "pretest: {count: 1}\n"
    )
    report = _simulate(
        tmp_path, "--params", str(params), "--config", str(tmp_path / "cat.yaml"),
        "--pretest", str(pretest), "--examinees", "90", "--seed", "2",
    )["pretest"]  # fmt: skip
    counts = report["responses_per_item"]
    assert report["units"] == 3 and report["per_session"] == 1
    assert counts["p00"] == counts["p01"] == counts["p02"] == counts["p03"] == 30
    clash = tmp_path / "clash.json"
    clash.write_text(params.read_text())
    result = CliRunner().invoke(
        main,
        ["simulate-cat", "--params", str(params), "--pretest", str(clash),
         "--out", str(tmp_path / "x.json")],
    )  # fmt: skip
    assert result.exit_code == 1 and "also in --params" in result.output
