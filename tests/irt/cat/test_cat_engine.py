"""The engine: accuracy against test information, resumption, units, open responses, models."""

from __future__ import annotations

import numpy as np
import pytest
from cat_banks import mixed, two_pl, unit_bank

from irt.cat import BankItem, CatBank, CatConfig, CatHistoryError, finish, next_step
from irt.cat.bank import CatBankError
from irt.cat.engine import parse_history
from irt.cat.simulator import replay, simulate, summarize
from irt.models import item_information


def test_rmse_and_length_agree_with_test_information(bank300: CatBank) -> None:
    # Max information to SE 0.3.  Asymptotically the final WLE has SD 1/sqrt(I(θ)) over the items
    # given, and the rule stops once the interim SE reaches 0.3, so (1) the information-predicted
    # SE at stop is ≈ 0.3 and (2) the empirical RMSE is ≈ that prediction.  Tolerances: the RMSE of
    # 1,000 examinees has a sampling SE of ~2.5 %; the asymptotic formula is ~5-10 % off for tests
    # of ~12 items; so ±15 %.  A broken selector (random items) needs ~2x the length: checked too.
    cfg = CatConfig.from_dict({"stopping": {"se": 0.3, "min_items": 1, "max_items": 60}})
    theta = np.random.default_rng(1).normal(size=1000)
    res = simulate(bank300, cfg, theta, seed=2)
    info = item_information(bank300.params, theta)  # (R, N)
    given = np.zeros((theta.size, bank300.params.n_items), bool)
    for n, units in enumerate(res.units):
        given[n, bank300.routing[bank300.unit_start[units]]] = True
    predicted = np.sqrt(np.mean(1.0 / np.sum(info.T * given, axis=1)))
    rmse = float(np.sqrt(np.mean((res.theta - theta) ** 2)))
    assert predicted == pytest.approx(0.3, rel=0.15)
    assert rmse == pytest.approx(predicted, rel=0.15)
    assert set(res.reasons) <= {"se", "max_items"}
    assert res.reasons.count("se") > 950
    # the length needed: I ≥ 1/0.3² - 1 (prior) at the best information per item of this bank
    best_info = item_information(bank300.params, theta).max(axis=0).mean()
    assert res.lengths.mean() < 2.5 * (1 / 0.09 - 1) / best_info
    report = summarize(res)
    assert report["mean_length"] == pytest.approx(res.lengths.mean())
    assert len(report["conditional"]) == 10


@pytest.mark.parametrize(
    "settings",
    [
        {"exposure": {"method": "randomesque", "k": 4}},
        {"start": {"method": "easy"}, "selection": {"method": "kl"}},
        {"selection": {"method": "a-stratified", "strata": 3}, "estimation": {"interim": "mle"}},
        {
            "exposure": {"method": "sympson-hetter", "parameters": {"U001": 0.2, "U005": 0.5}},
            "content": {"dimension": {"issues": 0.3, "action": 0.2}, "tolerance": 0.1},
            "estimation": {"interim": "map"},
        },
    ],
)
def test_resumed_session_continues_exactly(units_bank: CatBank, settings: dict) -> None:
    cfg = CatConfig.from_dict({**settings, "stopping": {"se": 0.25, "max_items": 25}})
    rng = np.random.default_rng(7)
    history: list[tuple[str, int | None]] = []
    steps = []
    while True:
        step = next_step(units_bank, cfg, history, seed=42)
        steps.append(step)
        if step.finished:
            break
        history.append((step.item, int(rng.integers(2))))
    assert len(history) > 5
    # a new bank object (a restarted server: empty caches) and every truncation point
    fresh = unit_bank(120, 5, open_every=3)
    for cut in range(len(history) + 1):
        assert next_step(fresh, cfg, history[:cut], seed=42) == steps[cut]
    # another seed changes the randomised choices (the draws do depend on the seed)
    if settings.get("exposure", {}).get("method") == "randomesque":
        other = [next_step(units_bank, cfg, history[:c], seed=43).unit for c in range(8)]
        assert other != [s.unit for s in steps[:8]]


