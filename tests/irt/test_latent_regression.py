"""The population model (latent regression) and its plausible values: recovery of Γ, σ and of a
group difference that unconditioned plausible values attenuate."""

from __future__ import annotations

import numpy as np
import pytest

from irt import latent_regression as lr
from irt.models import ItemParameters, sample_responses


def _test_items(rng: np.random.Generator, n_items: int = 10) -> ItemParameters:
    return ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": float(rng.uniform(0.8, 1.6)),
         "b": float(rng.normal(0.0, 1.0))}
        for j in range(n_items)
    )


def _sample(seed: int, n: int = 4000) -> tuple[ItemParameters, np.ndarray, np.ndarray, np.ndarray]:
    """Two groups 0.5 SD apart (within-group SD 1) and a continuous covariate with slope 0.3;
    10 items per student."""
    rng = np.random.default_rng(seed)
    params = _test_items(rng)
    group = rng.random(n) < 0.5
    z = rng.normal(size=n)
    theta = -0.25 + 0.5 * group + 0.3 * z + rng.normal(0.0, 1.0, n)
    x = sample_responses(params, theta, rng).astype(float)
    return params, x, np.column_stack([np.ones(n), group, z]), theta


def test_em_recovers_regression_and_residual_sd() -> None:
    params, x, background, _ = _sample(31)
    model, _, _ = lr.fit(params, x, background)
    assert model.converged
    np.testing.assert_allclose(model.gamma, [-0.25, 0.5, 0.3], atol=0.08)
    assert model.sigma == pytest.approx(1.0, abs=0.06)


def test_conditioned_pvs_recover_the_group_difference_unconditioned_attenuate() -> None:
    params, x, background, theta = _sample(32)
    group = background[:, 1] == 1
    rng = np.random.default_rng(7)
    cond, _ = lr.plausible_values(params, x, background, 5, rng)
    plain, _ = lr.plausible_values(params, x, None, 5, rng)

    def diff(values: np.ndarray) -> float:
        return float(values[group].mean() - values[~group].mean())

    true = diff(theta)
    d_cond, d_plain = diff(cond), diff(plain)
    print(f"true {true:.3f}  conditioned {d_cond:.3f}  unconditioned {d_plain:.3f}")
    assert abs(d_cond - 0.5) < 0.08
    assert d_plain < 0.5 - 0.08 and d_plain < d_cond - 0.05
    # the variance of the PVs matches the true variance (no shrinkage)
    assert cond.std() == pytest.approx(theta.std(), rel=0.05)


def test_collinear_background_is_refused() -> None:
    params, x, background, _ = _sample(33, n=200)
    bad = np.column_stack([background, 2 * background[:, 1]])
    with pytest.raises(lr.LatentRegressionError, match="collinear"):
        lr.fit(params, x, bad)


def test_principal_components_keep_the_share_of_variance() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(500, 3))
    x = np.column_stack([base, base @ rng.normal(size=(3, 5)), np.ones(500)])
    pcs = lr.principal_components(x, share=0.999)
    assert pcs.shape == (500, 3)  # rank 3 (the constant column is dropped)
    np.testing.assert_allclose(pcs.T @ pcs / 500, np.eye(3), atol=1e-8)
