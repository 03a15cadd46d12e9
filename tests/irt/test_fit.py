"""Item fit (infit/outfit, S-X², RMSD) and reliability: fitting data pass, misfitting items fail."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from irt import fit, reliability, scoring
from irt.models import ItemParameters, category_probabilities, sample_responses


def rasch_data(rng: np.random.Generator, n: int = 1500) -> tuple[ItemParameters, np.ndarray]:
    b = np.linspace(-2, 2, 25)
    model = ItemParameters.from_records(
        {"id": f"i{k}", "model": "rasch", "b": v} for k, v in enumerate(b)
    )
    truth = ItemParameters.from_records(
        {"id": f"i{k}", "model": "2pl", "a": {5: 0.3, 15: 3.0}.get(k, 1.0), "b": v}
        for k, v in enumerate(b)
    )
    return model, sample_responses(truth, rng.normal(size=n), rng).astype(float)


def test_infit_outfit_near_one_for_rasch_data_and_off_for_misfit() -> None:
    model, resp = rasch_data(np.random.default_rng(1))
    res = fit.mean_squares(model, resp)
    good = np.setdiff1d(np.arange(25), [5, 15])
    assert np.all(np.abs(res.infit[good] - 1) < 0.12), res.infit
    assert np.all(np.abs(res.outfit[good] - 1) < 0.2), res.outfit
    assert np.mean(np.abs(res.infit_t[good]) < 2.5) > 0.85
    assert res.infit[5] > 1.15 and res.outfit[5] > 1.2 and res.infit_t[5] > 3  # noise
    assert res.infit[15] < 0.85 and res.outfit[15] < 0.8 and res.infit_t[15] < -3  # overfit


def test_mean_squares_with_true_theta_and_polytomous_items() -> None:
    rng = np.random.default_rng(2)
    params = ItemParameters.from_records(
        {"id": f"p{k}", "model": "gpcm", "a": 1.0, "b": [v - 0.5, v + 0.5]}
        for k, v in enumerate(np.linspace(-1.5, 1.5, 12))
    )
    theta = rng.normal(size=2000)
    resp = sample_responses(params, theta, rng)
    res = fit.mean_squares(params, resp, theta, exclude_extreme=False)
    np.testing.assert_allclose(res.infit, 1, atol=0.08)
    np.testing.assert_allclose(res.outfit, 1, atol=0.1)
    assert np.all(res.n == 2000)


def brute_force_summed_score(probs: np.ndarray, tops: list[int]) -> np.ndarray:
    q = probs.shape[1]
    out = np.zeros((q, sum(tops) + 1))
    for pattern in itertools.product(*(range(t + 1) for t in tops)):
        p = np.ones(q)
        for j, x in enumerate(pattern):
            p = p * probs[j, :, x]
        out[:, sum(pattern)] += p
    return out


def test_lord_wingersky_matches_enumeration() -> None:
    params = ItemParameters.from_records(
        [
            {"id": "a", "model": "2pl", "a": 1.2, "b": 0.3},
            {"id": "b", "model": "grm", "a": 0.9, "b": [-1, 0, 1.5]},
            {"id": "c", "model": "3pl", "a": 1.0, "b": -0.4, "c": 0.2},
            {"id": "d", "model": "gpcm", "a": 1.1, "b": [0.2, -0.3]},
        ]
    )
    probs = category_probabilities(params, np.linspace(-3, 3, 7))
    lw = fit.lord_wingersky(probs)[:, :8]
    np.testing.assert_allclose(lw, brute_force_summed_score(probs, [1, 3, 1, 2]), atol=1e-14)
    np.testing.assert_allclose(lw.sum(axis=1), 1.0)


def twopl(rng: np.random.Generator, n_items: int) -> ItemParameters:
    return ItemParameters.from_records(
        {"id": f"i{k}", "model": "2pl", "a": a, "b": b}
        for k, (a, b) in enumerate(
            zip(rng.uniform(0.7, 1.8, n_items), np.linspace(-2, 2, n_items), strict=True)
        )
    )


def test_s_x2_p_values_roughly_uniform_for_fitting_data() -> None:
    rng = np.random.default_rng(3)
    params = twopl(rng, 16)
    p_fit = []
    for _ in range(4):
        resp = sample_responses(params, rng.normal(size=2000), rng)
        # the generating parameters are known, not estimated: no df is lost to estimation
        res = fit.s_x2(params, resp, n_estimated=np.zeros(16))
        assert np.all(res.df > 5)
        p_fit.extend(res.p_value)
    p_fit = np.array(p_fit)
    assert np.mean(p_fit < 0.05) < 0.12
    assert stats.kstest(p_fit, "uniform").pvalue > 0.01


def test_s_x2_flags_a_misfitting_item() -> None:
    rng = np.random.default_rng(13)
    params = twopl(rng, 16)
    truth = ItemParameters(params.ids, params.models, params.a.copy(), params.b, params.c)
    truth.a[0] = 2.8  # item i0 behaves far more steeply than its parameters say
    res = fit.s_x2(params, sample_responses(truth, rng.normal(size=2000), rng))
    assert res.p_value[0] < 1e-4
    assert np.median(res.p_value[1:]) > 0.05
    assert res.statistic[0] > 3 * np.median(res.statistic[1:])


def test_s_x2_mixed_models_and_booklets() -> None:
    rng = np.random.default_rng(4)
    recs = [
        {"id": f"g{k}", "model": "grm", "a": 1.3, "b": [v - 0.8, v, v + 0.9]}
        for k, v in enumerate(np.linspace(-1, 1, 6))
    ] + [
        {"id": f"d{k}", "model": "3pl", "a": 1.2, "b": v, "c": 0.15}
        for k, v in enumerate(np.linspace(-1.5, 1.5, 8))
    ]
    params = ItemParameters.from_records(recs)
    resp = sample_responses(params, rng.normal(size=3000), rng).astype(float)
    booklet = rng.random(3000) < 0.5
    resp[booklet, :3] = np.nan
    resp[~booklet, 10:] = np.nan
    res = fit.s_x2(params, resp)
    assert np.all(np.isfinite(res.p_value))
    assert np.mean(res.p_value < 0.01) <= 0.15
    assert res.n[0] < 3000 and res.n[5] > 2500  # g0 only in one booklet, g5 in both


def test_rmsd_small_for_fitting_items_and_large_for_misfit() -> None:
    rng = np.random.default_rng(5)
    params = twopl(rng, 20)
    truth = ItemParameters(params.ids, params.models, params.a, params.b.copy(), params.c)
    truth.b[3, 0] += 1.0  # item i3 is much harder than its parameters say
    resp = sample_responses(truth, rng.normal(size=2000), rng).astype(float)
    resp[rng.random(resp.shape) < 0.1] = np.nan
    res = fit.rmsd(params, resp)
    others = np.delete(res.rmsd, 3)
    assert np.all(others < 0.06), others
    assert res.rmsd[3] > 0.12
    np.testing.assert_allclose(res.by_category[:, 0], res.by_category[:, 1])


def test_reliability_agrees_across_definitions() -> None:
    rng = np.random.default_rng(6)
    params = twopl(rng, 20)
    theta = rng.normal(size=4000)
    resp = sample_responses(params, theta, rng)
    marginal = reliability.marginal_reliability(params)
    eap = scoring.eap(params, resp)
    empirical = reliability.empirical_reliability(eap)
    true_rel = np.corrcoef(eap.theta, theta)[0, 1] ** 2
    assert empirical == pytest.approx(true_rel, abs=0.03)
    assert marginal == pytest.approx(true_rel, abs=0.05)
    wle_rel = reliability.empirical_reliability(scoring.wle(params, resp))
    assert wle_rel == pytest.approx(true_rel, abs=0.05)
    se = reliability.conditional_se(params, np.array([-1.0, 0.0, 6.0]))
    assert se[1] < se[0] < se[2]
