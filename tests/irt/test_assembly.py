"""Automated test assembly: every constraint holds in the forms found; conflicts are named.

Runs on the small test bank and on the demo bank (items/) as it stands.
"""

from __future__ import annotations

import numpy as np
import pytest

from irt.assembly import (
    AssemblyProblem,
    Constraint,
    InfeasibleAssembly,
    _feasible,
    assemble,
    check_forms,
    explain_infeasibility,
    unit_totals,
)
from itembank.bank.validation import load_bank
from itembank.config import PROJECT_ROOT
from itembank.errors import ProblemsError
from itembank.paper.assembly_spec import build_task
from tests.conftest import TEST_UNITS


def _random_problem(seed: int = 3, units: int = 24, forms: int = 2, objective: str = "maximin"):
    rng = np.random.default_rng(seed)
    info = rng.uniform(0.2, 2.0, (units, 3))
    n_items = rng.integers(3, 6, units).astype(float)
    minutes = rng.integers(8, 13, units).astype(float)
    domain = rng.integers(0, 4, units)
    constraints = [
        Constraint("between 10 and 14 items", n_items, 10, 14),
        Constraint("at most 40 minutes", minutes, -np.inf, 40),
        *[Constraint(f"at least one unit of domain {d}", (domain == d).astype(float), 1) for d in range(2)],
    ]
    return AssemblyProblem(forms, constraints, info, np.array([4.0, 5.0, 4.0]) if objective == "deviation" else None,
                           objective, enemies=[(0, 1), (2, 3)], max_overlap=0,
                           unit_names=[f"U{u}" for u in range(units)])


@pytest.mark.parametrize("objective", ["maximin", "deviation", "none"])
def test_forms_meet_every_constraint(objective: str) -> None:
    problem = _random_problem(objective=objective)
    result = assemble(problem)
    assert check_forms(problem, result.forms) == []
    assert len(result.forms) == 2 and not set(result.forms[0]) & set(result.forms[1])
    np.testing.assert_allclose(result.information, [problem.information[f].sum(axis=0) for f in result.forms])
    if objective == "maximin":
        assert result.objective_value == pytest.approx(result.information.min(), rel=1e-6)


def test_maximin_beats_a_feasible_selection() -> None:
    problem = _random_problem()
    best = assemble(problem)
    plain = assemble(AssemblyProblem(**{**problem.__dict__, "objective": "none"}))
    assert best.information.min() >= plain.information.min() - 1e-9


def test_overlap_and_include() -> None:
    problem = _random_problem()
    problem = AssemblyProblem(**{**problem.__dict__, "max_overlap": 1, "include": [5], "n_forms": 3})
    result = assemble(problem)
    assert all(5 in form for form in result.forms)
    assert check_forms(problem, result.forms) == []


def test_conflict_is_named_minimally() -> None:
    problem = _random_problem(objective="none")
    rng_units = problem.n_units
    constraints = [*problem.constraints,
                   Constraint("at most 20 minutes", problem.constraints[1].coefficients, -np.inf, 20),
                   Constraint("at least 5 units", np.ones(rng_units), 5)]
    bad = AssemblyProblem(**{**problem.__dict__, "constraints": constraints})
    with pytest.raises(InfeasibleAssembly) as caught:
        assemble(bad)
    conflict = caught.value.conflict
    assert "at most 20 minutes" in conflict
    assert "between 10 and 14 items" not in conflict or "at least 5 units" not in conflict
    assert "at most 20 minutes" in str(caught.value)
    # the conflict alone is infeasible, and minimal: dropping any one member makes it feasible
    assert not _feasible(bad, set(conflict))
    for name in conflict:
        assert _feasible(bad, set(conflict) - {name})


def test_enemies_in_conflict_with_include() -> None:
    problem = _random_problem(objective="none")
    bad = AssemblyProblem(**{**problem.__dict__, "include": [0, 1], "max_overlap": None})
    conflict = explain_infeasibility(bad)
    assert sorted(conflict) == sorted(["enemies U0 and U1 in different forms", "U0 in every form", "U1 in every form"])


