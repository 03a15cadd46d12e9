"""Cohen's kappa on designed tables with known answers (Cohen 1960; the textbook 2×2 examples)."""

from __future__ import annotations

import numpy as np
import pytest

from irt.agreement import AgreementError, cohen_kappa, kappa_from_table


def _codes(table: list[list[int]], cats: list[str]) -> tuple[list[str], list[str]]:
    first, second = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            first += [cats[i]] * count
            second += [cats[j]] * count
    return first, second


@pytest.mark.parametrize(
    ("table", "kappa"),
    [
        ([[20, 5], [10, 15]], 0.4),  # p_o = .70, p_e = .50
        ([[45, 15], [25, 15]], 0.1304),
        ([[25, 35], [5, 35]], 0.2593),
    ],
)
def test_textbook_two_by_two(table: list[list[int]], kappa: float) -> None:
    first, second = _codes(table, ["yes", "no"])
    result = cohen_kappa(first, second, ["yes", "no"])
    assert result.kappa == pytest.approx(kappa, abs=1e-4)
    assert result.n == sum(map(sum, table))
    assert result.percent == pytest.approx(100 * (table[0][0] + table[1][1]) / result.n)
    np.testing.assert_array_equal(result.table, table)


def test_perfect_and_chance_agreement() -> None:
    assert cohen_kappa(list("0120"), list("0120")).kappa == pytest.approx(1.0)
    # independent coders: every cell equal -> p_o = p_e -> kappa 0
    _, kappa, _ = kappa_from_table(np.full((3, 3), 7.0))
    assert kappa == pytest.approx(0.0)


def test_standard_error_matches_the_bootstrap() -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 400)
    noisy = np.where(rng.random(400) < 0.25, rng.integers(0, 3, 400), truth)
    result = cohen_kappa(list(truth), list(noisy))
    boots = []
    for _ in range(400):
        idx = rng.integers(0, 400, 400)
        boots.append(cohen_kappa(list(truth[idx]), list(noisy[idx]), result.categories).kappa)
    assert result.se == pytest.approx(np.std(boots), rel=0.2)


def test_one_code_only_and_bad_input() -> None:
    assert np.isnan(cohen_kappa(["1", "1"], ["1", "1"]).kappa)
    with pytest.raises(AgreementError):
        cohen_kappa(["1"], ["1", "0"])
    with pytest.raises(AgreementError):
        cohen_kappa([], [])
