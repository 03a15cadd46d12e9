"""Scale linking recovers known transformations; identity; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irt import linking
from irt.models import ItemParameters, category_probabilities


def mixed_bank(rng: np.random.Generator, n: int = 12) -> ItemParameters:
    records = []
    for j in range(n):
        kind = ("2pl", "3pl", "grm", "gpcm", "rasch")[j % 5]
        a = float(rng.uniform(0.7, 1.8))
        b0 = float(rng.uniform(-2, 2))
        if kind in ("grm", "gpcm"):
            b: float | list[float] = sorted(float(x) for x in b0 + rng.uniform(-1.2, 1.2, 3))
        else:
            b = b0
        records.append({"id": f"q{j}", "model": kind, "a": a, "b": b, "c": 0.2})
    return ItemParameters.from_records(records)


@pytest.mark.parametrize("method", linking.METHODS)
def test_recovers_a_known_transformation_on_mixed_items(method: str) -> None:
    to = mixed_bank(np.random.default_rng(1))
    A, B = 1.3, -0.4
    # the "from" calibration is on a scale where θ_from = (θ_to - B) / A
    frm = linking.transform(to, 1 / A, -B / A)
    result = linking.link(frm, to, method)
    assert result.A == pytest.approx(A, abs=1e-4) if method != "mean-mean" else True
    assert result.B == pytest.approx(B, abs=1e-4) if method != "mean-mean" else True
    assert result.common_items == to.ids
    back = linking.transform(frm, result.A, result.B)
    np.testing.assert_allclose(
        category_probabilities(back, np.linspace(-3, 3, 13)),
        category_probabilities(to, np.linspace(-3, 3, 13)),
        atol=1e-4 if method != "mean-mean" else 1e-3,
    )


def test_mean_mean_recovers_a_known_transformation_on_2pl_items() -> None:
    rng = np.random.default_rng(4)
    to = ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": rng.uniform(0.6, 2), "b": rng.normal()}
        for j in range(10)
    )
    frm = linking.transform(to, 1 / 0.8, 0.5 / 0.8)
    r = linking.mean_mean(frm, to)
    assert (r.A, r.B) == pytest.approx((0.8, -0.5), abs=1e-9)


def test_characteristic_curve_methods_are_robust_to_estimation_noise() -> None:
    rng = np.random.default_rng(9)
    to = mixed_bank(rng, 20)
    frm = linking.transform(to, 1 / 0.9, -0.3 / 0.9)
    noisy = ItemParameters(
        frm.ids,
        frm.models,
        frm.a * np.exp(rng.normal(0, 0.05, 20)),
        np.sort(frm.b + rng.normal(0, 0.03, frm.b.shape), axis=1),
        frm.c,
    )
    for method in ("haebara", "stocking-lord"):
        r = linking.link(noisy, to, method)
        assert r.A == pytest.approx(0.9, abs=0.05) and r.B == pytest.approx(0.3, abs=0.05)


def test_only_common_items_are_used_and_order_does_not_matter() -> None:
    to = mixed_bank(np.random.default_rng(2), 10)
    frm = linking.transform(to, 2.0, 1.0)
    frm_part = frm.subset([7, 1, 3, 5])
    r = linking.stocking_lord(frm_part, to)
    assert set(r.common_items) == {"q7", "q1", "q3", "q5"}
    assert (r.A, r.B) == pytest.approx((0.5, -0.5), abs=1e-4)


def test_too_few_common_items() -> None:
    to = mixed_bank(np.random.default_rng(2), 5)
    other = ItemParameters.from_records(
        [{"id": "q0", "model": "2pl", "a": 1, "b": 0}, {"id": "zz", "model": "2pl", "a": 1, "b": 1}]
    )
    with pytest.raises(linking.LinkingError, match="at least 2 common items"):
        linking.haebara(other, to)


def test_mismatched_models_are_refused() -> None:
    a = ItemParameters.from_records(
        [{"id": "x", "model": "2pl", "a": 1, "b": 0}, {"id": "y", "model": "2pl", "a": 1, "b": 1}]
    )
    b = ItemParameters.from_records(
        [
            {"id": "x", "model": "3pl", "a": 1, "b": 0, "c": 0.2},
            {"id": "y", "model": "2pl", "a": 1, "b": 1},
        ]
    )
    with pytest.raises(linking.LinkingError, match="common item x"):
        linking.mean_sigma(a, b)


def test_unknown_method() -> None:
    to = mixed_bank(np.random.default_rng(2), 5)
    with pytest.raises(linking.LinkingError, match="unknown linking method"):
        linking.link(to, to, "equipercentile")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(linking.METHODS))
def test_identity_when_both_sets_are_equal(seed: int, method: str) -> None:
    bank = mixed_bank(np.random.default_rng(seed), 6)
    r = linking.link(bank, bank, method)
    assert r.A == pytest.approx(1.0, abs=1e-5) and r.B == pytest.approx(0.0, abs=1e-5)


def test_transform_keeps_c_and_moves_every_threshold() -> None:
    bank = mixed_bank(np.random.default_rng(0), 5)
    moved = linking.transform(bank, 2.0, 1.0)
    np.testing.assert_array_equal(moved.c, bank.c)
    np.testing.assert_allclose(moved.a, bank.a / 2)
    np.testing.assert_allclose(moved.b, 2 * bank.b + 1)
    with pytest.raises(linking.LinkingError):
        linking.transform(bank, -1.0, 0.0)