def test_unit_totals() -> None:
    np.testing.assert_allclose(unit_totals(np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0]), 3), [3.0, 0.0, 5.0])


# -- through the spec, on real banks ---------------------------------------------------------
SPEC = {
    "forms": 2,
    "length": {"items": {"min": 8, "max": 12}},
    "time": {"max": 15},
    "blueprint": {"content_domain": {"environment": {"max": 1}}, "item_type": {"open_response": {"min": 1}}},
    "overlap": 0,
    "enemies": [["T-01", "T-05-Q1"]],
}


def _units(path):
    bank = load_bank([path])
    return [u.unit for u in bank.units if str(u.unit.status) == "approved"]


def test_spec_on_test_units_with_information() -> None:
    units = _units(TEST_UNITS)
    task = build_task({**SPEC, "theta": [-1, 0, 1], "objective": "maximin"}, units)
    result = assemble(task.problem)
    assert check_forms(task.problem, result.forms) == []
    ids = [[task.units[u].id for u in form] for form in result.forms]
    assert not ({"T-01", "T-05"} <= set(ids[0]) or {"T-01", "T-05"} <= set(ids[1]))
    for form in ids:
        chosen = [u for u in units if u.id in form]
        assert 8 <= sum(len(u.items) for u in chosen) <= 12
        assert sum(u.metadata.estimated_minutes for u in chosen) <= 15
        assert sum(str(u.metadata.content_domain) == "environment" for u in chosen) <= 1
        assert sum(i.type == "open_response" for u in chosen for i in u.items) >= 1


def test_spec_on_demo_bank() -> None:
    """Whatever items/ holds now: two disjoint forms of about 30 minutes, one per domain at least."""
    units = _units(PROJECT_ROOT / "items")
    if len(units) < 8:
        pytest.skip("the demo bank has fewer than 8 approved units so far")
    spec = {"forms": 2, "time": {"min": 25, "max": 35}, "overlap": 0,
            "blueprint": {"content_domain": {d: {"min": 1} for d in ("culture", "environment")},
                          "item_type": {"open_response": {"min": 1}}}}
    task = build_task(spec, units)
    result = assemble(task.problem)
    assert check_forms(task.problem, result.forms) == []
    for form in result.forms:
        chosen = [task.units[u] for u in form]
        assert 25 <= sum(u.metadata.estimated_minutes for u in chosen) <= 35
        assert {"culture", "environment"} <= {str(u.metadata.content_domain) for u in chosen}
    assert not set(result.forms[0]) & set(result.forms[1])


def test_spec_errors_name_the_field() -> None:
    units = _units(TEST_UNITS)
    with pytest.raises(ProblemsError) as caught:
        build_task({"forms": 2, "length": {"unit": 3}, "blueprint": {"content_domain": {"environmnt": 1}},
                    "enemies": [["T-01", "NOPE"]], "objective": "deviation", "theta": [0]}, units, name="SPEC.yaml")
    text = str(caught.value)
    assert "length.unit: unknown field" in text
    assert "blueprint.content_domain.environmnt: unknown content_domain" in text
    assert "enemies[0][1]: 'NOPE' is not a unit or item id" in text
    assert "target: objective deviation needs target" in text


def test_information_objective_without_parameters_says_so(tmp_path) -> None:
    units = [u.model_copy(update={"items": [i.model_copy(update={"irt": None}) for i in u.items]})
             for u in _units(TEST_UNITS)]
    with pytest.raises(ProblemsError, match="no item in the pool has an irt block"):
        build_task({"forms": 1, "theta": [0], "objective": "maximin"}, units)
    # constraints alone still assemble
    task = build_task({"forms": 2, "length": {"units": 2}, "overlap": 0}, units)
    result = assemble(task.problem)
    assert [len(f) for f in result.forms] == [2, 2]
