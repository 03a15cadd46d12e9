"""The sampling design of a data set's persons (itembank/research/survey_design.py) in the
learning-outcome report: with schools sampled in strata and an intraclass correlation of 0.3,
the replicate SE of the mean is well above the simple-random-sampling one, and the report no
longer says that its SEs assume simple random sampling."""

from __future__ import annotations

import numpy as np
import pytest

from irt.models import ItemParameters, sample_responses
from irt.replicates import SurveyDesignError
from itembank.research import reports
from itembank.research.datasets import Matrix
from itembank.research.survey_design import design_of


def _two_stage(rng: np.random.Generator) -> tuple[Matrix, list[dict[str, object]]]:
    params = ItemParameters.from_records(
        [{"id": f"I{k}", "model": "2pl", "a": 1.2, "b": float(b)}
         for k, b in enumerate(np.linspace(-2, 2, 20))])
    persons: list[dict[str, object]] = []
    thetas = []
    for school in range(24):
        effect = rng.normal(0, np.sqrt(0.3))
        for k in range(25):
            thetas.append(effect + rng.normal(0, np.sqrt(0.7)))
            persons.append({"person_id": f"{school}-{k}", "school": f"s{school:02d}", "city": "home",
                            "window": "2026-05", "stratum": f"h{school // 4}", "weight": 1.0})
    scores = sample_responses(params, np.array(thetas), rng).astype(float)
    return Matrix(persons, list(params.ids), scores), params.to_records()


@pytest.mark.parametrize("method", ["jk2", "brr-fay"])
def test_the_report_uses_the_design_of_the_data_set(method: str) -> None:
    matrix, records = _two_stage(np.random.default_rng(3))
    srs = reports.learning_report(matrix, records, grouping="city")
    designed = reports.learning_report(matrix, records, grouping="city",
                                       design=design_of(matrix.persons, method))
    assert srs.srs_only and not designed.srs_only
    assert srs.overall is not None and designed.overall is not None
    assert designed.overall.mean == pytest.approx(srs.overall.mean)
    assert designed.overall.se > 1.8 * srs.overall.se  # design effect ≈ 1 + 24 × 0.3


def test_a_design_needs_a_stratum_and_a_known_method() -> None:
    with pytest.raises(SurveyDesignError, match="no stratum"):
        design_of([{"person_id": "p1", "school": "a"}], "jk2")
    with pytest.raises(SurveyDesignError, match="unknown replicate method"):
        design_of([{"person_id": "p1", "school": "a", "stratum": "1"}], "bootstrap")


def test_reported_groups_are_categories_even_when_their_codes_look_like_numbers() -> None:
    from itembank.research.background import design_matrix

    codes = {"school": ["101", "102", "103", "101"]}
    x, names = design_matrix(codes, categorical=["school"])
    assert names == ["(constant)", "school=102", "school=103"]
    assert x[:, 1].tolist() == [0, 1, 0, 0] and x[:, 2].tolist() == [0, 0, 1, 0]
    assert design_matrix(codes)[1] == ["(constant)", "school"]  # a covariate otherwise


def test_a_design_whose_students_with_responses_all_weigh_nothing_gives_an_empty_report() -> None:
    matrix, records = _two_stage(np.random.default_rng(4))
    persons = [{**p, "weight": 0.0} for p in matrix.persons]
    persons.append({**persons[0], "person_id": "no-answers", "weight": 1.0})
    scores = np.vstack([matrix.scores, np.full((1, matrix.scores.shape[1]), np.nan)])
    design = design_of(persons, "jk2")  # weights sum to 1: a valid design
    rep = reports.learning_report(Matrix(persons, matrix.item_ids, scores), records,
                                  grouping="city", design=design)
    assert rep.groups == [] and rep.overall is None and "weight 0" in rep.notes[0]
