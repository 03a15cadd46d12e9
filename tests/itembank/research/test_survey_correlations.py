"""Correlations with questionnaire indices (itembank/research/survey_correlations.py): a tiny case
computed by hand from the replicate formula and Rubin's rules, students without a value left out,
disclosure control, and a simulation where the index correlates 0.5 with θ."""

from __future__ import annotations

import numpy as np
import pytest

from irt.models import ItemParameters, sample_responses
from irt.replicates import given, random_groups
from irt.reporting import ReportingScale
from itembank.research.survey_correlations import correlation, correlations
from itembank.research.survey_report import survey_report

# 5 students, 2 plausible values, final weights and 3 replicate weights (integers, so that a
# weighted correlation is the plain correlation of the rows repeated weight times)
PV = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 3.0], [5.0, 4.0], [4.0, 5.0]])
INDEX = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
REPLICATES = np.array([[2, 0, 1], [0, 2, 1], [1, 1, 2], [1, 1, 0], [1, 1, 1]], dtype=float)


def _by_repetition(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> float:
    """Pearson r of the rows repeated w times: an independent route to the weighted r."""
    reps = w.astype(int)
    return float(np.corrcoef(np.repeat(y, reps), np.repeat(x, reps))[0, 1])


def test_known_answer_from_the_replicate_formula() -> None:
    design = given(WEIGHTS, REPLICATES, "jk2")  # c_g = 1
    e, n = correlation(PV, INDEX, design)
    assert e is not None and n == 5
    # final weights: Σ dx² = Σ dy² = 10; PV1 Σ dx·dy = 8, r = 0.8; PV2 Σ dx·dy = 9, r = 0.9
    r0 = np.array([_by_repetition(PV[:, m], INDEX, WEIGHTS) for m in range(2)])
    assert r0 == pytest.approx([0.8, 0.9])
    rg = np.array([[_by_repetition(PV[:, m], INDEX, REPLICATES[:, g]) for m in range(2)]
                   for g in range(3)])
    u = np.mean(((rg - r0) ** 2).sum(axis=0))  # Σ_g c_g (r_g − r)², averaged over PVs
    b = np.var(r0, ddof=1)
    assert e.estimate == pytest.approx(0.85)
    assert e.sampling_variance == pytest.approx(u)
    assert e.imputation_variance == pytest.approx(b)
    assert e.se == pytest.approx(np.sqrt(u + 1.5 * b))
    assert e.se > 0.05  # the replicates do move r: the test is not 0 = 0


def test_imputation_variance_and_missing_values() -> None:
    pv = PV.copy()
    pv[:, 1] = [1.0, 2.0, 3.0, 4.0, 5.0]  # PV2 r = 1
    x = np.append(INDEX, np.nan)  # a sixth student without an index value ...
    pv6 = np.vstack([pv, [[100.0, -100.0]]])  # ... whose scores would wreck r if used
    design = given(np.append(WEIGHTS, 1.0), np.vstack([REPLICATES, [1, 1, 1]]), "jk2")
    e, n = correlation(pv6, x, design)
    assert e is not None and n == 5
    assert e.estimate == pytest.approx(0.9)
    assert e.imputation_variance == pytest.approx(np.var([0.8, 1.0], ddof=1))
    r0 = np.array([0.8, 1.0])
    rg = np.array([[_by_repetition(pv[:, m], INDEX, REPLICATES[:, g]) for m in range(2)]
                   for g in range(3)])
    u = np.mean(((rg - r0) ** 2).sum(axis=0))
    assert e.se == pytest.approx(np.sqrt(u + 1.5 * np.var(r0, ddof=1)))


def test_an_index_that_does_not_vary_gives_no_r() -> None:
    design = given(WEIGHTS, REPLICATES, "jk2")
    e, n = correlation(PV, np.full(5, 2.0), design)
    assert e is None and n == 5
    # varies with the final weights but not in replicate 3, which keeps students 1-3 and 5 ...
    x = np.array([1.0, 1.0, 1.0, 2.0, 1.0])
    e, _ = correlation(PV, x, design)
    assert e is None


def test_groups_suppression_and_small_correlations() -> None:
    rng = np.random.default_rng(1)
    n = 60
    pv = rng.normal(size=(n, 3))
    x = pv[:, 0] + rng.normal(size=n)
    x[:8] = np.nan
    rows = {"a": np.arange(n) < 10, "b": np.arange(n) >= 10, "c": np.zeros(n, bool)}
    design = random_groups(None, n, rng, n_groups=10)
    out = correlations(pv, {"idx": x}, design, rows,
                       published=lambda key: key != ("group", "c"), min_size=5)
    overall, a, b, c = out
    assert overall["group"] == "" and overall["n"] == 52
    assert set(overall) == {"index", "group", "n", "r", "se_r", "ci95_r", "significant"}
    # group a has 10 students of whom 8 have no value: 2 < 5, not shown, nor its n
    assert a == {"index": "idx", "group": "a", "suppressed": True}
    assert b["n"] == 50
    assert c == {"index": "idx", "group": "c", "suppressed": True}
    expected, _ = correlation(pv[rows["b"]], x[rows["b"]], design.subset(rows["b"]))
    assert expected is not None
    assert b["r"] == pytest.approx(expected.estimate, abs=5e-4)
    assert b["se_r"] == pytest.approx(expected.se, abs=5e-4)
    lo, hi = b["ci95_r"]
    assert -1 <= lo < b["r"] < hi <= 1
    everyone_hidden = correlations(pv, {"idx": x, "x2": pv[:, 1]}, design, rows,
                                   published=lambda key: False, min_size=5)
    assert [(r["index"], r["group"]) for r in everyone_hidden] == [
        (i, g) for i in ("idx", "x2") for g in ("", "a", "b", "c")]
    assert all(r.get("suppressed") for r in everyone_hidden)


def test_recovers_a_correlation_of_one_half() -> None:
    """2,000 students, 20 2PL items, an index with correlation 0.5 with θ (fixed seed).  With
    the index in the population model the PV correlation is within 0.05 of 0.5 (≈ 3 SE); without
    it the correlation is attenuated."""
    rng = np.random.default_rng(20261203)
    params = ItemParameters.from_records(
        {"id": f"i{j}", "model": "2pl", "a": float(rng.uniform(0.8, 1.8)),
         "b": float(rng.normal())}
        for j in range(20)
    )
    n = 2000
    theta = rng.normal(size=n)
    index = 0.5 * theta + np.sqrt(0.75) * rng.normal(size=n)
    true_r = float(np.corrcoef(theta, index)[0, 1])
    scores = sample_responses(params, theta, rng).astype(float)
    design = random_groups(None, n, np.random.default_rng(2))
    groups = np.where(rng.random(n) < 0.5, "A", "B")
    common = dict(groups=groups, design=design, n_pv=5, scale=ReportingScale(),
                  levels=None, indices={"idx": index})
    conditioned = survey_report(params, scores, background=np.column_stack([np.ones(n), index]),
                                background_names=["(constant)", "idx"],
                                rng=np.random.default_rng(3), **common)
    r, *groups = conditioned["correlations"]
    assert abs(true_r - 0.5) < 0.03
    assert r["r"] == pytest.approx(0.5, abs=0.05)
    assert 0.01 < r["se_r"] < 0.03 and r["significant"]
    assert r["ci95_r"][0] < true_r < r["ci95_r"][1]
    assert [g["group"] for g in groups] == ["A", "B"]
    assert all(abs(g["r"] - 0.5) < 0.07 for g in groups)
    assert not any("not conditioned on idx" in note for note in conditioned["notes"])
    unconditioned = survey_report(params, scores, background=None,
                                  rng=np.random.default_rng(3), **common)
    u, *_ = unconditioned["correlations"]
    assert u["r"] < r["r"] - 0.03
    assert any("not conditioned on idx" in note for note in unconditioned["notes"])
