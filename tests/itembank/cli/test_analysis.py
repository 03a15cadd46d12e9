"""`itembank score`, `itembank link` and `itembank dif`: contracts, known answers, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from irt import linking
from irt.models import ItemParameters, sample_responses
from itembank.bank.params_json import ParamsFile, write_params
from itembank.bank.responses_csv import ResponseData, write_responses
from itembank.cli import main

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference-data"
LSAT7 = ItemParameters.from_records(
    {"id": f"I{j + 1}", "model": "2pl", "a": a, "b": b}
    for j, (a, b) in enumerate(
        [(0.988, -1.879), (1.081, -0.748), (1.706, -1.058), (0.765, -0.635), (0.736, -2.520)]
    )
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_score_lsat7_eap_matches_mirt(runner: CliRunner, tmp_path: Path) -> None:
    data = REFERENCE / "lsat7.csv"
    assert data.is_file(), f"reference data missing: {data}"
    write_params(tmp_path / "p.json", ParamsFile(LSAT7))
    out = tmp_path / "scores.csv"
    res = runner.invoke(
        main,
        [
            "score",
            str(data),
            "--params",
            str(tmp_path / "p.json"),
            "--method",
            "eap",
            "--plausible-values",
            "3",
            "--seed",
            "5",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = read_csv(out)
    assert list(rows[0]) == ["person_id", "theta", "se", "pv1", "pv2", "pv3"]
    assert len(rows) == 1000 and rows[0]["person_id"] == "P00001"
    # P00001 answered 00000: mirt's EAP is -1.867
    assert float(rows[0]["theta"]) == pytest.approx(-1.867, abs=0.01)
    # same seed, same plausible values
    out2 = tmp_path / "again.csv"
    runner.invoke(
        main,
        [
            "score",
            str(data),
            "--params",
            str(tmp_path / "p.json"),
            "--method",
            "eap",
            "--plausible-values",
            "3",
            "--seed",
            "5",
            "--out",
            str(out2),
        ],
    )
    assert out.read_text() == out2.read_text()


def test_score_mle_extremes_and_missing(runner: CliRunner, tmp_path: Path) -> None:
    write_params(tmp_path / "p.json", ParamsFile(LSAT7))
    resp = tmp_path / "r.csv"
    resp.write_text("person_id,I1,I3,I5\na,0,0,0\nb,1,0,1\nc,,,\n")
    out = tmp_path / "s.csv"
    res = runner.invoke(
        main,
        [
            "score",
            str(resp),
            "--params",
            str(tmp_path / "p.json"),
            "--method",
            "mle",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = read_csv(out)
    assert rows[0]["theta"] == "-6.000000" and rows[0]["se"] == "inf"
    assert -3 < float(rows[1]["theta"]) < 3
    assert rows[2]["theta"] == "" and rows[2]["se"] == ""


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("person_id,I1,I2\na,0,x\n", ":2:3:"),
        ("person_id,I1,I9\na,0,1\n", ":1:3:"),
        ("person_id,I1,I2\na,0,1\nb,2,0\n", ":3:2:"),
    ],
)
def test_score_bad_input_names_row_and_column(
    runner: CliRunner, tmp_path: Path, content: str, where: str
) -> None:
    write_params(tmp_path / "p.json", ParamsFile(LSAT7))
    resp = tmp_path / "r.csv"
    resp.write_text(content)
    res = runner.invoke(
        main,
        [
            "score",
            str(resp),
            "--params",
            str(tmp_path / "p.json"),
            "--method",
            "wle",
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert res.exit_code == 1
    assert where in res.output and "Traceback" not in res.output


def test_link_recovers_a_known_transformation(runner: CliRunner, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    to = ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": rng.uniform(0.7, 2), "b": rng.normal()}
        for j in range(8)
    )
    frm = linking.transform(to.subset(range(1, 8)), 1 / 1.2, -0.3 / 1.2)
    write_params(tmp_path / "to.json", ParamsFile(to))
    write_params(tmp_path / "from.json", ParamsFile(frm))
    for method in linking.METHODS:
        out = tmp_path / f"{method}.json"
        res = runner.invoke(
            main,
            [
                "link",
                "--from",
                str(tmp_path / "from.json"),
                "--to",
                str(tmp_path / "to.json"),
                "--method",
                method,
                "--out",
                str(out),
            ],
        )
        assert res.exit_code == 0, res.output
        doc = json.loads(out.read_text())
        assert doc["A"] == pytest.approx(1.2, abs=1e-3)
        assert doc["B"] == pytest.approx(0.3, abs=1e-3)
        assert doc["common_items"] == [f"i{j}" for j in range(1, 8)]


def test_link_with_one_common_item_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    write_params(tmp_path / "a.json", ParamsFile(LSAT7))
    other = ItemParameters.from_records(
        [{"id": "I1", "model": "2pl", "a": 1, "b": 0}, {"id": "Z", "model": "2pl", "a": 1, "b": 1}]
    )
    write_params(tmp_path / "b.json", ParamsFile(other))
    res = runner.invoke(
        main,
        [
            "link",
            "--from",
            str(tmp_path / "a.json"),
            "--to",
            str(tmp_path / "b.json"),
            "--method",
            "haebara",
            "--out",
            str(tmp_path / "l.json"),
        ],
    )
    assert res.exit_code == 1
    assert "at least 2 common items" in res.output
    assert not (tmp_path / "l.json").exists()


def dif_files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    j, n = 12, 1200
    recs = [{"id": f"i{k}", "model": "2pl", "a": 1.2, "b": -1.5 + 0.25 * k} for k in range(j)]
    ref = ItemParameters.from_records(recs)
    recs[4] = {**recs[4], "b": recs[4]["b"] + 0.8}
    foc = ItemParameters.from_records(recs)
    scores = np.vstack(
        [
            sample_responses(ref, rng.normal(size=n), rng),
            sample_responses(foc, rng.normal(size=n), rng),
        ]
    ).astype(float)
    pids = [f"p{k}" for k in range(2 * n)]
    write_responses(tmp_path / "r.csv", ResponseData(pids, [r["id"] for r in recs], scores))
    groups = tmp_path / "g.csv"
    groups.write_text(
        "person_id,group\n"
        + "".join(f"{p},{'boys' if k < n else 'girls'}\n" for k, p in enumerate(pids))
    )
    return tmp_path / "r.csv", groups


def test_dif_flags_the_dif_item(runner: CliRunner, tmp_path: Path) -> None:
    resp, groups = dif_files(tmp_path)
    out = tmp_path / "dif.json"
    res = runner.invoke(
        main,
        [
            "dif",
            str(resp),
            "--groups",
            str(groups),
            "--reference",
            "boys",
            "--focal",
            "girls",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    items = json.loads(out.read_text())["items"]
    assert [it["id"] for it in items] == [f"i{k}" for k in range(12)]
    assert {"id", "mh_d_dif", "p_value", "ets_class"} <= set(items[0])
    assert items[4]["ets_class"] in ("B", "C") and items[4]["mh_d_dif"] < -1
    assert sum(it["ets_class"] == "A" for it in items) >= 10


def test_dif_errors_name_file_row_column(runner: CliRunner, tmp_path: Path) -> None:
    resp, groups = dif_files(tmp_path)
    lines = groups.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:-1]) + "\n")  # the last person has no group
    args = [
        "dif",
        str(resp),
        "--reference",
        "boys",
        "--focal",
        "girls",
        "--out",
        str(tmp_path / "d.json"),
    ]
    res = runner.invoke(main, [*args, "--groups", str(short)])
    assert res.exit_code == 1 and f"{resp}:2401:1:" in res.output and "p2399" in res.output
    res = runner.invoke(
        main,
        [
            "dif",
            str(resp),
            "--groups",
            str(groups),
            "--reference",
            "boys",
            "--focal",
            "Girls",
            "--out",
            str(tmp_path / "d.json"),
        ],
    )
    assert res.exit_code == 1 and f"{groups}:1:2:" in res.output and "'Girls'" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,grp\np0,boys\n")
    res = runner.invoke(main, [*args, "--groups", str(bad)])
    assert res.exit_code == 1 and f"{bad}:1:2:" in res.output
    assert "Traceback" not in res.output


def test_missing_files_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    write_params(tmp_path / "p.json", ParamsFile(LSAT7))
    for args in (
        [
            "score",
            str(tmp_path / "none.csv"),
            "--params",
            str(tmp_path / "p.json"),
            "--method",
            "eap",
            "--out",
            str(tmp_path / "s.csv"),
        ],
        [
            "link",
            "--from",
            str(tmp_path / "none.json"),
            "--to",
            str(tmp_path / "p.json"),
            "--method",
            "mean-sigma",
            "--out",
            str(tmp_path / "l.json"),
        ],
    ):
        res = runner.invoke(main, args)
        assert res.exit_code == 1 and "none." in res.output and "Traceback" not in res.output
    resp, _ = dif_files(tmp_path)
    res = runner.invoke(
        main,
        [
            "dif",
            str(resp),
            "--groups",
            str(tmp_path / "none.csv"),
            "--reference",
            "boys",
            "--focal",
            "girls",
            "--out",
            str(tmp_path / "d.json"),
        ],
    )
    assert res.exit_code == 1 and "none.csv" in res.output
