"""Questionnaire indices (irt/questionnaire.py): recovery of generating values with five GPCM
items per scale, weighted standardisation, reverse coding, and the RMSD invariance check that
flags a non-invariant item and no invariant one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from irt import questionnaire as q
from irt.models import ItemParameters, sample_responses


def _scale_items(rng: np.random.Generator, n_items: int = 5, n_cat: int = 4) -> ItemParameters:
    """Likert items as questionnaires have them: slopes 0.8–2, steps ~1 logit apart."""
    records = []
    for j in range(n_items):
        centre = float(rng.uniform(-0.8, 0.8))
        steps = centre + np.linspace(-1.2, 1.2, n_cat - 1) + rng.normal(0.0, 0.15, n_cat - 1)
        records.append(
            {"id": f"q{j + 1}", "model": "gpcm", "a": float(rng.uniform(0.8, 2.0)),
             "b": sorted(float(s) for s in steps)}
        )
    return ItemParameters.from_records(records)


def _scaled(x: np.ndarray, ids: tuple[str, ...], **kw: object) -> q.ScaleIndex:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # calibration notes (none expected) are not the subject
        return q.scale(x, ids, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_cat", [4, 5])
def test_indices_recover_their_generating_values_with_five_items(n_cat: int) -> None:
    rng = np.random.default_rng(2104 + n_cat)
    params = _scale_items(rng, 5, n_cat)
    theta = rng.normal(size=1500)
    x = sample_responses(params, theta, rng).astype(float)
    x[rng.random(x.shape) < 0.03] = np.nan  # a few items skipped
    result = _scaled(x, params.ids)
    assert result.calibration.converged
    r = np.corrcoef(result.index, theta)[0, 1]
    assert r >= 0.8, r
    assert 0.6 < result.reliability < 0.95
    # the calibration recovers the slopes (GPCM, Muraki 1992)
    assert np.corrcoef(result.params.a, params.a)[0, 1] > 0.9
    # standardised: mean 0, SD 1 in the (unweighted) population
    assert abs(np.mean(result.index)) < 1e-9
    assert np.std(result.index) == pytest.approx(1.0, abs=1e-9)
    assert np.all(result.se > 0) and np.all(np.isfinite(result.se))


def test_extreme_patterns_get_finite_indices() -> None:
    rng = np.random.default_rng(7)
    params = _scale_items(rng)
    theta = rng.normal(size=800)
    x = sample_responses(params, theta, rng).astype(float)
    x[0] = 0
    x[1] = 3
    result = _scaled(x, params.ids)
    assert np.all(np.isfinite(result.index))
    assert result.index[0] == result.index.min() and result.index[1] == result.index.max()


def test_standardise_is_weighted_in_the_reference_population() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0, np.nan])
    weights = np.array([1.0, 1.0, 1.0, 3.0, 5.0, 1.0])
    reference = np.array([True, True, True, True, False, True])
    std = q.standardise(values, weights=weights, reference=reference)
    # weighted mean (1 + 2 + 3 + 12) / 6 = 3, variance (4 + 1 + 0 + 3) / 6 = 4/3
    assert std.mean == pytest.approx(3.0)
    assert std.sd == pytest.approx(np.sqrt(4 / 3))
    assert std.apply(np.array([3.0]))[0] == pytest.approx(0.0)


def test_index_has_weighted_mean_zero_and_sd_one_in_the_reference() -> None:
    rng = np.random.default_rng(11)
    params = _scale_items(rng)
    theta = rng.normal(size=1000)
    x = sample_responses(params, theta, rng).astype(float)
    weights = rng.uniform(0.5, 3.0, 1000)
    reference = np.arange(1000) < 600
    result = _scaled(x, params.ids, weights=weights, reference=reference)
    idx, w = result.index[reference], weights[reference]
    mean = np.sum(w * idx) / w.sum()
    assert mean == pytest.approx(0.0, abs=1e-9)
    assert np.sqrt(np.sum(w * (idx - mean) ** 2) / w.sum()) == pytest.approx(1.0, abs=1e-9)


def test_too_few_answers_give_no_index() -> None:
    rng = np.random.default_rng(5)
    params = _scale_items(rng)
    x = sample_responses(params, rng.normal(size=600), rng).astype(float)
    x[0, 1:] = np.nan  # one answer
    x[1, :] = np.nan  # none
    result = _scaled(x, params.ids, min_responses=3)
    assert np.isnan(result.index[:2]).all() and np.isnan(result.se[:2]).all()
    assert np.isfinite(result.index[2:]).all()
    assert list(result.n_responses[:3]) == [1, 0, 5]


def test_reverse_code_turns_round_the_flagged_items_only() -> None:
    x = np.array([[0.0, 0.0, np.nan], [3.0, 1.0, 4.0]])
    out = q.reverse_code(x, [True, False, True], [4, 4, 5])
    np.testing.assert_array_equal(out, [[3.0, 0.0, np.nan], [0.0, 1.0, 0.0]])
    with pytest.raises(q.QuestionnaireError):
        q.reverse_code(x, [True], [4, 4, 5])


def _two_languages(seed: int, shift: float) -> tuple[ItemParameters, np.ndarray, np.ndarray]:
    """Two language groups 0.3 SD apart; item q3 is `shift` logits harder (all steps) in en."""
    rng = np.random.default_rng(seed)
    params = _scale_items(rng)
    n = 2000
    lang = np.where(np.arange(n) < n // 2, "zh-TW", "en")
    theta = rng.normal(size=n) + 0.3 * (lang == "en")
    x = sample_responses(params, theta, rng).astype(float)
    records = params.to_records()
    records[2]["b"] = [b + shift for b in records[2]["b"]]
    shifted = ItemParameters.from_records(records)
    x[lang == "en", 2] = sample_responses(shifted, theta[lang == "en"], rng)[:, 2]
    return params, x, lang


def test_a_non_invariant_item_is_flagged_and_the_invariant_ones_are_not() -> None:
    params, x, lang = _two_languages(2121, shift=1.5)
    inv = _scaled(x, params.ids, groups=lang).invariance
    assert inv is not None
    assert inv.groups == ("en", "zh-TW")
    assert list(inv.n) == [1000, 1000]
    flagged_items = {item for _, item, _ in inv.flags()}
    assert flagged_items == {"q3"}
    others = np.delete(inv.rmsd, 2, axis=1)
    assert others.max() < 0.08, inv.rmsd
    assert inv.by_category.shape == (2, 5, 4)
    report = inv.to_dict()
    assert report["threshold"] == 0.12
    assert [i["flagged"] for i in report["groups"][0]["items"]] == [False, False, True, False, False]
    assert len(report["groups"][0]["items"][0]["rmsd_by_category"]) == 4


def test_a_group_that_differs_in_level_only_is_not_flagged() -> None:
    params, x, lang = _two_languages(2122, shift=0.0)
    inv = _scaled(x, params.ids, groups=lang).invariance
    assert inv is not None
    assert not inv.flagged.any(), inv.rmsd
    # the group populations are estimated on the pooled metric: en is the higher one
    assert inv.population_mean[0] - inv.population_mean[1] > 0.15


def test_the_threshold_is_configurable() -> None:
    params, x, lang = _two_languages(2121, shift=1.5)
    result = _scaled(x, params.ids)
    strict = q.invariance(result.params, x, lang, threshold=0.01)
    lenient = q.invariance(result.params, x, lang, threshold=0.5)
    assert strict.flagged.all() and not lenient.flagged.any()
    with pytest.raises(q.QuestionnaireError):
        q.invariance(result.params, x, lang, threshold=0.0)


def test_split_by_group_gives_a_column_per_group() -> None:
    x = np.array([[0.0, 1.0], [2.0, 3.0], [1.0, np.nan]])
    out, ids = q.split_by_group(x, ["a", "b"], ["b"], ["zh-TW", "en", "en"])
    assert ids == ["a", "b[en]", "b[zh-TW]"]
    np.testing.assert_array_equal(out, [[0.0, np.nan, 1.0], [2.0, 3.0, np.nan], [1.0, np.nan, np.nan]])
    with pytest.raises(q.QuestionnaireError, match="not in the scale"):
        q.split_by_group(x, ["a", "b"], ["c"], ["zh-TW", "en", "en"])


def test_freeing_the_flagged_item_restores_the_group_difference() -> None:
    # en is 0.3 SD higher; the non-invariant q3 hides part of that under common parameters
    params, x, lang = _two_languages(2121, shift=1.5)
    common = _scaled(x, params.ids, groups=lang)
    freed = _scaled(x, params.ids, groups=lang, free_flagged=True)
    assert freed.freed == ("q3",) and common.freed == ()
    assert "q3[en]" in freed.params.ids and "q3" not in freed.params.ids
    en = lang == "en"

    def gap(r: q.ScaleIndex) -> float:
        return float(r.index[en].mean() - r.index[~en].mean())

    assert 0.2 < gap(freed) < 0.4
    assert gap(freed) - gap(common) > 0.1
    assert freed.invariance is not None and freed.invariance.flagged[:, 2].any()
