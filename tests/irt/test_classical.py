"""Classical item analysis on small hand-checked data and simulated data."""

from __future__ import annotations

import numpy as np
import pytest

from irt import classical
from irt.models import ItemParameters, sample_responses


def test_hand_checked_values() -> None:
    x = np.array([[1, 0, 2], [1, 1, 1], [0, 0, 0], [1, 1, np.nan]], dtype=float)
    s = classical.item_statistics(x, item_ids=["a", "b", "c"], n_categories=[2, 2, 3])
    np.testing.assert_array_equal(s.n, [4, 4, 3])
    np.testing.assert_allclose(s.p_value, [0.75, 0.5, 0.5])
    np.testing.assert_array_equal(s.category_counts, [[1, 3, 0], [2, 2, 0], [1, 1, 1]])
    # item a vs rest (b + c over administered): rest = [2, 2, 0, 1]
    expected = np.corrcoef([1, 1, 0, 1], [2, 2, 0, 1])[0, 1]
    assert s.item_rest[0] == pytest.approx(expected)
    assert s.options == ((), (), ())


def test_option_counts_and_distractor_correlations() -> None:
    rng = np.random.default_rng(0)
    params = ItemParameters.from_records(
        {"id": f"i{k}", "model": "2pl", "a": 1.5, "b": b} for k, b in enumerate([-1, 0, 0.5, 1])
    )
    theta = rng.normal(size=3000)
    x = sample_responses(params, theta, rng).astype(float)
    # raw options: key "A"; weak examinees choose "B", others "C" / "D"
    opts = np.where(x == 1, "A", np.where(theta[:, None] < -0.5, "B", "C")).astype(object)
    opts[rng.random(opts.shape) < 0.05] = None
    s = classical.item_statistics(x, options=opts)
    for k in range(4):
        by_label = {o.option: o for o in s.options[k]}
        assert sum(o.count for o in s.options[k]) == sum(v is not None for v in opts[:, k])
        assert by_label["A"].rest_correlation > 0.2
        assert by_label["B"].rest_correlation < 0
        assert by_label["B"].mean_rest < by_label["A"].mean_rest
    # harder items have lower p-values, every item discriminates
    assert np.all(np.diff(s.p_value) < 0)
    assert np.all(s.item_rest > 0.2)


def test_cronbach_alpha() -> None:
    rng = np.random.default_rng(1)
    params = ItemParameters.from_records(
        {"id": f"i{k}", "model": "2pl", "a": 1.7, "b": b}
        for k, b in enumerate(np.linspace(-1, 1, 20))
    )
    x = sample_responses(params, rng.normal(size=2000), rng).astype(float)
    assert 0.8 < classical.cronbach_alpha(x) < 0.95
    # parallel identical items give alpha = 1
    same = np.repeat(x[:, :1], 5, axis=1)
    assert classical.cronbach_alpha(same) == pytest.approx(1.0)


def test_bad_input() -> None:
    with pytest.raises(classical.ClassicalError):
        classical.item_statistics(np.array([1.0, 0.0]))
    with pytest.raises(classical.ClassicalError):
        classical.item_statistics(np.array([[1.0, -1.0]]))
    with pytest.raises(classical.ClassicalError):
        classical.item_statistics(np.zeros((2, 2)), options=np.zeros((2, 3), dtype=object))
