"""The stored learning-outcome report (itembank.research.report_job) and its correlations with
questionnaire indices (index_correlations): the stored JSON gives back the same report, the
correlations recover a known one with a sensible SE, and the phases are reported in order."""

from __future__ import annotations

import numpy as np
import pytest

from irt.models import ItemParameters as IrtParameters
from irt.models import sample_responses
from itembank.research import report_job, reports
from itembank.research.datasets import Matrix


def _data(n_per_group: int = 200, seed: int = 5) -> tuple[Matrix, list[dict[str, object]], np.ndarray]:
    rng = np.random.default_rng(seed)
    j = 20
    params = IrtParameters.from_records(
        [{"id": f"I{k}", "model": "2pl", "a": float(a), "b": float(b)}
         for k, (a, b) in enumerate(zip(rng.lognormal(0.1, 0.2, j), rng.normal(0, 1, j), strict=True))])
    groups = np.repeat(["north", "south", "east", "tiny"], [n_per_group] * 3 + [3])
    theta = rng.normal(0, 1, groups.size) + np.where(groups == "south", 0.5, 0.0)
    scores = sample_responses(params, theta, rng).astype(float)
    persons = [{"person_id": f"p{k}", "school": g, "window": "2026-05", "city": "home",
                "dataset_id": None} for k, g in enumerate(groups)]
    return Matrix(persons, list(params.ids), scores), params.to_records(), theta


def test_an_index_in_line_with_theta_correlates_as_expected() -> None:
    matrix, records, theta = _data()
    rng = np.random.default_rng(9)
    # an index whose correlation with θ is 0.6; a few students without one
    index = 0.6 * (theta - theta.mean()) / theta.std() + 0.8 * rng.normal(size=theta.size)
    index[:10] = np.nan
    noise = rng.normal(size=theta.size)  # unrelated to θ
    steps: list[str] = []
    rep = reports.learning_report(matrix, records, grouping="school", min_group_size=5,
                                  indices=[("LINKED", index), ("NOISE", noise)], step=steps.append)
    assert steps == ["population-model", "estimates", "correlations", "students"]
    rows = {(c.index, c.group): c for c in rep.correlations}
    overall = rows[("LINKED", "")]
    # the scale score is θ measured with error: its correlation is attenuated, still clear
    assert overall.n == theta.size - 10 and 0.35 < overall.r < 0.65  # type: ignore[operator]
    assert 0.02 < overall.se < 0.08 and overall.significant  # type: ignore[operator]
    assert overall.ci is not None and overall.ci[0] < overall.r < overall.ci[1]
    assert not rows[("NOISE", "")].significant or abs(rows[("NOISE", "")].r) < 0.15  # type: ignore[arg-type]
    # per published group only: not for the group too small to publish, nor for the group
    # suppressed with it (it would give the small one by difference)
    published = {g.group for g in rep.groups if not g.suppressed}
    assert len(published) == 2 and "tiny" not in published
    assert {g for i, g in rows if i == "LINKED"} == {"", *published}
    assert not any(rows[("LINKED", g)].suppressed for g in published)
    # no indices: no correlations, no "correlations" step
    steps.clear()
    plain = reports.learning_report(matrix, records, grouping="school", step=steps.append)
    assert plain.correlations == [] and "correlations" not in steps


def test_the_stored_json_gives_back_the_same_report() -> None:
    matrix, records, theta = _data(60)
    rep = reports.learning_report(matrix, records, grouping="school", min_group_size=5,
                                  indices=[("X", theta + np.random.default_rng(1).normal(size=theta.size))])
    rep.questionnaire = {"id": "Q", "version": 1, "scales": [], "too_few": [], "min_answers": 20,
                         "notes": []}
    back = report_job.report_from_json(report_job.report_to_json(rep))
    assert back == rep
    shown = next(g for g in back.groups if not g.suppressed)
    assert isinstance(shown.ci, tuple) and isinstance(back.correlations[0].ci, tuple)
    assert back.students and back.students == rep.students
    assert reports.groups_csv(back) == reports.groups_csv(rep)
    assert reports.correlations_csv(back) == reports.correlations_csv(rep)


def test_a_source_that_is_neither_a_test_nor_a_data_set_is_refused() -> None:
    with pytest.raises(report_job.UnknownSource, match="test:ID or dataset:ID"):
        report_job.check_source(None, "file:/etc/passwd")  # type: ignore[arg-type]