def test_units_are_delivered_whole_and_in_order(units_bank: CatBank) -> None:
    cfg = CatConfig.from_dict({"stopping": {"se": 0.2, "max_items": 20}})
    res = simulate(units_bank, cfg, np.random.default_rng(3).normal(size=30), seed=4)
    for e in range(30):
        items, _ = replay(units_bank, cfg, res, e)
        assert len(items) == res.lengths[e] <= 20
        pos = 0
        while pos < len(items):
            unit = units_bank.item_unit[units_bank.item_position[items[pos]]]
            expected = units_bank.unit_items(int(unit))
            assert tuple(items[pos : pos + len(expected)]) == expected
            pos += len(expected)


def test_history_that_splits_a_unit_is_rejected(units_bank: CatBank) -> None:
    big = int(np.flatnonzero(units_bank.unit_size >= 2)[0])
    other = units_bank.unit_items((big + 1) % units_bank.n_units)
    first = units_bank.unit_items(big)[0]
    with pytest.raises(CatHistoryError, match="left before all its items"):
        parse_history(units_bank, [(first, 1), (other[0], 0)])
    with pytest.raises(CatHistoryError, match="not in the bank"):
        parse_history(units_bank, [("nope", 1)])
    with pytest.raises(CatHistoryError, match="score 3"):
        parse_history(units_bank, [(other[0], 3)])


def test_open_responses_are_delivered_but_do_not_route(units_bank: CatBank) -> None:
    open_items = [i for i, r in zip(units_bank.item_ids, units_bank.routing, strict=True) if r < 0]
    assert "uncalibrated" in open_items and len(open_items) > 10
    cfg = CatConfig.from_dict({"stopping": {"se": None, "max_items": 40}})
    history: list[tuple[str, int | None]] = []
    delivered_open = 0
    while not (step := next_step(units_bank, cfg, history, seed=1)).finished:
        routing = units_bank.routing[units_bank.item_position[step.item]] >= 0
        delivered_open += not routing
        history.append((step.item, 1 if routing else None))  # open items: not yet coded
    assert delivered_open > 0
    # scores given later to open items change neither θ nor the next selection
    coded = [(i, s if s is not None else 1) for i, s in history]
    zeros = [(i, s if s is not None else 0) for i, s in history]
    a, b = next_step(units_bank, cfg, coded[:-3], 1), next_step(units_bank, cfg, zeros[:-3], 1)
    assert a == b
    assert finish(units_bank, cfg, coded).theta == finish(units_bank, cfg, history).theta
    # a unit with no routing item is never selected
    bank = CatBank.build(
        two_pl(2, 3),
        [
            BankItem("essay", "OPEN", auto_scored=False),
            BankItem("i0000", "A"),
            BankItem("i0001", "B"),
        ],
    )
    units = []
    h: list[tuple[str, int | None]] = []
    while not (s := next_step(bank, {"stopping": {"min_items": 0}}, h, 0)).finished:
        units.append(s.unit)
        h.append((s.item, 0))
    assert sorted(units) == ["A", "B"] and s.reason == "bank_exhausted"


def test_bank_rejects_parameters_without_a_unit() -> None:
    with pytest.raises(CatBankError, match="not in the bank's item list"):
        CatBank.build(two_pl(3, 1), [BankItem("i0000", "A")])


@pytest.mark.parametrize("method", ["max-info", "kl", "a-stratified"])
def test_polytomous_and_mixed_banks(method: str) -> None:
    bank = CatBank.build(mixed(250, 9))
    cfg = CatConfig.from_dict(
        {"selection": {"method": method}, "stopping": {"se": 0.3, "max_items": 30}}
    )
    theta = np.random.default_rng(5).normal(size=300)
    res = simulate(bank, cfg, theta, seed=6)
    rmse = np.sqrt(np.mean((res.theta - theta) ** 2))
    assert rmse < 0.42, rmse  # random selection of 30 such items gives ~0.45-0.5
    assert np.corrcoef(res.theta, theta)[0, 1] > 0.9
    given = {bank.params.models[bank.routing[bank.unit_start[u]]] for us in res.units for u in us}
    assert {"grm", "gpcm"} <= given and len(given) >= 3


