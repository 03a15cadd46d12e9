"""`itembank questionnaire scale`: indices that recover their generating values, reverse coding,
weighted standardisation, the invariance flags in REPORT.json, and bad input named by place."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from irt.models import ItemParameters, sample_responses
from itembank.cli import main

QUESTIONNAIRE = """\
id: Q-CLI
title: {zh-TW: 測試問卷, en: Test questionnaire}
response_scales:
  - id: agree4
    kind: agreement
    categories:
      - {zh-TW: 非常不同意, en: Strongly disagree}
      - {zh-TW: 不同意, en: Disagree}
      - {zh-TW: 同意, en: Agree}
      - {zh-TW: 非常同意, en: Strongly agree}
  - id: like5
    kind: self_description
    categories:
      - {zh-TW: 完全不像我, en: Not at all like me}
      - {zh-TW: 不太像我, en: Not much like me}
      - {zh-TW: 有點像我, en: Somewhat like me}
      - {zh-TW: 很像我, en: Mostly like me}
      - {zh-TW: 非常像我, en: Very much like me}
scales:
"""
SCALES = {"A": ("agree4", 4, "global_mindedness"), "B": ("like5", 5, "adaptability")}
PLANTED = "B3"  # 1.5 logits harder to endorse in en


def _write_questionnaire(path: Path) -> None:
    text = QUESTIONNAIRE
    for sid, (rs, _, construct) in SCALES.items():
        text += (f"  - id: {sid}\n    name: {{zh-TW: 量表{sid}, en: Scale {sid}}}\n"
                 f"    construct: {construct}\n    prompt: {{zh-TW: 請作答, en: Answer}}\n"
                 f"    response_scale: {rs}\n    items:\n")
        for j in range(1, 6):
            reverse = "\n        reverse: true" if j == 5 else ""
            text += (f"      - id: {sid}{j}{reverse}\n"
                     f"        stem: {{zh-TW: 敘述{sid}{j}, en: Statement {sid}{j}}}\n")
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """1,500 students in two languages with weights; two scales of five items, the fifth item of
    each reverse-coded; item B3 non-invariant in en."""
    tmp = tmp_path_factory.mktemp("questionnaire")
    rng = np.random.default_rng(2112)
    n = 1500
    lang = np.where(rng.random(n) < 0.5, "en", "zh-TW")
    weight = np.round(rng.uniform(0.5, 3.0, n), 3)
    truth, cols, blocks = {}, [], []
    for sid, (_, k, _) in SCALES.items():
        theta = rng.normal(size=n)
        truth[sid] = theta
        records = [
            {"id": f"{sid}{j}", "model": "gpcm", "a": float(rng.uniform(0.9, 2.0)),
             "b": sorted(float(c) for c in rng.normal(-0.3, 0.4) + np.linspace(-1.2, 1.2, k - 1))}
            for j in range(1, 6)
        ]
        x = sample_responses(ItemParameters.from_records(records), theta, rng).astype(float)
        if sid == "B":
            records[2]["b"] = [b + 1.5 for b in records[2]["b"]]
            en = lang == "en"
            x[en, 2] = sample_responses(ItemParameters.from_records(records), theta[en], rng)[:, 2]
        x[:, 4] = (k - 1) - x[:, 4]  # the reverse-coded statement as ticked
        x[rng.random(x.shape) < 0.02] = np.nan
        cols += [r["id"] for r in records]
        blocks.append(x)
    x = np.hstack(blocks)
    with open(tmp / "r.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["person_id", "language", "weight", *cols, "TEST01"])
        for i in range(n):
            w.writerow([f"p{i:04d}", lang[i], weight[i],
                        *("" if np.isnan(v) else int(v) for v in x[i]), int(rng.random() < 0.5)])
    _write_questionnaire(tmp / "q.yaml")
    result = CliRunner().invoke(main, [
        "questionnaire", "scale", str(tmp / "r.csv"), "--questionnaire", str(tmp / "q.yaml"),
        "--weight", "weight", "--group", "language", "--out", str(tmp / "i.csv"),
        "--report", str(tmp / "rep.json"),
    ])
    assert result.exit_code == 0, result.output
    with open(tmp / "i.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"dir": tmp, "truth": truth, "weight": weight, "rows": rows, "output": result.output,
            "report": json.loads((tmp / "rep.json").read_text(encoding="utf-8"))}


def test_indices_recover_their_generating_values(trial: dict) -> None:
    rows = trial["rows"]
    assert list(rows[0]) == ["person_id", "A", "A_se", "B", "B_se"]
    for sid in SCALES:
        index = np.array([float(r[sid]) for r in rows])
        assert np.corrcoef(index, trial["truth"][sid])[0, 1] >= 0.8
        # weighted mean 0 and SD 1 (--weight)
        w = trial["weight"]
        mean = np.sum(w * index) / w.sum()
        assert abs(mean) < 1e-5
        assert np.sqrt(np.sum(w * (index - mean) ** 2) / w.sum()) == pytest.approx(1.0, abs=1e-5)


def test_reverse_coded_items_are_turned_round_before_scaling(trial: dict) -> None:
    for scale in trial["report"]["scales"]:
        items = {i["id"]: i for i in scale["items"]}
        assert items[f"{scale['id']}5"]["reverse"] is True
        assert all(i["a"] > 0.5 for i in items.values()), items  # no negative slope
        assert all(i["model"] == "gpcm" for i in items.values())


def test_the_planted_non_invariant_item_is_the_one_flagged(trial: dict) -> None:
    report = trial["report"]
    # two groups of equal size: the pooled curve lies halfway, so both see the difference
    assert {(f["scale"], f["item"]) for f in report["flags"]} == {("B", PLANTED)}
    assert ("B", PLANTED, "en") in {(f["scale"], f["item"], f["group"]) for f in report["flags"]}
    assert f"item {PLANTED}, group en" in trial["output"]
    scale_b = next(s for s in report["scales"] if s["id"] == "B")
    groups = {g["group"]: g for g in scale_b["invariance"]["groups"]}
    assert set(groups) == {"en", "zh-TW"}
    assert all(len(i["rmsd_by_category"]) == 5 for i in groups["en"]["items"])
    assert scale_b["construct"] == "adaptability" and scale_b["reliability"] > 0.6


def _run(tmp: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["questionnaire", "scale", *args, "--out", str(tmp / "o.csv")])
    return result.exit_code, result.output


def test_bad_input_is_named_by_place(trial: dict, tmp_path: Path) -> None:
    src: Path = trial["dir"]  # type: ignore[assignment]
    q = str(src / "q.yaml")
    lines = (src / "r.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    # a score above the response scale's top
    row = lines[2].split(",")
    row[header.index("A1")] = "4"
    (tmp_path / "high.csv").write_text("\n".join([lines[0], lines[1], ",".join(row)]) + "\n",
                                       encoding="utf-8")
    code, out = _run(tmp_path, str(tmp_path / "high.csv"), "--questionnaire", q,
                     "--weight", "weight", "--group", "language")
    assert code == 1
    assert f"high.csv:3:{header.index('A1') + 1}: item A1: score 4 is above 3" in out
    # a questionnaire item without a column
    keep = [k for k, h in enumerate(header) if h != "B2"]
    (tmp_path / "gap.csv").write_text(
        "\n".join(",".join(line.split(",")[k] for k in keep) for line in lines) + "\n",
        encoding="utf-8")
    code, out = _run(tmp_path, str(tmp_path / "gap.csv"), "--questionnaire", q,
                     "--weight", "weight", "--group", "language")
    assert code == 1 and "scale B: no column for item(s) B2" in out
    # --reference needs --group; an unknown reference group
    code, out = _run(tmp_path, str(src / "r.csv"), "--questionnaire", q, "--reference", "en")
    assert code == 2 and "give --group too" in out
    code, out = _run(tmp_path, str(src / "r.csv"), "--questionnaire", q, "--weight", "weight",
                     "--group", "language", "--reference", "fr")
    assert code != 0 and "no person has it" in out
    # a broken questionnaire file
    (tmp_path / "bad.yaml").write_text(
        (src / "q.yaml").read_text(encoding="utf-8").replace("response_scale: like5",
                                                             "response_scale: like7"),
        encoding="utf-8")
    code, out = _run(tmp_path, str(src / "r.csv"), "--questionnaire", str(tmp_path / "bad.yaml"),
                     "--weight", "weight")
    assert code == 1 and "bad.yaml:" in out and "no response scale 'like7'" in out


def test_free_flagged_gives_the_flagged_item_parameters_per_language(trial: dict, tmp_path: Path) -> None:
    src: Path = trial["dir"]  # type: ignore[assignment]
    result = CliRunner().invoke(main, [
        "questionnaire", "scale", str(src / "r.csv"), "--questionnaire", str(src / "q.yaml"),
        "--weight", "weight", "--group", "language", "--free-flagged",
        "--out", str(tmp_path / "i.csv"), "--report", str(tmp_path / "rep.json"),
    ])
    assert result.exit_code == 0, result.output
    assert f"scale B: group-specific parameters for {PLANTED}" in result.output
    report = json.loads((tmp_path / "rep.json").read_text(encoding="utf-8"))
    scale_b = next(s for s in report["scales"] if s["id"] == "B")
    assert scale_b["freed"] == [PLANTED]
    ids = [i["id"] for i in scale_b["items"]]
    assert f"{PLANTED}[en]" in ids and f"{PLANTED}[zh-TW]" in ids and PLANTED not in ids
    assert next(s for s in report["scales"] if s["id"] == "A")["freed"] == []
    code, out = _run(tmp_path, str(src / "r.csv"), "--questionnaire", str(src / "q.yaml"),
                     "--free-flagged")
    assert code == 2 and "give --group" in out
