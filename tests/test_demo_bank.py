"""The demo bank's coverage targets and its calibration, so that they cannot silently regress."""

from __future__ import annotations

import csv
import json
from collections import Counter

import numpy as np
import pytest

from irt.calibration import Calibrator
from itembank.bank.responses_csv import read_responses
from itembank.bank.schema import LANGUAGES, OpenResponse, language_complete
from itembank.bank.validation import load_bank
from tests.conftest import REPO

ITEMS = REPO / "items"
TRIAL = REPO / "calibration_data" / "field_trial_2026"


@pytest.fixture(scope="module")
def bank():
    loaded = load_bank([ITEMS])
    assert loaded.problems == [], "\n".join(map(str, loaded.problems))
    return loaded


@pytest.fixture(scope="module")
def items(bank):
    return [(u.unit, i) for u in bank.units for i in u.unit.items]


def test_size(bank, items) -> None:
    assert len(bank.units) >= 64
    assert len(items) >= 300
    assert all(3 <= len(u.unit.items) <= 6 for u in bank.units)


def test_every_cell_of_the_blueprint_has_two_units(bank) -> None:
    cells = Counter((str(u.unit.metadata.dimension), str(u.unit.metadata.content_domain)) for u in bank.units)
    for dimension in ("examine_issues", "understand_perspectives", "take_action", "intercultural_interaction"):
        for domain in ("culture", "socio_economic", "environment", "institutions"):
            assert cells[dimension, domain] >= 2, (dimension, domain, cells)


def test_every_process_at_least_fifteen_percent(items) -> None:
    counts = Counter(str(i.process) for _, i in items)
    for process in ("evaluate_information", "analyse_perspectives", "understand_communication",
                    "evaluate_actions"):
        assert counts[process] / len(items) >= 0.15, counts


def arithmetic_items(items) -> list[str]:  # type: ignore[no-untyped-def]
    """Items answered by a computed or looked-up number: short responses keyed by a number."""
    return [i.id for _, i in items if str(i.type) == "short_response" and i.numeric is not None]


def test_at_most_a_tenth_arithmetic_or_look_up(items) -> None:
    assert len(arithmetic_items(items)) / len(items) <= 0.10, arithmetic_items(items)


def test_the_arithmetic_count_sees_a_numeric_item() -> None:
    numeric = load_bank([REPO / "tests" / "data" / "units"])
    found = arithmetic_items([(u.unit, i) for u in numeric.units for i in u.unit.items])
    assert found  # the test bank keys its short responses by the number 42


def test_every_option_has_a_rationale(bank) -> None:
    from itembank.authoring.workflow import missing_rationales

    assert {u.unit.id: missing_rationales(u.unit) for u in bank.units if missing_rationales(u.unit)} == {}


def test_dimensions_each_at_least_a_fifth(items) -> None:
    counts = Counter(str(i.dimension or u.metadata.dimension) for u, i in items)
    for dimension in ("examine_issues", "understand_perspectives", "take_action"):
        assert counts[dimension] / len(items) >= 0.20, counts


def test_domains_each_at_least_fifteen_percent(items) -> None:
    counts = Counter(str(u.metadata.content_domain) for u, _ in items)
    for domain in ("culture", "socio_economic", "environment", "institutions"):
        assert counts[domain] / len(items) >= 0.15, counts


def test_processes_types_and_grade_bands(bank, items) -> None:
    assert set(Counter(str(i.process) for _, i in items)) == {
        "evaluate_information", "analyse_perspectives", "understand_communication", "evaluate_actions"}
    types = Counter(str(i.type) for _, i in items)
    assert all(types[t] >= 10 for t in ("single_choice", "multiple_choice", "complex_choice",
                                        "short_response", "open_response")), types
    bands = Counter(b for u in bank.units for b in u.unit.metadata.grade_band)
    assert bands["junior_high"] > 0 and bands["senior_high"] > 0


def test_contexts_the_city_plan_names(bank) -> None:
    topics = Counter(t for u in bank.units for t in u.unit.metadata.topics)
    for topic in ("water_resources", "local_culture", "indigenous_peoples", "new_immigrants", "southeast_asia",
                  "south_asia", "sister_city", "city_planning", "earthquakes"):
        assert topics[topic] >= 1, f"no unit on {topic}"
    sdgs = {s for u in bank.units for s in u.unit.metadata.sdgs}
    assert {1, 5, 7, 13, 14, 15, 11, 16, 17} <= sdgs


def test_open_responses_have_complete_coding_guides(items) -> None:
    for _, item in items:
        if isinstance(item, OpenResponse):
            for code in item.coding_guide:
                assert len(code.examples) >= 2, f"{item.id} code {code.code}: fewer than two examples"
                assert all(language_complete(e, lang) for e in code.examples for lang in LANGUAGES)


def test_at_least_ninety_percent_calibrated_open_items_polytomous(items) -> None:
    calibrated = [i for _, i in items if i.irt is not None]
    assert len(calibrated) == len(items)  # the whole bank has parameters
    assert all(i.irt.calibration == "field-trial-2026" for i in calibrated)
    open_items = [i for _, i in items if isinstance(i, OpenResponse) and i.max_score > 1]
    assert open_items and all(i.irt is not None and str(i.irt.model) == "gpcm" for i in open_items)


def test_bank_parameters_are_what_the_field_trial_calibration_gives(items) -> None:
    data = read_responses(TRIAL / "responses.csv")
    with (TRIAL / "item_models.csv").open(encoding="utf-8") as fh:
        models = {row["item_id"]: row["model"] for row in csv.DictReader(fh)}
    result = Calibrator("2pl", item_models=models).fit(data.scores, item_ids=data.item_ids)
    assert result.converged
    estimated = {r["id"]: r for r in result.params.to_records()}
    for _, item in items:
        if item.irt is None:
            continue
        record = estimated[item.id]
        assert str(item.irt.model) == record["model"]
        assert item.irt.a == pytest.approx(record["a"], abs=2e-3), item.id
        assert np.allclose(np.atleast_1d(item.irt.b), np.atleast_1d(record["b"]), atol=2e-3), item.id


def test_field_trial_recovers_generating_parameters() -> None:
    true = {r["id"]: r for r in json.loads((TRIAL / "generating_params.json").read_text())["items"]}
    est = {r["id"]: r for r in json.loads((TRIAL / "params.json").read_text())["items"]}
    a_err = np.array([est[i]["a"] - true[i]["a"] for i in true])
    b_err = np.concatenate([np.atleast_1d(est[i]["b"]) - np.atleast_1d(true[i]["b"]) for i in true])
    assert np.sqrt(np.mean(a_err**2)) < 0.15
    assert np.sqrt(np.mean(b_err**2)) < 0.15
    assert abs(b_err.mean()) < 0.05


def test_design_rotates_every_cluster_through_every_position() -> None:
    with (TRIAL / "design.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    positions = Counter((r["cluster"], r["position"]) for r in rows)
    clusters = {r["cluster"] for r in rows}
    assert len(clusters) == 12 and all(positions[(c, p)] == 1 for c in clusters for p in ("1", "2", "3"))
    units = [u for r in rows if r["position"] == "1" for u in r["units"].split()]
    assert len(units) == len(set(units)) == len(list(ITEMS.glob("GC-*.yaml")))


def test_responses_blank_outside_the_booklet() -> None:
    data = read_responses(TRIAL / "responses.csv")
    seen = (~np.isnan(data.scores)).sum(axis=1)
    assert data.scores.shape[0] == 5000
    assert seen.min() > 30 and seen.max() < data.scores.shape[1]  # a booklet, never the whole bank