def test_kl_targets_the_estimate_and_a_stratification_saves_high_a() -> None:
    bank = CatBank.build(two_pl(400, 21))
    # KL at θ̂ = 1.5 after many items ≈ Fisher: picks an item with b near 1.5
    cfg = CatConfig.from_dict({"selection": {"method": "kl"}})
    from irt.cat.selection import criterion

    crit, _ = criterion(bank, cfg, np.array([1.5]), np.array([25]), np.ones((1, 400), bool))
    assert abs(bank.unit_b[np.argmax(crit[0])] - 1.5) < 0.5
    # a-stratified: the first stage's units have lower a than the last stage's
    cfg = CatConfig.from_dict(
        {
            "selection": {"method": "a-stratified", "strata": 4},
            "stopping": {"se": None, "max_items": 20},
        }
    )
    res = simulate(bank, cfg, np.random.default_rng(2).normal(size=200), seed=3)
    early = np.mean([bank.unit_a[us[:5]].mean() for us in res.units])
    late = np.mean([bank.unit_a[us[-5:]].mean() for us in res.units])
    assert early < late - 0.3


def test_selection_on_a_2000_item_bank_is_the_same_on_every_call() -> None:
    # (its speed is measured in benchmarks/cat.py, never in a timed test)
    bank = CatBank.build(two_pl(2000, 4))
    cfg = CatConfig.from_dict({})
    history = [(bank.item_ids[j], j % 2) for j in range(0, 40, 4)]
    first = next_step(bank, cfg, history, 1)  # builds the tables once
    assert first.item is not None and first.item not in {i for i, _ in history}
    assert all(next_step(bank, cfg, history, 1).item == first.item for _ in range(5))


def test_finish_reports_scale_and_level(bank300: CatBank) -> None:
    cfg = CatConfig.from_dict(
        {
            "reporting": {
                "mean": 500,
                "sd": 100,
                "population": {"mean": 0.5, "sd": 2.0},
                "levels": {
                    "cuts": [450, 550],
                    "labels": ["low", "mid", "high"],
                    "descriptors": [{"en": "L"}, {"en": "M"}, {"en": "H"}],
                },
            }
        }
    )
    history = [(bank300.item_ids[j], 1) for j in range(6)] + [(bank300.item_ids[6], 0)]
    res = finish(bank300, cfg, history)
    assert res.method == "wle" and res.n_items == 7
    assert res.scale_score == pytest.approx(500 + 100 * (res.theta - 0.5) / 2.0)
    assert res.scale_se == pytest.approx(50 * res.se)
    expected = "low" if res.scale_score < 450 else "mid" if res.scale_score < 550 else "high"
    assert res.level is not None and res.level.label == expected
    empty = finish(bank300, {"estimation": {"final": "eap"}}, [])
    assert (empty.theta, empty.se, empty.method) == (0.0, 1.0, "eap")


@pytest.mark.parametrize("interim", ["eap", "mle"])
def test_interim_eap_from_the_bank_tables_equals_scoring_eap(interim: str) -> None:
    # The engine's interim EAP sums log P from a table built once per bank; it must be the EAP
    # of irt.scoring on the answered items (mixed models, missing answers, several sessions).
    from irt import scoring
    from irt.cat.estimation import interim_estimate

    bank = CatBank.build(mixed(60, 3))
    cfg = CatConfig.from_dict({"estimation": {"interim": interim}})
    rng = np.random.default_rng(11)
    top = bank.params.n_categories
    responses = np.floor(rng.random((40, 60)) * top[None, :])
    responses[rng.random((40, 60)) < 0.7] = np.nan
    responses[0] = np.nan  # a session with no answer yet
    theta, se = interim_estimate(bank, cfg, responses)
    cols = np.flatnonzero(~np.all(np.isnan(responses), axis=0))
    ref = scoring.eap(bank.params.subset(cols), responses[:, cols])
    check = slice(None) if interim == "eap" else [0]  # MLE replaces EAP for mixed patterns
    np.testing.assert_allclose(theta[check], ref.theta[check], rtol=0, atol=1e-10)
    np.testing.assert_allclose(se[check], ref.se[check], rtol=0, atol=1e-10)
    # a person's own prior goes through scoring.eap: the tables' answer under that prior agrees
    from irt.cat.estimation import _table_eap

    eap_only = CatConfig.from_dict({"estimation": {"interim": "eap"}})
    theta_p, _ = interim_estimate(bank, eap_only, responses[:3], prior=(0.3, 1.2))
    theta_t, _ = _table_eap(bank, responses[:3], cols, 0.3, 1.2)
    np.testing.assert_allclose(theta_p[1:], theta_t[1:], rtol=0, atol=1e-10)
