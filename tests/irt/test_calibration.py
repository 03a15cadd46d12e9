"""MML-EM calibration: known answers from mirt, parameter recovery, anchors, degenerate items."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from irt.calibration import CalibrationError, CalibrationWarning, Calibrator, calibrate
from irt.models import ItemParameters, sample_responses
from irt.priors import Priors

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data"


def _reference(name: str) -> tuple[list[str], np.ndarray]:
    path = REFERENCE / name
    assert path.is_file(), f"reference data missing: {path} (see shared/reference-data/README.md)"
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0][1:], np.array([[float(v) for v in r[1:]] for r in rows[1:]])


def _fit(name: str, models, **kw):
    ids, x = _reference(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        return calibrate(x, models, item_ids=ids, tol=1e-5, **kw)


# -- known answers (mirt, shared/reference-data/README.md) -------------------------------------
def test_lsat7_2pl_matches_mirt() -> None:
    res = _fit("lsat7.csv", "2pl")
    np.testing.assert_allclose(res.params.a, [0.988, 1.081, 1.706, 0.765, 0.736], atol=0.01)
    np.testing.assert_allclose(
        res.params.b[:, 0], [-1.879, -0.748, -1.058, -0.635, -2.520], atol=0.01
    )
    assert res.converged and res.population_mean == 0.0 and res.population_sd == 1.0


def test_lsat7_standard_errors_match_mirt_intervals() -> None:
    res = _fit("lsat7.csv", "2pl")
    # 95% intervals from mirt → SE = width / 3.92
    assert res.se["I1"]["a"] == pytest.approx((1.338 - 0.637) / 3.92, abs=0.02)
    assert res.se["I1"]["d"] == pytest.approx((2.114 - 1.598) / 3.92, abs=0.02)
    assert res.se["I3"]["a"] == pytest.approx((2.328 - 1.087) / 3.92, abs=0.02)
    assert res.se["I4"]["d"] == pytest.approx((0.661 - 0.311) / 3.92, abs=0.02)


def test_lsat7_xpd_standard_errors_are_close() -> None:
    res = _fit("lsat7.csv", "2pl", se_method="xpd")
    assert res.se["I1"]["a"] == pytest.approx(0.179, abs=0.04)


def test_lsat6_rasch_matches_mirt() -> None:
    res = _fit("lsat6.csv", "rasch")
    np.testing.assert_allclose(
        res.params.b[:, 0], [-2.730, -0.999, -0.240, -1.306, -2.099], atol=0.01
    )
    assert res.population_sd**2 == pytest.approx(0.570, abs=0.01)
    assert "sd" in res.population_se and "mean" not in res.population_se


def test_science_grm_matches_mirt() -> None:
    res = _fit("science.csv", "grm")
    np.testing.assert_allclose(res.params.a, [1.041, 1.226, 2.296, 1.095], atol=0.01)
    expected_b = [
        [-4.672, -2.536, 1.408],
        [-2.385, -0.735, 1.848],
        [-2.281, -0.965, 0.856],
        [-3.058, -0.906, 1.542],
    ]
    np.testing.assert_allclose(res.params.b, expected_b, atol=0.01)


def test_science_mixed_grm_gpcm_matches_mirt() -> None:
    models = {"Comfort": "grm", "Work": "grm", "Future": "grm", "Benefit": "gpcm"}
    res = _fit("science.csv", models)
    assert res.params.models == ("grm", "grm", "grm", "gpcm")
    np.testing.assert_allclose(res.params.a, [1.057, 1.219, 2.254, 0.771], atol=0.01)
    np.testing.assert_allclose(res.params.b[3], [-2.802, -1.054, 1.564], atol=0.01)


def test_fit_statistics_are_consistent() -> None:
    res = _fit("lsat7.csv", "2pl")
    assert res.n_parameters == 10
    assert res.aic == pytest.approx(-2 * res.log_likelihood + 20)
    assert res.bic == pytest.approx(-2 * res.log_likelihood + 10 * np.log(1000))
    assert "I3" in res.summary() and "converged: True" in res.summary()


# -- recovery in simulation --------------------------------------------------------------------
def _items(model: str, n_items: int, rng: np.random.Generator) -> ItemParameters:
    recs = []
    for j in range(n_items):
        a = float(rng.uniform(0.8, 2.0))
        if model in ("2pl", "3pl"):
            b: float | list[float] = float(rng.uniform(-1.5, 1.5))
        elif model == "grm":
            b = sorted(rng.uniform(-2, 2, 3).tolist())
        else:
            b = rng.uniform(-1.5, 1.5, 3).tolist()
        c = float(rng.uniform(0.1, 0.25)) if model == "3pl" else None
        recs.append({"id": f"{model}{j}", "model": model, "a": a, "b": b, "c": c})
    return ItemParameters.from_records(recs)


def _booklets(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """3 clusters rotated over 3 booklets: each person sees 2 of the 3 clusters."""
    n, j = x.shape
    cluster = np.arange(j) % 3
    booklet = rng.integers(0, 3, n)
    seen = (cluster[None, :] == booklet[:, None]) | (cluster[None, :] == (booklet[:, None] + 1) % 3)
    return np.where(seen, x.astype(float), np.nan)


@pytest.mark.parametrize("design", ["complete", "booklets"])
@pytest.mark.parametrize(
    ("model", "n_persons", "tol_a", "tol_b"),
    [
        ("2pl", 3000, 0.12, 0.12),
        ("3pl", 5000, 0.3, 0.3),
        ("grm", 2000, 0.12, 0.12),
        ("gpcm", 2000, 0.15, 0.2),
    ],
)
def test_parameter_recovery(
    model: str, n_persons: int, tol_a: float, tol_b: float, design: str
) -> None:
    rng = np.random.default_rng(20261125)
    true = _items(model, 15, rng)
    x = sample_responses(true, rng.normal(size=n_persons), rng).astype(float)
    if design == "booklets":
        x = _booklets(x, rng)
        assert np.isnan(x).mean() == pytest.approx(1 / 3, abs=0.02)
    priors = Priors(c=(5, 17)) if model == "3pl" else None
    res = Calibrator(model, priors=priors, se_method="none").fit(x, list(true.ids))
    assert res.converged
    rmse_a = np.sqrt(np.mean((res.params.a - true.a) ** 2))
    mask = ~np.isnan(true.b)
    rmse_b = np.sqrt(np.mean((res.params.b[mask] - true.b[mask]) ** 2))
    assert rmse_a < tol_a, rmse_a
    assert rmse_b < tol_b, rmse_b
    if model == "3pl":
        assert np.sqrt(np.mean((res.params.c - true.c) ** 2)) < 0.08


@pytest.mark.parametrize(("model", "max_cycles"), [("2pl", 20), ("grm", 20), ("gpcm", 40)])
def test_accelerated_em_stops_near_the_maximum_in_few_cycles(model: str, max_cycles: int) -> None:
    # plain EM needed 27 (2PL), 31 (GRM) and 89 (GPCM) cycles here and stopped 2-4 times
    # farther from the maximum; SQUAREM must not trade that for accuracy
    rng = np.random.default_rng(8)
    true = _items(model, 20, rng)
    x = sample_responses(true, rng.normal(size=3000), rng).astype(float)
    res = Calibrator(model, se_method="none").fit(x)
    tight = Calibrator(model, se_method="none", tol=1e-7, max_iter=2000).fit(x)
    assert res.converged and tight.converged
    assert res.iterations <= max_cycles, res.iterations
    assert np.abs(res.params.a - tight.params.a).max() < 2e-4
    assert np.nanmax(np.abs(res.params.b - tight.params.b)) < 2e-3
    assert res.log_likelihood == pytest.approx(tight.log_likelihood, abs=1e-2)


def test_pcm_reports_gpcm_with_unit_slope() -> None:
    rng = np.random.default_rng(3)
    true = ItemParameters.from_records(
        [
            {"id": f"p{j}", "model": "gpcm", "a": 1.0, "b": rng.uniform(-1, 1, 2).tolist()}
            for j in range(8)
        ]
    )
    x = sample_responses(true, rng.normal(0, 1.3, 3000), rng).astype(float)
    res = Calibrator("pcm", se_method="none").fit(x, list(true.ids))
    assert set(res.params.models) == {"gpcm"} and np.all(res.params.a == 1.0)
    assert res.population_sd == pytest.approx(1.3, abs=0.08)
    assert np.sqrt(np.mean((res.params.b - true.b) ** 2)) < 0.1


def test_anchored_calibration_recovers_population_and_keeps_anchors_exactly() -> None:
    rng = np.random.default_rng(11)
    anchors = _items("2pl", 12, rng)
    new = ItemParameters.from_records(
        [dict(r, id=f"new{k}") for k, r in enumerate(_items("2pl", 8, rng).to_records())]
    )
    both = ItemParameters.from_records(anchors.to_records() + new.to_records())
    x = sample_responses(both, rng.normal(0.5, 1.2, 5000), rng).astype(float)
    res = Calibrator("2pl", anchors=anchors, se_method="xpd").fit(x, list(both.ids))
    assert res.population_mean == pytest.approx(0.5, abs=0.08)
    assert res.population_sd == pytest.approx(1.2, abs=0.08)
    k = res.params.index(anchors.ids)
    assert np.array_equal(res.params.a[k], anchors.a)  # bit-identical
    assert np.array_equal(res.params.b[k, :1], anchors.b)
    assert res.anchored == frozenset(anchors.ids)
    assert all(i not in res.se for i in anchors.ids)
    kn = res.params.index(new.ids)
    assert np.sqrt(np.mean((res.params.a[kn] - new.a) ** 2)) < 0.15
    assert np.sqrt(np.mean((res.params.b[kn, 0] - new.b[:, 0]) ** 2)) < 0.12
    assert {"mean", "sd"} <= set(res.population_se)


def test_girth_cross_check_2pl_and_grm() -> None:
    girth = pytest.importorskip("girth")  # a dev dependency; installed in the project venv
    rng = np.random.default_rng(5)
    true = _items("2pl", 10, rng)
    x = sample_responses(true, rng.normal(size=3000), rng)
    ours = Calibrator("2pl", se_method="none").fit(x.astype(float))
    theirs = girth.twopl_mml(x.T.astype(int))
    np.testing.assert_allclose(ours.params.a, theirs["Discrimination"], atol=0.05)
    np.testing.assert_allclose(ours.params.b[:, 0], theirs["Difficulty"], atol=0.05)
    true = _items("grm", 6, rng)
    x = sample_responses(true, rng.normal(size=2000), rng)
    ours = Calibrator("grm", se_method="none").fit(x.astype(float))
    theirs = girth.grm_mml(x.T.astype(int) + 1)  # girth's categories start at 1
    np.testing.assert_allclose(ours.params.a, theirs["Discrimination"], atol=0.06)
    np.testing.assert_allclose(ours.params.b, theirs["Difficulty"][:, :3], atol=0.06)


# -- reports: degenerate items, non-convergence, progress --------------------------------------
def _small(rng: np.random.Generator, n: int = 500) -> np.ndarray:
    return sample_responses(_items("2pl", 6, rng), rng.normal(size=n), rng).astype(float)


def test_item_without_variance_is_refused_by_name() -> None:
    x = _small(np.random.default_rng(1))
    x[:, 2] = 1.0
    with pytest.raises(CalibrationError, match=r"item I3: no variance"):
        Calibrator("2pl").fit(x)


def test_item_without_variance_can_be_dropped() -> None:
    x = _small(np.random.default_rng(1))
    x[:, 2] = 0.0
    with pytest.warns(CalibrationWarning, match="I3 dropped"):
        res = Calibrator("2pl", drop_degenerate=True, se_method="none").fit(x)
    assert "I3" not in res.params.ids and "I3" in res.dropped
    assert res.flags["I3"] == ["no_variance"]


def test_unobserved_category_is_refused() -> None:
    rng = np.random.default_rng(2)
    x = sample_responses(_items("grm", 4, rng), rng.normal(size=400), rng).astype(float)
    x[x[:, 1] == 1, 1] = 0  # category 1 of item 2 never occurs
    with pytest.raises(CalibrationError, match=r"item I2: score categories \[1\]"):
        Calibrator("grm").fit(x)


def test_score_above_dichotomous_range_names_row_and_item() -> None:
    x = _small(np.random.default_rng(3))
    x[7, 4] = 2
    with pytest.raises(CalibrationError, match=r"item I5, person row 8: score 2"):
        Calibrator("2pl").fit(x)


def test_negative_discrimination_is_flagged() -> None:
    rng = np.random.default_rng(4)
    true = ItemParameters.from_records(
        [
            {"id": f"i{j}", "model": "2pl", "a": -1.2 if j == 0 else 1.3, "b": 0.2 * j - 0.5}
            for j in range(8)
        ]
    )
    x = sample_responses(true, rng.normal(size=1500), rng).astype(float)
    with pytest.warns(CalibrationWarning, match="i0: negative discrimination"):
        res = Calibrator("2pl", se_method="none").fit(x, list(true.ids))
    assert res.flags["i0"] == ["negative_discrimination"]
    assert res.params.a[0] < 0


def test_non_convergence_is_reported() -> None:
    calls: list[tuple[int, int, float]] = []
    x = _small(np.random.default_rng(6))
    with pytest.warns(CalibrationWarning, match="did not converge in 2 iterations"):
        res = Calibrator(
            "2pl", max_iter=2, se_method="none", progress=lambda *a: calls.append(a)
        ).fit(x)
    assert res.converged is False and res.iterations == 2
    assert [c[:2] for c in calls] == [(1, 2), (2, 2)]


def test_unknown_anchor_or_model_is_refused() -> None:
    x = _small(np.random.default_rng(7))
    with pytest.raises(CalibrationError, match="anchors name items not in the data"):
        Calibrator(anchors=[{"id": "Z9", "model": "2pl", "a": 1.0, "b": 0.0}]).fit(x)
    with pytest.raises(CalibrationError, match="unknown model"):
        Calibrator("4pl").fit(x)


def test_tight_tolerance_is_met_in_double_precision() -> None:
    """The single-precision E-step cannot resolve changes below ~1e-7; a tol of 1e-8 must still
    converge (the E-step switches to double precision) and agree with mirt."""
    ids, x = _reference("lsat7.csv")
    changes: list[float] = []
    res = calibrate(
        x, "2pl", item_ids=ids, tol=1e-8, max_iter=500, se_method="none",
        progress=lambda i, m, c: changes.append(c),
    )
    assert res.converged and res.iterations < 200
    assert changes[-1] < 1e-8
    np.testing.assert_allclose(res.params.a, [0.988, 1.081, 1.706, 0.765, 0.736], atol=0.01)
    loose = calibrate(x, "2pl", item_ids=ids, tol=1e-5, se_method="none")
    np.testing.assert_allclose(res.params.a, loose.params.a, atol=5e-4)
    assert res.log_likelihood >= loose.log_likelihood - 1e-9


@pytest.mark.parametrize(
    ("model", "n_items"), [("2pl", 1), ("2pl", 2), ("rasch", 1), ("3pl", 2)]
)
def test_a_model_the_data_cannot_identify_is_refused(model: str, n_items: int) -> None:
    _, x = _reference("lsat7.csv")
    with pytest.raises(CalibrationError, match="not identified"):
        calibrate(x[:, :n_items], model, priors=Priors(c=None))


def test_identified_small_designs_still_fit() -> None:
    _, x = _reference("lsat7.csv")
    assert calibrate(x[:, :3], "2pl", se_method="none").converged  # 6 parameters, 7 proportions
    # a prior on every parameter makes the posterior mode unique even for one item
    one = calibrate(x[:, :1], "2pl", priors=Priors(a=(0.0, 0.5), b=(0.0, 2.0)), se_method="none")
    assert one.converged
    # one free item beside anchored ones is identified
    anchors = [{"id": f"I{j + 1}", "model": "2pl", "a": a, "b": b} for j, (a, b) in
               enumerate([(0.988, -1.879), (1.081, -0.748), (1.706, -1.058), (0.765, -0.635)])]
    res = calibrate(x, "2pl", anchors=anchors, se_method="none")
    assert res.converged and abs(res.params.a[4] - 0.736) < 0.1
