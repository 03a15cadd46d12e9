"""`itembank calibrate`: writes PARAMS.json, keeps anchors exactly, names bad input by place."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from irt.models import ItemParameters, sample_responses
from itembank.bank.params_json import read_params
from itembank.bank.responses_csv import ResponseData, write_responses
from itembank.cli import main

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference-data"


def _simulated(tmp_path: Path, n: int = 800) -> tuple[Path, ItemParameters]:
    rng = np.random.default_rng(42)
    params = ItemParameters.from_records(
        [{"id": f"Q{j}", "model": "2pl", "a": 1.0 + 0.1 * j, "b": -1 + 0.3 * j} for j in range(8)]
    )
    x = sample_responses(params, rng.normal(0.3, 1.1, n), rng).astype(float)
    path = tmp_path / "responses.csv"
    write_responses(path, ResponseData([f"p{i}" for i in range(n)], list(params.ids), x))
    return path, params


def test_calibrate_writes_valid_params(tmp_path: Path) -> None:
    assert REFERENCE.is_dir(), f"reference data missing at {REFERENCE}"
    out = tmp_path / "params.json"
    result = CliRunner().invoke(
        main, ["calibrate", str(REFERENCE / "lsat7.csv"), "--model", "2pl", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert list(doc) == [
        "items",
        "population",
        "log_likelihood",
        "aic",
        "bic",
        "iterations",
        "converged",
    ]
    assert doc["converged"] is True
    pf = read_params(out)
    np.testing.assert_allclose(pf.params.a, [0.988, 1.081, 1.706, 0.765, 0.736], atol=0.01)
    assert set(pf.se["I1"]) >= {"a", "b"}


def test_item_models_file_mixes_models(tmp_path: Path) -> None:
    models = tmp_path / "models.csv"
    models.write_text("item_id,model\nBenefit,gpcm\n")
    out = tmp_path / "params.json"
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(REFERENCE / "science.csv"),
            "--model",
            "grm",
            "--item-models",
            str(models),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    pf = read_params(out)
    assert pf.params.models == ("grm", "grm", "grm", "gpcm")
    assert abs(pf.params.a[3] - 0.771) < 0.01


def test_anchors_are_kept_exactly(tmp_path: Path) -> None:
    responses, params = _simulated(tmp_path)
    anchors = tmp_path / "anchors.json"
    anchor_items = params.subset([0, 2, 4, 6])
    recs = anchor_items.to_records()
    recs[0]["a"] = 1.0123456789012345  # a value calibration would never reproduce by chance
    anchors.write_text(json.dumps({"items": recs}))
    out = tmp_path / "params.json"
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(responses),
            "--model",
            "2pl",
            "--anchors",
            str(anchors),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    by_id = {item["id"]: item for item in doc["items"]}
    for rec in recs:
        assert by_id[rec["id"]]["a"] == rec["a"] and by_id[rec["id"]]["b"] == rec["b"]
    assert abs(doc["population"]["mean"] - 0.3) < 0.15


def test_bad_cells_are_named_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("person_id,A,B\np1,1,0\np2,x,1\np3,1\n")
    result = CliRunner().invoke(
        main, ["calibrate", str(path), "--model", "2pl", "--out", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 1
    assert f"{path}:3:2:" in result.output and f"{path}:4:" in result.output
    assert "Traceback" not in result.output


def test_score_above_dichotomous_range(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("person_id,A,B\np1,1,0\np2,0,1\n\np3,2,1\n")
    result = CliRunner().invoke(
        main, ["calibrate", str(path), "--model", "2pl", "--out", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 1
    assert f"{path}:5:2: item A: score 2 is above 1" in result.output


def test_empty_file_and_unknown_ids(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = CliRunner().invoke(
        main, ["calibrate", str(empty), "--model", "2pl", "--out", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 1 and "empty file" in result.output
    responses, _ = _simulated(tmp_path, n=100)
    models = tmp_path / "models.csv"
    models.write_text("item_id,model\nQ1,grm\nNOPE,2pl\n")
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(responses),
            "--model",
            "2pl",
            "--item-models",
            str(models),
            "--out",
            str(tmp_path / "o.json"),
        ],
    )
    assert result.exit_code == 1 and f"{models}:3:1: item 'NOPE'" in result.output
    anchors = tmp_path / "anchors.json"
    anchors.write_text(json.dumps({"items": [{"id": "ZZ", "model": "2pl", "a": 1, "b": 0}]}))
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(responses),
            "--model",
            "2pl",
            "--anchors",
            str(anchors),
            "--out",
            str(tmp_path / "o.json"),
        ],
    )
    assert result.exit_code == 1 and "items[0] (ZZ): not in" in result.output


def test_degenerate_item_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    rows = "".join(f"p{i},{i % 2},1,{(i // 2) % 2}\n" for i in range(40))
    path.write_text("person_id,A,B,C\n" + rows)
    result = CliRunner().invoke(
        main, ["calibrate", str(path), "--model", "2pl", "--out", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 1
    assert "item B: no variance" in result.output and "Traceback" not in result.output
