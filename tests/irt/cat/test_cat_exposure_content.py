"""Exposure control and content balancing in simulation; configuration and reporting errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from cat_banks import DIMENSIONS, two_pl

from irt.cat import BankItem, CatBank, CatConfig, CatConfigError
from irt.cat.simulator import derive_sympson_hetter, overlap_rate, simulate
from irt.reporting import ProficiencyLevels, ReportingError, ReportingScale, from_dict


def test_randomesque_lowers_max_exposure(bank300: CatBank) -> None:
    theta = np.random.default_rng(1).normal(size=400)
    base = {"stopping": {"se": 0.3, "max_items": 20}}
    none = simulate(bank300, CatConfig.from_dict(base), theta, seed=2)
    rq = simulate(
        bank300,
        CatConfig.from_dict({**base, "exposure": {"method": "randomesque", "k": 5}}),
        theta,
        seed=2,
    )
    assert none.item_exposure.max() == 1.0  # same start θ: everyone gets the same first item
    assert rq.item_exposure.max() < none.item_exposure.max() - 0.1
    assert overlap_rate(rq.item_exposure, rq.lengths) < overlap_rate(
        none.item_exposure, none.lengths
    )


def test_sympson_hetter_keeps_exposure_under_target(bank300: CatBank) -> None:
    cfg = CatConfig.from_dict(
        {
            "stopping": {"se": 0.3, "max_items": 20},
            "exposure": {"method": "sympson-hetter", "max_rate": 0.25},
        }
    )
    rng = np.random.default_rng(4)
    params = derive_sympson_hetter(bank300, cfg, rng.normal(size=800), seed=5, iterations=8)
    assert params and all(0 < k < 1 for k in params.values())
    derived = replace(cfg, exposure=replace(cfg.exposure, parameters=params))
    fresh = simulate(bank300, derived, rng.normal(size=800), seed=99)
    # binomial noise of 800 examinees at 0.25: SD 0.015; the max over ~60 capped units ≈ +2.5 SD
    assert fresh.item_exposure.max() <= 0.25 + 0.045
    uncontrolled = simulate(
        bank300,
        replace(cfg, exposure=replace(cfg.exposure, method="none")),
        rng.normal(size=800),
        seed=99,
    )
    assert uncontrolled.item_exposure.max() > 0.9
    assert (uncontrolled.item_exposure > 0.3).sum() > 5


def _content_bank() -> CatBank:
    # 240 single-item units; the most informative items are mostly "issues"; bank shares are
    # 55 % / 15 % / 15 % / 15 % across the four dimensions.
    params = two_pl(240, 8)
    order = np.argsort(-params.a)
    dims = {}
    for rank, j in enumerate(order):
        dims[j] = DIMENSIONS[0] if rank < 100 or rank % 4 == 0 else DIMENSIONS[1 + rank % 3]
    items = [BankItem(params.ids[j], f"U{j}", dims[j], "culture") for j in range(240)]
    return CatBank.build(params, items)


def test_content_targets_are_met_within_tolerance() -> None:
    bank = _content_bank()
    target = {d: 0.25 for d in DIMENSIONS}
    base = {"stopping": {"se": None, "max_items": 20}}
    theta = np.random.default_rng(3).normal(size=300)

    def proportions(cfg: CatConfig) -> np.ndarray:
        res = simulate(bank, cfg, theta, seed=4)
        out = np.zeros((theta.size, len(DIMENSIONS)))
        for n, units in enumerate(res.units):
            for u in units:
                out[n, DIMENSIONS.index(bank.dimension[bank.unit_start[u]])] += 1
        return out / res.lengths[:, None]

    free = proportions(CatConfig.from_dict(base))
    balanced = proportions(
        CatConfig.from_dict({**base, "content": {"dimension": target, "tolerance": 0.05}})
    )
    assert np.mean(np.all(np.abs(free - 0.25) <= 0.05 + 1e-9, axis=1)) < 0.2
    assert np.all(np.abs(balanced - 0.25) <= 0.05 + 1e-9)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stopping": {"se": -1}}, "stopping.se"),
        ({"stopping": {"max_items": "many"}}, "stopping.max_items"),
        ({"stopping": {"min_items": 40, "max_items": 30}}, "stopping.min_items"),
        ({"selection": {"method": "best"}}, "selection.method"),
        ({"exposure": {"max_rate": 0}}, "exposure.max_rate"),
        ({"exposure": {"parameters": {"U1": 2}}}, "exposure.parameters.U1"),
        ({"content": {"dimension": {"a": 0.7, "b": 0.6}}}, "content.dimension"),
        ({"stoping": {}}, "stoping"),
        ({"start": {"methd": "easy"}}, "start.methd"),
    ],
)
def test_bad_config_names_the_field(data: dict, field: str) -> None:
    with pytest.raises(CatConfigError) as err:
        CatConfig.from_dict(data)
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")


def test_reporting_scale_and_levels() -> None:
    scale = ReportingScale(population_mean=0.2, population_sd=0.8)
    assert scale.score(0.2) == pytest.approx(500)
    assert scale.score(1.0) == pytest.approx(600)
    assert scale.se(0.4) == pytest.approx(50)
    assert scale.theta(scale.score(-1.3)) == pytest.approx(-1.3)
    levels = ProficiencyLevels((400.0, 500.0), ("1", "2", "3"), ({"en": "a"}, {"en": "b"}, {}))
    assert list(levels.index([399.9, 400, 499, 500, 800])) == [0, 1, 1, 2, 2]
    assert levels.level(450).descriptor == {"en": "b"}
    with pytest.raises(ReportingError, match="reporting.levels.labels"):
        ProficiencyLevels((1.0, 2.0), ("a", "b"), ({}, {}))
    with pytest.raises(ReportingError, match="reporting.levels.cuts"):
        from_dict({"levels": {"cuts": [2, 1], "labels": ["a", "b", "c"], "descriptors": [{}] * 3}})
    with pytest.raises(ReportingError, match="reporting.population.sd"):
        from_dict({"population": {"sd": 0}})
