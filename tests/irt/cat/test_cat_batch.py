"""The lock-step batch simulator makes the per-session engine's decisions: item by item through
``next_step`` (given the batch's random draws where a rule draws), the same final θ as ``finish``,
and the same tests as the engine-driven lock-step simulator where no rule draws."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cat_banks import DIMENSIONS, DOMAINS, mixed

from irt.cat import CatBank, CatConfig, finish
from irt.cat.batch import BatchResult, simulate_batch
from irt.cat.draws import fixed_draws, pick
from irt.cat.simulator import replay, simulate, summarize

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "fixed-length": {"stopping": {"se": None, "max_items": 12}},
    "mle": {"estimation": {"interim": "mle", "final": "wle"}},
    "map-eap": {"estimation": {"interim": "map", "final": "eap"}},
    "kl": {"selection": {"method": "kl"}, "stopping": {"se": 0.35}},
    "randomesque": {"exposure": {"method": "randomesque", "k": 4}},
    "easy-start": {"start": {"method": "easy", "n_easy": 6},
                   "exposure": {"method": "randomesque", "k": 3}},
    "sympson-hetter": {"exposure": {"method": "sympson-hetter",
                                    "parameters": {f"U{u:03d}": 0.25 for u in range(0, 120, 2)}}},
    "content": {
        "content": {"dimension": dict.fromkeys(DIMENSIONS, 0.25),
                    "domain": {DOMAINS[0]: 0.4, DOMAINS[1]: 0.3}, "tolerance": 0.05},
        "stopping": {"se": None, "max_items": 20},
    },
    "a-stratified": {"selection": {"method": "a-stratified", "strata": 3, "unit_criterion": "sum"},
                     "stopping": {"se": None, "max_items": 16}},
    "min-information": {"stopping": {"se": 0.2, "min_items": 3, "min_information": 0.6,
                                     "max_items": 25}},
}


def _delivered(bank: CatBank, res: BatchResult, e: int) -> list[str]:
    return [item for u in res.units[e] for item in bank.unit_items(u)]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_batch_equals_next_step_item_by_item(units_bank: CatBank, name: str) -> None:
    cfg = CatConfig.from_dict(CONFIGS[name])
    theta = np.random.default_rng(3).normal(size=40)
    res = simulate_batch(units_bank, cfg, theta, seed=4)
    assert set(res.reasons) <= {"max_items", "se", "bank_exhausted", "no_information"}
    for e in range(theta.size):
        with fixed_draws(res.draws.session(e)):
            items, _ = replay(units_bank, cfg, res, e)
        assert items == _delivered(units_bank, res, e), (name, e)
        assert len(items) == res.lengths[e]
        history = [(i, _score(units_bank, res, e, i)) for i in items]
        final = finish(units_bank, cfg, history)
        assert final.theta == pytest.approx(res.theta[e], abs=1e-7)
        assert final.se == pytest.approx(res.se[e], rel=1e-6)


def _score(bank: CatBank, res: BatchResult, e: int, item: str) -> int | None:
    r = bank.routing[bank.item_position[item]]
    return int(res.answers[e, r]) if r >= 0 else None


def test_polytomous_and_3pl_items_step_alike() -> None:
    bank = CatBank.build(mixed(150, 8))
    cfg = CatConfig.from_dict({"exposure": {"method": "randomesque", "k": 3},
                               "stopping": {"se": 0.3, "max_items": 15}})
    res = simulate_batch(bank, cfg, np.random.default_rng(9).normal(size=30), seed=1)
    for e in range(30):
        with fixed_draws(res.draws.session(e)):
            items, _ = replay(bank, cfg, res, e)
        assert items == _delivered(bank, res, e)


@pytest.mark.parametrize("name", ["default", "mle", "kl", "content", "a-stratified"])
def test_without_random_rules_the_live_seed_replays_and_the_old_simulator_agrees(
    units_bank: CatBank, name: str
) -> None:
    cfg = CatConfig.from_dict(CONFIGS[name])
    theta = np.random.default_rng(5).normal(size=60)
    batch = simulate_batch(units_bank, cfg, theta, seed=7)
    engine = simulate(units_bank, cfg, theta, seed=7)  # engine.select per step, live draws
    assert batch.units == engine.units and batch.reasons == engine.reasons
    np.testing.assert_allclose(batch.theta, engine.theta, atol=1e-9)
    np.testing.assert_array_equal(batch.lengths, engine.lengths)
    np.testing.assert_array_equal(batch.item_exposure, engine.item_exposure)
    for e in range(5):  # no fixed draws: the session's own seed
        items, _ = replay(units_bank, cfg, batch, e)
        assert items == _delivered(units_bank, batch, e)


def test_report_and_exposure_bookkeeping(bank300: CatBank) -> None:
    cfg = CatConfig.from_dict({"exposure": {"method": "randomesque", "k": 5}})
    theta = np.random.default_rng(2).normal(size=400)
    res = simulate_batch(bank300, cfg, theta, seed=3)
    report = summarize(res)
    assert report["examinees"] == 400 and 0 < report["rmse"] < 0.5
    given = np.zeros(bank300.n_units)
    for us in res.units:
        given[us] += 1
    np.testing.assert_allclose(res.unit_exposure, given / 400)
    assert res.n_selections == sum(len(us) for us in res.units)
    assert (res.unit_order >= 0).sum() == res.n_selections


def test_pick_turns_a_uniform_into_each_choice_equally_often() -> None:
    u = np.random.default_rng(0).random(60_000)
    for m in (1, 3, 5):
        counts = np.bincount(pick(u, m), minlength=m)
        assert counts.size == m
        # each within 5 binomial SDs of N/m
        sd = np.sqrt(u.size * (1 / m) * (1 - 1 / m))
        assert np.all(np.abs(counts - u.size / m) <= 5 * sd + 1e-9)
    assert pick(np.nextafter(1.0, 0.0), 7) == 6


@pytest.mark.parametrize(
    "settings",
    [{}, {"exposure": {"method": "randomesque", "k": 5}}, {"selection": {"unit_criterion": "sum"}},
     {"stopping": {"se": 0.25, "min_items": 4, "min_information": 0.5, "max_items": 30}}],
    ids=["max-info", "randomesque", "sum", "min-information"],
)
def test_one_item_units_take_the_shortcut_and_decide_alike(
    bank300: CatBank, settings: dict[str, Any]
) -> None:
    """Single-item units without content targets or lotteries score all rows at once (the
    batch's fast path): still the engine's decisions, and the old simulator's tests."""
    cfg = CatConfig.from_dict(settings)
    theta = np.random.default_rng(11).normal(size=50)
    res = simulate_batch(bank300, cfg, theta, seed=12)
    for e in range(theta.size):
        with fixed_draws(res.draws.session(e)):
            items, _ = replay(bank300, cfg, res, e)
        assert items == _delivered(bank300, res, e)
    if "exposure" not in settings:
        old = simulate(bank300, cfg, theta, seed=12)
        assert old.units == res.units and old.reasons == res.reasons
        np.testing.assert_allclose(old.theta, res.theta, atol=1e-9)
