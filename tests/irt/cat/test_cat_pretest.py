"""Pretest seeding: balanced choice of units, simulated answers, and the ``pretest`` config."""

from __future__ import annotations

import numpy as np
import pytest

from irt.cat import CatConfig, CatConfigError
from irt.cat.pretest import balanced_assignment, least_counted, simulate_pretest_responses
from irt.models import ItemParameters


def test_least_counted_takes_the_fewest_and_breaks_ties_at_random() -> None:
    counts = np.array([5, 2, 2, 7])
    taken = np.array([False, False, False, False])
    picks = {least_counted(counts, taken, np.random.default_rng(s)) for s in range(40)}
    assert picks == {1, 2}
    taken[[1, 2]] = True
    assert least_counted(counts, taken, np.random.default_rng(0)) == 0
    assert least_counted(counts, np.ones(4, bool), np.random.default_rng(0)) is None


def test_sequential_least_counted_balances_like_the_assignment() -> None:
    rng = np.random.default_rng(3)
    counts = np.zeros(7)
    for _ in range(100):  # sessions one after another, 2 units each
        taken = np.zeros(7, bool)
        for _ in range(2):
            u = least_counted(counts, taken, rng)
            assert u is not None
            taken[u] = True
        counts[taken] += 1
    assert counts.max() - counts.min() <= 1
    assignment = balanced_assignment(100, 7, 2, np.random.default_rng(3))
    given = np.bincount(assignment.ravel(), minlength=7)
    assert given.max() - given.min() <= 1 and given.sum() == 200
    assert all(len(set(row)) == 2 for row in assignment.tolist())  # distinct within a session


def test_assignment_never_repeats_a_unit_and_caps_at_the_units() -> None:
    assignment = balanced_assignment(10, 3, 5, np.random.default_rng(0))
    assert assignment.shape == (10, 3)
    assert all(sorted(row) == [0, 1, 2] for row in assignment.tolist())
    assert balanced_assignment(4, 0, 2, np.random.default_rng(0)).shape == (4, 0)


def test_simulated_answers_only_for_the_units_given() -> None:
    params = ItemParameters.from_records(
        [{"id": f"p{j}", "model": "2pl", "a": 1.0, "b": 0.0} for j in range(4)]
    )
    item_unit = np.array([0, 0, 1, 2])  # p0 and p1 form one unit
    assignment = balanced_assignment(30, 3, 1, np.random.default_rng(1))
    theta = np.random.default_rng(2).normal(size=30)
    x = simulate_pretest_responses(params, item_unit, assignment, theta, np.random.default_rng(3))
    seen = ~np.isnan(x)
    assert (seen[:, 0] == seen[:, 1]).all()  # a unit is given whole
    assert (seen.sum(axis=1) >= 1).all() and seen[:, [0, 2, 3]].sum(axis=1).max() == 1
    assert set(np.unique(x[seen])) <= {0.0, 1.0}


def test_pretest_config() -> None:
    config = CatConfig.from_dict({"pretest": {"count": 2, "after": [3, 8], "units": ["U1"]}})
    assert config.pretest.count == 2 and config.pretest.position(1) == 8
    assert config.pretest.units == ("U1",)
    one = CatConfig.from_dict({"pretest": {"count": 2, "after": 4}}).pretest
    assert one.position(0) == one.position(1) == 4
    assert CatConfig.from_dict({}).pretest.count == 0
    for bad, where in (
        ({"count": 2, "after": [3, 4, 5]}, "pretest.after"),
        ({"count": 1, "after": -1}, "pretest.after"),
        ({"count": 2, "after": [5, 3]}, "pretest.after"),
        ({"count": -1}, "pretest.count"),
        ({"units": "U1"}, "pretest.units"),
        ({"place": 3}, "pretest.place"),
    ):
        with pytest.raises(CatConfigError) as info:
            CatConfig.from_dict({"pretest": bad})
        assert info.value.field == where
