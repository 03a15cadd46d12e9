"""Invariants of irt.models for random parameters of every model (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from irt.models import (
    ItemParameters,
    category_derivatives,
    category_probabilities,
    item_information,
    log_likelihood,
    sample_responses,
)

finite = st.floats(-3.0, 3.0, allow_nan=False)


@st.composite
def item_sets(draw: st.DrawFn) -> ItemParameters:
    """1–6 items of random models, with random slopes, difficulties and asymptotes."""
    n = draw(st.integers(1, 6))
    recs = []
    for j in range(n):
        model = draw(st.sampled_from(["rasch", "2pl", "3pl", "grm", "gpcm"]))
        a = draw(st.floats(0.2, 3.0))
        if model in ("rasch", "2pl", "3pl"):
            b: float | list[float] = draw(finite)
        else:
            m = draw(st.integers(1, 4))
            raw = draw(st.lists(finite, min_size=m, max_size=m, unique=True))
            b = sorted(raw) if model == "grm" else raw
            if model == "grm" and np.any(np.diff(b) < 1e-3):
                b = [float(k) - m / 2 for k in range(m)]
        c = draw(st.floats(0.0, 0.4)) if model == "3pl" else None
        recs.append({"id": f"i{j}", "model": model, "a": a, "b": b, "c": c})
    return ItemParameters.from_records(recs)


thetas = st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=7).map(np.array)


@settings(max_examples=60, deadline=None)
@given(item_sets(), thetas)
def test_probabilities_are_a_distribution(params: ItemParameters, theta: np.ndarray) -> None:
    p = category_probabilities(params, theta)
    assert p.shape == (params.n_items, theta.size, params.max_categories)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=2), 1.0, atol=1e-12)
    # categories an item does not have get probability 0
    for j, k in enumerate(params.n_categories):
        assert np.all(p[j, :, k:] == 0)


@settings(max_examples=60, deadline=None)
@given(item_sets(), thetas)
def test_information_is_non_negative(params: ItemParameters, theta: np.ndarray) -> None:
    info = item_information(params, theta)
    assert info.shape == (params.n_items, theta.size)
    assert np.all(info >= 0) and np.all(np.isfinite(info))


@settings(max_examples=60, deadline=None)
@given(item_sets(), thetas)
def test_derivatives_match_finite_differences(params: ItemParameters, theta: np.ndarray) -> None:
    _, deriv = category_derivatives(params, theta)
    h = 1e-6
    numeric = (
        category_probabilities(params, theta + h) - category_probabilities(params, theta - h)
    ) / (2 * h)
    np.testing.assert_allclose(deriv, numeric, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(item_sets(), st.integers(0, 2**32 - 1))
def test_log_likelihood_sums_administered_items(params: ItemParameters, seed: int) -> None:
    rng = np.random.default_rng(seed)
    theta = np.array([-1.0, 0.0, 1.5])
    x = sample_responses(params, rng.normal(size=4), rng).astype(float)
    assert np.all(x <= params.n_categories - 1)
    x[0, 0] = np.nan
    ll = log_likelihood(params, x, theta)
    p = category_probabilities(params, theta)
    expected = sum(
        np.log(p[j, :, int(x[1, j])]) for j in range(params.n_items) if not np.isnan(x[1, j])
    )
    np.testing.assert_allclose(ll[1], expected, rtol=1e-10, atol=1e-10)
    assert np.all(ll <= 0)
