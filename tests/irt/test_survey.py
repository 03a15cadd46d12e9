"""Replicate weights (JK2, BRR-Fay, random groups) and Rubin's rules: known answers on a small
design computed by hand, and a simulation of two-stage samples (schools, then students)."""

from __future__ import annotations

import numpy as np
import pytest

from irt import replicates as rep
from irt import survey_estimates as se

# stratum A: school a1 (scores 1, 2), a2 (3); stratum B: b1 (4), b2 (5, 6); all weights 1
STRATUM = np.array(["A", "A", "A", "B", "B", "B"])
PSU = np.array(["a1", "a1", "a2", "b1", "b2", "b2"])
Y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])


def total(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return weights.T @ values


def test_jk2_replicate_weights_and_variance_by_hand() -> None:
    d = rep.jk2(STRATUM, PSU)
    # zone A: a1 doubled, a2 dropped; zone B: b1 doubled, b2 dropped
    np.testing.assert_array_equal(
        d.replicate_weights, [[2, 1], [2, 1], [0, 1], [1, 2], [1, 0], [1, 0]]
    )
    np.testing.assert_array_equal(d.factors, [1.0, 1.0])
    m = se.estimate(se.mean, Y, d)
    # full 21/6 = 3.5; replicate means 21/7 = 3.0 and 14/5 = 2.8; V = 0.5² + 0.7² = 0.74
    assert m.estimate == pytest.approx(3.5)
    assert m.se == pytest.approx(np.sqrt(0.74))
    # a total: V = Σ_h (Y_h1 − Y_h2)² = (3 − 3)² + (4 − 11)² = 49
    assert se.estimate(total, Y, d).se == pytest.approx(7.0)


def test_jk2_zone_of_three_is_jackknife_n() -> None:
    d = rep.jk2(np.zeros(3), np.array(["p", "q", "r"]), np.array([1.0, 2.0, 3.0]))
    # each replicate drops one school, the others × 3/2; c = 2/3
    np.testing.assert_allclose(
        d.replicate_weights, [[0, 1.5, 1.5], [3, 0, 3], [4.5, 4.5, 0]]
    )
    np.testing.assert_allclose(d.factors, [2 / 3] * 3)
    # a total of y = 1, 1, 1 (PSU totals w·y = 1, 2, 3): JKn V = (n−1)/n Σ (t_(i) − t)²
    # = n/(n−1) Σ (Y_i − Ȳ)² = 3/2 · 2 = 3
    assert se.estimate(total, np.ones(3), d).sampling_variance == pytest.approx(3.0)


def test_hadamard_matrices_are_orthogonal() -> None:
    for order in (4, 8, 12, 20, 80, 96):
        h = rep.hadamard(order)
        assert h.shape == (order, order) and set(np.unique(h)) == {-1, 1}
        np.testing.assert_array_equal(h @ h.T, order * np.eye(order))
        assert np.all(h[:, 0] == 1)


def test_brr_fay_factors_and_variance_by_hand() -> None:
    d = rep.brr_fay(STRATUM, PSU, n_replicates=4)
    h = rep.hadamard(4)[:, 1:3]  # zones A, B use columns 1, 2
    first = np.array([1, 1, 0, 1, 0, 0], bool)  # a1 and b1 are first in their zones
    zone = np.array([0, 0, 0, 1, 1, 1])
    expected = np.where(first[:, None], 1 + 0.5 * h[:, zone].T, 1 - 0.5 * h[:, zone].T)
    np.testing.assert_allclose(d.replicate_weights, expected)
    assert set(np.unique(d.replicate_weights)) == {0.5, 1.5}
    np.testing.assert_allclose(d.factors, 1 / (4 * 0.5**2))
    # a total: balanced BRR gives exactly Σ_h (Y_h1 − Y_h2)² = 49 (as JK2)
    assert se.estimate(total, Y, d).sampling_variance == pytest.approx(49.0)
    # the mean by hand from the four replicate means
    reps = expected.T @ Y / expected.sum(axis=0)
    assert se.estimate(se.mean, Y, d).sampling_variance == pytest.approx(
        np.sum((reps - 3.5) ** 2) / (4 * 0.25)
    )


def test_brr_fay_zone_of_three_uses_pisas_factors() -> None:
    d = rep.brr_fay(np.zeros(3), np.array(["p", "q", "r"]), n_replicates=4)
    first = np.round(d.replicate_weights[:, 0], 4)  # replicate 0, schools p, q, r
    assert set(first.tolist()) in ({1.7071, 0.6464}, {0.2929, 1.3536})
    np.testing.assert_allclose(d.replicate_weights.sum(axis=0), 3.0)
    # total of PSU totals (1, 2, 3): V = 2 (Y_1 − (Y_2 + Y_3)/2)² = 2 · 1.5² = 4.5
    assert se.estimate(total, np.array([1.0, 2.0, 3.0]), d).sampling_variance == pytest.approx(4.5)


def test_single_psu_stratum_is_refused_by_name() -> None:
    with pytest.raises(rep.SurveyDesignError, match="stratum 'B' has one PSU"):
        rep.jk2(np.array(["A", "A", "B"]), np.array(["1", "2", "3"]))


def test_rubins_rules_by_hand() -> None:
    # two PVs: estimates 10 and 12, replicate deviations give U_1 = 1, U_2 = 3 (c = 1)
    e = se.combine(np.array([10.0, 12.0]), np.array([[11.0, 12.0 + np.sqrt(3.0)]]), np.ones(1))
    assert e.estimate == 11.0
    assert e.sampling_variance == pytest.approx(2.0)
    assert e.imputation_variance == pytest.approx(2.0)  # var(10, 12), ddof 1
    assert e.se == pytest.approx(np.sqrt(2.0 + 1.5 * 2.0))
    lo, hi = e.interval
    assert hi - lo == pytest.approx(2 * 1.959964 * e.se, rel=1e-6)


def test_differences_and_correlations_carry_their_covariance() -> None:
    d = rep.jk2(STRATUM, PSU)
    in_a = STRATUM == "A"
    diff = se.estimate(se.difference(se.mean, ~in_a, in_a), Y, d)
    assert diff.estimate == pytest.approx(5.0 - 2.0)
    # replicate 0 changes only stratum A's mean (21/7 → A: (2+4)/4 = 1.5), replicate 1 only B's
    # (B: (8)/2 = 4): deviations (5 − 1.5) − 3 = 0.5 and (4 − 2) − 3 = −1
    assert diff.sampling_variance == pytest.approx(0.25 + 1.0)
    r = se.estimate(se.correlation(Y), Y, d)
    assert r.estimate == pytest.approx(1.0) and r.se == pytest.approx(0.0, abs=1e-6)
    t = se.trend(diff, se.Estimate(1.0, 0.5, 0.25, 0.0, 1), linking_error=0.3)
    assert t.estimate == pytest.approx(2.0)
    assert t.se == pytest.approx(np.sqrt(diff.se**2 + 0.25 + 0.09))


def _two_stage_sample(rng: np.random.Generator, n_schools: int, n_students: int) -> np.ndarray:
    """Scores with intraclass correlation 0.3: school effect N(0, 0.3) + student N(0, 0.7)."""
    school = rng.normal(0.0, np.sqrt(0.3), n_schools)
    return (school[:, None] + rng.normal(0.0, np.sqrt(0.7), (n_schools, n_students))).ravel()


def test_replicate_se_matches_monte_carlo_sd_of_two_stage_samples() -> None:
    rng = np.random.default_rng(2026)
    n_schools, n_students, n_samples = 60, 30, 400
    psu = np.repeat(np.arange(n_schools), n_students)
    stratum = psu // 2  # schools paired into 30 strata (the sample is random within each)
    designs = {
        "jk2": rep.jk2(stratum, psu),
        "brr-fay": rep.brr_fay(stratum, psu),
        "srs": rep.random_groups(None, psu.size, np.random.default_rng(1)),
    }
    samples = np.stack([_two_stage_sample(rng, n_schools, n_students) for _ in range(n_samples)])
    means = samples.mean(axis=1)
    mc_sd = float(means.std(ddof=1))
    ses = {
        name: float(np.mean([se.estimate(se.mean, y, d).se for y in samples]))
        for name, d in designs.items()
    }
    srs = float(np.mean([se.srs_se_mean(y) for y in samples]))
    print(f"MC SD {mc_sd:.4f}; mean SEs {ses}; s/sqrt(n) {srs:.4f}")
    assert abs(ses["jk2"] / mc_sd - 1) < 0.2
    assert abs(ses["brr-fay"] / mc_sd - 1) < 0.2
    # simple random sampling: about a third of the true SE; random groups reproduce it
    assert 0.25 < srs / mc_sd < 0.45
    assert abs(ses["srs"] / srs - 1) < 0.1
