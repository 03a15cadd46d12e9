"""PARAMS.json: the contract's shape, exact round trip, bad content named by its JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from irt.models import ItemParameters
from itembank.bank.params_json import ParamsFile, read_params, write_params
from itembank.errors import DataFileError

RECORDS = [
    {"id": "d1", "model": "2pl", "a": 1.2345678901234567, "b": -0.1, "c": None},
    {"id": "r1", "model": "rasch", "a": 1.0, "b": 0.3, "c": None},
    {"id": "t1", "model": "3pl", "a": 0.9, "b": 0.5, "c": 0.2},
    {"id": "g1", "model": "grm", "a": 1.1, "b": [-1.0, 0.0, 1.5], "c": None},
    {"id": "p1", "model": "gpcm", "a": 0.7, "b": [0.4, -0.2], "c": None},
]


def _pf() -> ParamsFile:
    return ParamsFile(
        params=ItemParameters.from_records(RECORDS),
        se={"d1": {"a": 0.1, "b": 0.2}, "g1": {"a": 0.1, "b": [0.1, 0.2, 0.3]}},
        fit={"d1": {"n_responses": 100}},
        population={"mean": 0.5, "sd": 1.2},
        log_likelihood=-123.4,
        aic=260.0,
        bic=280.0,
        iterations=17,
        converged=True,
    )


def test_contract_shape_and_order(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    write_params(path, _pf())
    text = path.read_text()
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert list(doc) == [
        "items",
        "population",
        "log_likelihood",
        "aic",
        "bic",
        "iterations",
        "converged",
    ]
    assert list(doc["items"][0]) == ["id", "model", "a", "b", "c", "se", "fit"]
    assert doc["items"][3]["b"] == [-1.0, 0.0, 1.5]
    assert doc["items"][0]["b"] == -0.1
    assert doc["items"][2]["c"] == 0.2


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    write_params(path, _pf())
    back = read_params(path)
    np.testing.assert_array_equal(back.params.a, _pf().params.a)
    np.testing.assert_array_equal(back.params.b, _pf().params.b)
    assert back.params.models == _pf().params.models
    assert back.population == {"mean": 0.5, "sd": 1.2}
    assert back.iterations == 17 and back.converged is True
    path2 = tmp_path / "q.json"
    write_params(path2, back)
    assert path2.read_text() == path.read_text()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"model": "4pl"}, "items[0] (d1).model"),
        ({"b": [0.1, 0.2]}, "items[0] (d1).b"),
        ({"id": None}, "items[0].id"),
        ({"a": "big"}, "items[0] (d1).a"),
    ],
)
def test_bad_content_named(tmp_path: Path, change: dict, where: str) -> None:
    doc = {"items": [dict(RECORDS[0], **change), RECORDS[3]]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match=__import__("re").escape(where)):
        read_params(path)


def test_grm_wrong_order_and_duplicate(tmp_path: Path) -> None:
    doc = {"items": [dict(RECORDS[3], b=[1.0, 0.0]), RECORDS[3]]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFileError) as info:
        read_params(path)
    text = str(info.value)
    assert "must increase" in text and "duplicate item id" in text


def test_negative_slope_grm_from_calibration_reads_back(tmp_path: Path) -> None:
    """A GRM item calibrated with a negative slope has b = -d/a decreasing; the file the
    calibration writes must be readable (score, link, --anchors) and give the same
    probabilities."""
    import warnings

    from irt.calibration import CalibrationWarning, Calibrator
    from irt.models import category_probabilities, sample_responses
    from irt.scoring import eap
    from itembank.bank.params_json import params_file_from_result

    rng = np.random.default_rng(11)
    true = ItemParameters.from_records(
        [{"id": "neg", "model": "grm", "a": -1.3, "b": [0.8, -0.6], "c": None}]
        + [
            {"id": f"g{j}", "model": "grm", "a": 1.2, "b": [-1.0 + 0.3 * j, 0.5 + 0.2 * j]}
            for j in range(5)
        ]
    )
    x = sample_responses(true, rng.normal(size=1500), rng).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        result = Calibrator("grm", se_method="none").fit(x, list(true.ids))
    assert result.params.a[0] < 0
    assert result.params.b[0, 0] > result.params.b[0, 1]  # decreasing, as written
    path = tmp_path / "p.json"
    write_params(path, params_file_from_result(result))
    back = read_params(path).params
    theta = np.linspace(-3, 3, 7)
    np.testing.assert_array_equal(
        category_probabilities(back, theta), category_probabilities(result.params, theta)
    )
    assert np.all(category_probabilities(back, theta) > 0)
    assert np.all(np.isfinite(eap(back, x[:10]).theta))


def test_grm_order_follows_the_slope(tmp_path: Path) -> None:
    rec = dict(RECORDS[3], a=-1.1, b=[-1.0, 0.0, 1.5])  # increasing with a < 0: disordered
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"items": [rec]}))
    with pytest.raises(DataFileError, match=r"items\[0\] \(g1\)\.b: GRM .*decrease when a < 0"):
        read_params(path)


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"items": [\n  {"id": "x",}\n]}')
    with pytest.raises(DataFileError) as info:
        read_params(path)
    assert info.value.problems[0].line == 2
