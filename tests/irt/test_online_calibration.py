"""Online calibration: pretest items calibrated with the operational items anchored."""

from __future__ import annotations

import numpy as np
import pytest

from irt.calibration import CalibrationError
from irt.models import ItemParameters, sample_responses
from irt.online_calibration import calibrate_pretest, parameter_rmse


def _items(n: int, prefix: str, rng: np.random.Generator) -> ItemParameters:
    return ItemParameters.from_records(
        [
            {"id": f"{prefix}{j}", "model": "2pl", "a": float(rng.lognormal(0.1, 0.25)),
             "b": float(rng.normal())}
            for j in range(n)
        ]
    )


def test_pretest_items_land_on_the_anchors_scale() -> None:
    rng = np.random.default_rng(11)
    operational, pretest = _items(30, "q", rng), _items(4, "p", rng)
    # the population is off the anchors' origin: the scale must come from the anchors
    theta = rng.normal(0.5, 1.2, 2000)
    x_op = sample_responses(operational, theta, rng).astype(float)
    x_op[rng.random(x_op.shape) < 0.5] = np.nan  # each person saw about half of them
    x_pre = sample_responses(pretest, theta, rng).astype(float)
    x_pre[rng.random(x_pre.shape) < 0.4] = np.nan
    ids = [*operational.ids, *pretest.ids]
    result = calibrate_pretest(np.hstack([x_op, x_pre]), ids, operational, se_method="none")
    est = result.params
    anchored = est.subset(est.index(operational.ids))
    assert np.array_equal(anchored.a, operational.a) and np.array_equal(anchored.b, operational.b)
    assert result.population_mean == pytest.approx(0.5, abs=0.1)
    assert result.population_sd == pytest.approx(1.2, abs=0.1)
    rmse = parameter_rmse(pretest, est)
    assert rmse["rmse_b"] < 0.15 and rmse["rmse_a"] < 0.15
    assert np.isnan(rmse["rmse_c"])


def test_unanswered_anchors_are_left_out_and_errors_are_named() -> None:
    rng = np.random.default_rng(2)
    operational, pretest = _items(6, "q", rng), _items(1, "p", rng)
    theta = rng.normal(size=400)
    x = np.hstack(
        [sample_responses(operational, theta, rng), sample_responses(pretest, theta, rng)]
    ).astype(float)
    x[:, 0] = np.nan  # nobody answered q0
    ids = [*operational.ids, *pretest.ids]
    result = calibrate_pretest(x, ids, operational, se_method="none")
    assert "q0" not in result.params.ids and "p0" in result.params.ids
    with pytest.raises(CalibrationError, match="no pretest item"):
        calibrate_pretest(x[:, :6], ids[:6], operational)
    with pytest.raises(CalibrationError, match="no operational item"):
        calibrate_pretest(x[:, 6:], ids[6:], operational)
