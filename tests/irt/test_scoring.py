"""Ability estimation: known answers from mirt (lsat7), recovery, extreme patterns, invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irt import scoring
from irt.models import (
    ItemParameters,
    category_probabilities,
    item_information,
    log_likelihood,
    sample_responses,
)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data"

# 2PL estimates for lsat7 as published in reference-data/README.md (mirt, logistic metric)
LSAT7 = ItemParameters.from_records(
    {"id": f"I{j + 1}", "model": "2pl", "a": a, "b": b}
    for j, (a, b) in enumerate(
        [(0.988, -1.879), (1.081, -0.748), (1.706, -1.058), (0.765, -0.635), (0.736, -2.520)]
    )
)
EAP_LSAT7 = [-1.867, -1.527, -1.513, -1.185, -1.095, -0.767]
MAP_LSAT7 = [-1.817, -1.495, -1.482, -1.179, -1.096, -0.795]


def mixed_params() -> ItemParameters:
    return ItemParameters.from_records(
        [
            {"id": "r1", "model": "rasch", "b": -0.5},
            {"id": "p2", "model": "2pl", "a": 1.4, "b": 0.3},
            {"id": "p3", "model": "3pl", "a": 1.1, "b": 0.0, "c": 0.2},
            {"id": "g4", "model": "grm", "a": 1.2, "b": [-1.0, 0.2, 1.1]},
            {"id": "c5", "model": "gpcm", "a": 0.8, "b": [-0.7, 0.9]},
            {"id": "p6", "model": "2pl", "a": 0.7, "b": -1.2},
        ]
    )


def lsat7_patterns() -> np.ndarray:
    path = REFERENCE / "lsat7.csv"
    assert path.is_file(), f"reference data missing: {path} (see shared/reference-data/README.md)"
    data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    scores = data[:, 1:].astype(float)
    patterns = np.unique(scores, axis=0)  # lexicographic order, as in mirt's fscores table
    return patterns[:6]


def test_lsat7_patterns_are_the_published_ones() -> None:
    expected = [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0]]
    np.testing.assert_array_equal(lsat7_patterns()[:3], expected)


def test_eap_reproduces_mirt_on_lsat7() -> None:
    est = scoring.eap(LSAT7, lsat7_patterns())
    np.testing.assert_allclose(est.theta, EAP_LSAT7, atol=0.01)
    assert est.method == "eap"
    assert np.all(est.se > 0) and np.all(est.se < 1)


def test_map_reproduces_mirt_on_lsat7() -> None:
    est = scoring.map_estimate(LSAT7, lsat7_patterns())
    np.testing.assert_allclose(est.theta, MAP_LSAT7, atol=0.01)
    assert est.method == "map"


def long_test(n_items: int, rng: np.random.Generator) -> ItemParameters:
    return ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": a, "b": b}
        for j, (a, b) in enumerate(
            zip(rng.uniform(0.8, 2.0, n_items), np.linspace(-2.5, 2.5, n_items), strict=True)
        )
    )


@pytest.mark.parametrize("method", ["mle", "wle"])
def test_likelihood_estimators_recover_theta_on_a_long_test(method: str) -> None:
    rng = np.random.default_rng(11)
    params = long_test(60, rng)
    theta = rng.normal(size=1500)
    est = scoring.estimate(params, sample_responses(params, theta, rng), method)
    assert np.corrcoef(est.theta, theta)[0, 1] > 0.95
    assert abs(np.mean(est.theta - theta)) < 0.03
    # the reported SE matches the actual error
    assert 0.8 < np.std(est.theta - theta) / np.sqrt(np.mean(est.se**2)) < 1.2


def test_wle_is_less_biased_than_mle_at_the_extremes() -> None:
    rng = np.random.default_rng(5)
    params = long_test(15, rng)
    for true in (-2.0, 2.0):
        resp = sample_responses(params, np.full(4000, true), rng)
        m = scoring.mle(params, resp, bounds=(-4.0, 4.0)).theta
        w = scoring.wle(params, resp, bounds=(-4.0, 4.0)).theta
        assert abs(np.mean(w) - true) < 0.5 * abs(np.mean(m) - true)
        assert abs(np.mean(w) - true) < 0.1


def test_plausible_values_reproduce_group_means_and_variances() -> None:
    rng = np.random.default_rng(2024)
    params = long_test(20, rng)
    for mean in (-0.5, 0.5):
        theta = rng.normal(mean, 1.0, 2000)
        resp = sample_responses(params, theta, rng)
        pv = scoring.plausible_values(params, resp, 5, rng, prior_mean=mean, prior_sd=1.0)
        assert pv.shape == (2000, 5)
        se_mean = 1.0 / np.sqrt(2000)
        # the mean of each draw vs the population value, allowing sampling + imputation error
        assert abs(pv.mean() - mean) < 3 * se_mean
        assert np.all(np.abs(pv.var(axis=0) - 1.0) < 0.12)
    # EAP, by contrast, shrinks: its variance is clearly below the population's
    eap = scoring.eap(params, resp, prior_mean=0.5).theta
    assert eap.var() < 0.93


def test_plausible_values_follow_the_posterior() -> None:
    rng = np.random.default_rng(3)
    resp = np.array([[1, 0, 1, np.nan, 0], [1, 1, 1, 1, 1]])
    pv = scoring.plausible_values(LSAT7, resp, 20000, rng)
    est = scoring.eap(LSAT7, resp, n_nodes=201)
    np.testing.assert_allclose(pv.mean(axis=1), est.theta, atol=0.03)
    np.testing.assert_allclose(pv.std(axis=1), est.se, rtol=0.03)


def test_no_items_gives_the_prior_or_nan() -> None:
    resp = np.array([[np.nan] * 5, [1, 0, np.nan, np.nan, 1]])
    e = scoring.eap(LSAT7, resp, prior_mean=0.3, prior_sd=0.8)
    assert e.theta[0] == pytest.approx(0.3, abs=1e-9) and e.se[0] == pytest.approx(0.8, abs=1e-4)
    m = scoring.map_estimate(LSAT7, resp, prior_mean=0.3, prior_sd=0.8)
    assert m.theta[0] == pytest.approx(0.3) and m.se[0] == pytest.approx(0.8)
    for method in ("mle", "wle"):
        est = scoring.estimate(LSAT7, resp, method)
        assert np.isnan(est.theta[0]) and np.isnan(est.se[0])
        assert np.isfinite(est.theta[1])


def test_extreme_patterns() -> None:
    resp = np.array([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [np.nan, 1, np.nan, 1, np.nan]])
    m = scoring.mle(LSAT7, resp, bounds=(-5.0, 5.0))
    np.testing.assert_array_equal(m.theta, [-5.0, 5.0, 5.0])
    assert np.all(np.isinf(m.se))
    w = scoring.wle(LSAT7, resp)
    assert np.all(np.isfinite(w.theta)) and np.all(np.isfinite(w.se))
    assert -6 < w.theta[0] < -2 and 1 < w.theta[1] < 6


def test_mle_all_top_scores_with_negative_slopes_is_the_finite_maximum() -> None:
    """With a negative-slope item, all-correct (or all top categories) has a finite maximum of
    the likelihood; MLE must find it rather than put it at the bound.  A pattern at the
    θ-decreasing end of every item (top score on the negative item, 0 elsewhere) is extreme."""
    params = ItemParameters.from_records(
        [
            {"id": "neg", "model": "2pl", "a": -1.2, "b": 0.5},
            {"id": "p1", "model": "2pl", "a": 1.0, "b": -0.5},
            {"id": "p2", "model": "2pl", "a": 1.5, "b": 0.2},
            {"id": "g3", "model": "grm", "a": -0.9, "b": [1.0, -0.4]},
        ]
    )
    resp = np.array([[1.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 2.0]])
    m = scoring.mle(params, resp)
    mode = brute_force_mode(params, resp[:2], prior=False)
    assert np.all(np.abs(mode) < 5)  # both have an interior maximum
    np.testing.assert_allclose(m.theta[:2], mode, atol=1e-3)
    assert np.all(np.isfinite(m.se[:2]))
    assert m.theta[2] == -6.0 and m.se[2] == np.inf


def test_mle_all_wrong_on_3pl_stays_at_the_bound_for_wle_too() -> None:
    params = ItemParameters.from_records(
        {"id": f"i{j}", "model": "3pl", "a": 1.5, "b": b, "c": 0.25}
        for j, b in enumerate([-1.0, 0.0, 1.0])
    )
    w = scoring.wle(params, np.zeros((1, 3)))
    assert np.isfinite(w.theta[0]) or w.se[0] == np.inf
    assert -6.0 <= w.theta[0] <= 6.0


def brute_force_mode(params: ItemParameters, resp: np.ndarray, prior: bool) -> np.ndarray:
    grid = np.linspace(-6, 6, 24001)
    ll = log_likelihood(params, resp, grid)
    if prior:
        ll = ll - 0.5 * grid**2
    return grid[np.argmax(ll, axis=1)]


def test_map_and_mle_find_the_mode_for_mixed_models() -> None:
    rng = np.random.default_rng(8)
    params = mixed_params()
    resp = sample_responses(params, rng.normal(size=200), rng).astype(float)
    resp[rng.random(resp.shape) < 0.2] = np.nan
    resp = resp[~np.isnan(resp).all(axis=1)]
    np.testing.assert_allclose(
        scoring.map_estimate(params, resp).theta, brute_force_mode(params, resp, True), atol=2e-3
    )
    est = scoring.mle(params, resp)
    inside = np.isfinite(est.se)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(
        est.theta[inside], brute_force_mode(params, resp[inside], False), atol=2e-3
    )


def test_wle_maximises_likelihood_times_jeffreys_prior_for_exponential_family_items() -> None:
    # for Rasch, 2PL and GPCM items Warm's J(θ) = I'(θ), so the WLE maximises L(θ)·sqrt(I(θ))
    # (rebuilt from records: subset() keeps b's width, which category_probabilities rejects)
    params = ItemParameters.from_records(mixed_params().subset([0, 1, 4, 5]).to_records())
    resp = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 2, np.nan], [1, 1, 2, 1]])
    est = scoring.wle(params, resp)
    grid = np.linspace(-6, 6, 24001)
    admin = (~np.isnan(resp)).astype(float)
    info = admin @ item_information(params, grid)
    crit = log_likelihood(params, resp, grid) + 0.5 * np.log(info)
    np.testing.assert_allclose(est.theta, grid[np.argmax(crit, axis=1)], atol=2e-3)


def test_wle_solves_warms_equation_for_3pl_and_grm_items() -> None:
    params = mixed_params()
    resp = np.array([[1, 0, 1, 2, 1, 0], [0, 0, 0, 0, 0, 0], [1, 1, np.nan, 3, 2, np.nan]])
    est = scoring.wle(params, resp)
    h = 1e-4
    for n, th in enumerate(est.theta):
        p0, p_hi, p_lo = (category_probabilities(params, t)[:, 0, :] for t in (th, th + h, th - h))
        d1, d2 = (p_hi - p_lo) / (2 * h), (p_hi - 2 * p0 + p_lo) / h**2
        seen = ~np.isnan(resp[n])
        x = resp[n, seen].astype(int)
        rows = np.flatnonzero(seen)
        score = np.sum(d1[rows, x] / p0[rows, x])
        with np.errstate(divide="ignore", invalid="ignore"):
            info = np.nansum(np.where(p0[rows] > 0, d1[rows] ** 2 / p0[rows], 0))
            warm_j = np.nansum(np.where(p0[rows] > 0, d1[rows] * d2[rows] / p0[rows], 0))
        assert abs(score + warm_j / (2 * info)) < 1e-4


def test_a_single_person_as_a_vector() -> None:
    est = scoring.eap(LSAT7, np.array([1, 0, 1, 1, 0]))
    assert est.theta.shape == (1,) and est.se.shape == (1,)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 4)),
        np.array([[0, 2, 0, 0, 0]]),
        np.array([[0, -1, 0, 0, 0]]),
        np.array([[0, 0.5, 0, 0, 0]]),
    ],
)
def test_bad_responses_raise(bad: np.ndarray) -> None:
    with pytest.raises(scoring.ScoringError):
        scoring.eap(LSAT7, bad)


def test_unknown_method_and_bad_options_raise() -> None:
    with pytest.raises(scoring.ScoringError, match="unknown scoring method"):
        scoring.estimate(LSAT7, np.zeros((1, 5)), "ml")
    with pytest.raises(scoring.ScoringError):
        scoring.eap(LSAT7, np.zeros((1, 5)), prior_sd=0.0)
    with pytest.raises(scoring.ScoringError):
        scoring.mle(LSAT7, np.zeros((1, 5)), bounds=(2.0, -2.0))


patterns = st.lists(
    st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=5, max_size=5), min_size=1, max_size=8
)


@settings(max_examples=40, deadline=None)
@given(patterns, st.floats(-2, 2), st.floats(0.3, 3))
def test_eap_se_positive_and_below_the_prior_sd(rows: list, mean: float, sd: float) -> None:
    est = scoring.eap(LSAT7, np.array(rows), prior_mean=mean, prior_sd=sd)
    assert np.all(est.se > 0) and np.all(est.se <= sd * (1 + 1e-6))
    assert np.all(np.abs(est.theta - mean) < 6 * sd)


@settings(max_examples=40, deadline=None)
@given(patterns)
def test_estimates_increase_with_each_extra_correct_answer(rows: list) -> None:
    resp = np.array(rows)
    wrong = np.flatnonzero(resp[0] == 0)
    if wrong.size == 0:
        return
    better = resp[:1].copy()
    better[0, wrong[0]] = 1
    both = np.vstack([resp[:1], better])
    for method in ("eap", "map", "wle"):
        t = scoring.estimate(LSAT7, both, method).theta
        assert t[1] > t[0]


def test_eap_after_our_own_calibration_reproduces_mirt_on_lsat7() -> None:
    # integration: irt.calibration's MML-EM estimates, then EAP scoring, against mirt's values
    from irt.calibration import calibrate

    path = REFERENCE / "lsat7.csv"
    assert path.is_file(), f"reference data missing: {path}"
    data = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    header = path.read_text().splitlines()[0].split(",")[1:]
    result = calibrate(data[:, 1:].astype(float), "2pl", item_ids=header)
    est = scoring.eap(result.params, lsat7_patterns())
    np.testing.assert_allclose(est.theta, EAP_LSAT7, atol=0.01)
    np.testing.assert_allclose(
        scoring.map_estimate(result.params, lsat7_patterns()).theta, MAP_LSAT7, atol=0.01
    )
