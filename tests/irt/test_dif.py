"""Mantel–Haenszel DIF: hand-computed tables, flags simulated DIF, classification rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from irt import dif
from irt.models import ItemParameters, sample_responses

DIF_ITEMS = (3, 9, 15)


def simulate(
    rng: np.random.Generator, n: int = 1500, shift: float = 0.6, model: str = "2pl"
) -> tuple[np.ndarray, np.ndarray]:
    j = 20
    b = np.linspace(-1.8, 1.8, j)
    a = rng.uniform(0.8, 1.6, j)

    def bank(shifts: np.ndarray) -> ItemParameters:
        if model == "grm":
            return ItemParameters.from_records(
                {
                    "id": f"i{k}",
                    "model": "grm",
                    "a": a[k],
                    "b": [b[k] - 0.8 + shifts[k], b[k] + shifts[k], b[k] + 0.8 + shifts[k]],
                }
                for k in range(j)
            )
        return ItemParameters.from_records(
            {"id": f"i{k}", "model": "2pl", "a": a[k], "b": b[k] + shifts[k]} for k in range(j)
        )

    shifts = np.zeros(j)
    shifts[list(DIF_ITEMS)] = shift
    ref = sample_responses(bank(np.zeros(j)), rng.normal(0, 1, n), rng)
    foc = sample_responses(bank(shifts), rng.normal(-0.3, 1, n), rng)  # impact as well as DIF
    groups = np.array(["R"] * n + ["F"] * n, dtype=object)
    return np.vstack([ref, foc]).astype(float), groups


def test_hand_computed_two_strata() -> None:
    # stratum 1: ref 30 right 10 wrong; focal 20 right 20 wrong
    # stratum 2: ref 40 right 5 wrong; focal 30 right 10 wrong
    def block(right: int, wrong: int) -> list[int]:
        return [1] * right + [0] * wrong

    x = np.array(block(30, 10) + block(20, 20) + block(40, 5) + block(30, 10), dtype=float)
    focal = np.array([False] * 40 + [True] * 40 + [False] * 45 + [True] * 40)
    stratum = np.array([0] * 80 + [1] * 85)
    r = dif._item_dif(x, focal, stratum, False, "x", 0.05)
    num = 30 * 20 / 80 + 40 * 10 / 85
    den = 10 * 20 / 80 + 5 * 30 / 85
    assert r.alpha_mh == pytest.approx(num / den)
    assert r.mh_d_dif == pytest.approx(-2.35 * np.log(num / den))
    e_a = 40 * 50 / 80 + 45 * 70 / 85
    v_a = 40 * 40 * 50 * 30 / (80**2 * 79) + 45 * 40 * 70 * 15 / (85**2 * 84)
    chi = (abs(70 - e_a) - 0.5) ** 2 / v_a
    assert r.chi_square == pytest.approx(chi)
    assert r.p_value == pytest.approx(stats.chi2.sf(chi, 1))
    assert r.n_reference == 85 and r.n_focal == 80
    assert r.mh_d_dif < 0 and r.smd < 0  # favours the reference group


@pytest.mark.parametrize(
    ("d", "se", "p", "expected"),
    [
        (-0.5, 0.2, 0.001, "A"),
        (-1.2, 0.2, 0.30, "A"),
        (-1.2, 0.2, 0.001, "B"),
        (1.6, 0.5, 0.001, "B"),  # |D| ≥ 1.5 but not significantly above 1
        (-1.8, 0.2, 0.0001, "C"),
        (1.55, 0.2, 0.0001, "C"),  # (1.55 - 1)/0.2 = 2.75 > 1.645
    ],
)
def test_ets_classes(d: float, se: float, p: float, expected: str) -> None:
    assert dif.ets_class(d, se, p) == expected


def test_flags_simulated_uniform_dif_and_spares_the_rest() -> None:
    resp, groups = simulate(np.random.default_rng(7))
    result = dif.mantel_haenszel(resp, groups, reference="R", focal="F")
    classes = [r.ets_class for r in result.items]
    for k in DIF_ITEMS:
        assert classes[k] in ("B", "C"), classes
        assert result.items[k].mh_d_dif < -0.9  # harder for the focal group
    others = [c for k, c in enumerate(classes) if k not in DIF_ITEMS]
    assert others.count("A") >= 16
    assert result.purified
    assert not set(result.matching_items) & {f"i{k}" for k in DIF_ITEMS}


def test_no_dif_gives_small_deltas_and_few_rejections() -> None:
    resp, groups = simulate(np.random.default_rng(3), shift=0.0)
    result = dif.mantel_haenszel(resp, groups, reference="R", focal="F", purify=False)
    d = np.array([r.mh_d_dif for r in result.items])
    p = np.array([r.p_value for r in result.items])
    assert np.all(np.abs(d) < 0.6)
    assert np.mean(p < 0.05) <= 0.15
    assert all(r.ets_class == "A" for r in result.items)


def test_missing_data_booklets() -> None:
    rng = np.random.default_rng(21)
    resp, groups = simulate(rng, n=2500)
    # two booklets: items 0-11 and 8-19; each person takes one
    booklet = rng.random(resp.shape[0]) < 0.5
    resp[booklet, 12:] = np.nan
    resp[~booklet, :8] = np.nan
    result = dif.mantel_haenszel(resp, groups, reference="R", focal="F")
    classes = [r.ets_class for r in result.items]
    assert sum(classes[k] in ("B", "C") for k in DIF_ITEMS) >= 2
    assert sum(c == "A" for k, c in enumerate(classes) if k not in DIF_ITEMS) >= 15
    assert result.items[0].n_reference + result.items[0].n_focal < resp.shape[0]


def test_polytomous_items_use_mantel_and_smd() -> None:
    resp, groups = simulate(np.random.default_rng(5), n=1200, model="grm")
    result = dif.mantel_haenszel(resp, groups, reference="R", focal="F")
    for k, r in enumerate(result.items):
        assert r.kind == "polytomous" and np.isnan(r.mh_d_dif)
        if k in DIF_ITEMS:
            assert r.ets_class in ("BB", "CC") and r.smd < 0
    others = [r.ets_class for k, r in enumerate(result.items) if k not in DIF_ITEMS]
    assert others.count("AA") >= 15
    assert result.items[0].to_dict()["mh_d_dif"] is None


def test_persons_in_other_groups_are_ignored_and_errors() -> None:
    resp, groups = simulate(np.random.default_rng(1), n=300)
    groups = groups.copy()
    groups[:50] = "other"
    r = dif.mantel_haenszel(resp, groups, reference="R", focal="F")
    assert r.items[0].n_reference == 250
    with pytest.raises(dif.DIFError, match="'X'"):
        dif.mantel_haenszel(resp, groups, reference="X", focal="F")
    with pytest.raises(dif.DIFError):
        dif.mantel_haenszel(resp, groups[:10], reference="R", focal="F")
    with pytest.raises(dif.DIFError):
        dif.mantel_haenszel(resp, groups, reference="R", focal="R")


def test_an_item_nobody_in_a_group_saw_gives_an_empty_class() -> None:
    resp, groups = simulate(np.random.default_rng(1), n=200)
    resp[groups == "F", 0] = np.nan
    r = dif.mantel_haenszel(resp, groups, reference="R", focal="F")
    assert r.items[0].ets_class == "" and r.items[0].n_focal == 0
