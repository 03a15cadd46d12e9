"""Automated test assembly: choose whole units for F parallel linear forms by mixed-integer
linear programming (van der Linden 2005, *Linear Models for Optimal Test Design*).

Decision variables are unit-level: x[f, u] = 1 when unit u is in form f (items of a unit are
never split).  Every constraint is a named :class:`Constraint` (one linear row per form, e.g.
"between 12 and 16 items", "at most 2 environment units"), a pair of enemy units, or the
overlap limit between forms.  The objective is one of

- ``"maximin"``: maximise y subject to I_f(θ_q) ≥ w_q · y for every form f and point q
  (van der Linden & Boekkooi-Timminga 1989), w = the relative target shape (default 1);
- ``"deviation"``: minimise z subject to |I_f(θ_q) − T_q| ≤ z for every f, q (the largest
  absolute deviation from a target; minimax, van der Linden 2005, sect. 5.3);
- ``"none"``: any feasible selection (used when the bank has no item parameters yet).

When the constraints cannot all hold, :func:`explain_infeasibility` runs a deletion filter
(Chinneck & Dravnieks 1991) over the named constraints and returns a minimal set that conflicts:
removing any one of them makes the rest feasible.

numpy and scipy only; every input is a plain array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

OBJECTIVES = ("maximin", "deviation", "none")


@dataclass(frozen=True)
class Constraint:
    """lower ≤ Σ_u coefficients[u] · x[f, u] ≤ upper, for every form f.

    coefficients: (U,) the unit's contribution (its number of items, its minutes, its number of
    items of one type, 1 for a unit count...).  ``name`` says it in words for error messages.
    """

    name: str
    coefficients: np.ndarray
    lower: float = -np.inf
    upper: float = np.inf


@dataclass(frozen=True)
class AssemblyProblem:
    """What to assemble.

    n_forms: F.  constraints: per-form linear rows (above).
    information: (U, Q) test information of each unit (sum over its items) at the θ points, or
    None when no parameters exist.  target: (Q,) the target information (``deviation``) or the
    relative shape weights (``maximin``; default all 1).
    enemies: pairs of unit indices never in the same form.
    max_overlap: at most this many units shared by any two forms (None: no limit).
    max_forms_per_unit: how many forms one unit may appear in (default 1: disjoint forms when
    max_overlap is 0).  include: unit indices required in every form (anchor units).
    unit_names: (U,) labels for messages.  gap: the solver stops within this relative distance
    of the optimum (1 % by default: parallel forms make many equivalent solutions).
    """

    n_forms: int
    constraints: Sequence[Constraint]
    information: np.ndarray | None = None
    target: np.ndarray | None = None
    objective: str = "none"
    enemies: Sequence[tuple[int, int]] = ()
    max_overlap: int | None = None
    max_forms_per_unit: int | None = None
    include: Sequence[int] = ()
    unit_names: Sequence[str] = ()
    time_limit: float = 20.0
    gap: float = 0.01  # relative optimality gap at which the solver may stop

    @property
    def n_units(self) -> int:
        if self.information is not None:
            return int(self.information.shape[0])
        if self.constraints:
            return int(len(self.constraints[0].coefficients))
        return len(self.unit_names)

    def name_of(self, u: int) -> str:
        return self.unit_names[u] if self.unit_names else f"unit {u}"

    def groups(self) -> list[str]:
        """Names of every constraint group that the deletion filter may relax."""
        names = [c.name for c in self.constraints]
        names += [self._enemy_name(p) for p in self.enemies]
        if self.max_overlap is not None:
            names.append(self.overlap_name)
        if self.max_forms_per_unit is not None:
            names.append(self.exposure_name)
        names += [self.include_name(u) for u in self.include]
        return names

    @property
    def overlap_name(self) -> str:
        return f"no two forms share more than {self.max_overlap} unit(s)"

    @property
    def exposure_name(self) -> str:
        return f"each unit in at most {self.max_forms_per_unit} form(s)"

    def include_name(self, u: int) -> str:
        return f"{self.name_of(u)} in every form"

    def _enemy_name(self, pair: tuple[int, int]) -> str:
        return f"enemies {self.name_of(pair[0])} and {self.name_of(pair[1])} in different forms"


@dataclass
class AssemblyResult:
    """forms: F lists of unit indices.  information: (F, Q) or None.  objective_value: the
    maximin y or the largest absolute deviation (None for ``none``)."""

    forms: list[list[int]]
    information: np.ndarray | None
    objective_value: float | None
    status: str = "optimal"
    messages: list[str] = field(default_factory=list)


class InfeasibleAssembly(ValueError):
    """The constraints cannot all hold; ``conflict`` names a minimal conflicting set."""

    def __init__(self, conflict: list[str], detail: str = "") -> None:
        self.conflict = conflict
        lines = ["the constraints cannot all be met. These conflict (relaxing any one of them makes the rest feasible):"]
        lines += [f"  - {c}" for c in conflict]
        if detail:
            lines.append(detail)
        super().__init__("\n".join(lines))


# -- the model --------------------------------------------------------------------------------
def _build(problem: AssemblyProblem, active: set[str] | None, with_objective: bool):
    """Variables: x (F·U), then w (pairs·U) for overlap, then y (maximin) or z (deviation)."""
    F, U = problem.n_forms, problem.n_units
    on = (lambda name: True) if active is None else (lambda name: name in active)
    pairs = list(combinations(range(F), 2))
    use_overlap = problem.max_overlap is not None and on(problem.overlap_name) and F > 1
    info = problem.information
    Q = 0 if info is None else info.shape[1]
    objective = problem.objective if with_objective else "none"
    nx = F * U
    nw = len(pairs) * U if use_overlap else 0
    ny = 0 if objective == "none" else 1
    n = nx + nw + ny

    def xi(f: int, u: int) -> int:
        return f * U + u

    rows: list[tuple[dict[int, float], float, float]] = []
    for con in problem.constraints:
        if not on(con.name):
            continue
        for f in range(F):
            rows.append(({xi(f, u): float(con.coefficients[u]) for u in range(U) if con.coefficients[u] != 0}, con.lower, con.upper))
    for pair in problem.enemies:
        if not on(problem._enemy_name(pair)):
            continue
        for f in range(F):
            rows.append(({xi(f, pair[0]): 1.0, xi(f, pair[1]): 1.0}, -np.inf, 1.0))
    if use_overlap:
        for p, (f, g) in enumerate(pairs):
            for u in range(U):  # w ≥ x_f + x_g − 1
                rows.append(({nx + p * U + u: 1.0, xi(f, u): -1.0, xi(g, u): -1.0}, -1.0, np.inf))
            rows.append(({nx + p * U + u: 1.0 for u in range(U)}, -np.inf, float(problem.max_overlap or 0)))
    if problem.max_forms_per_unit is not None and on(problem.exposure_name):
        for u in range(U):
            rows.append(({xi(f, u): 1.0 for f in range(F)}, -np.inf, float(problem.max_forms_per_unit)))
    lower_x = np.zeros(n)
    for u in problem.include:
        if on(problem.include_name(u)):
            for f in range(F):
                lower_x[xi(f, u)] = 1.0
    c = np.zeros(n)
    if objective == "maximin":
        assert info is not None
        weights = np.ones(Q) if problem.target is None else np.asarray(problem.target, float)
        for f in range(F):
            for q in range(Q):  # Σ_u I_uq x_fu − w_q y ≥ 0
                row = {xi(f, u): float(info[u, q]) for u in range(U)}
                row[nx + nw] = -float(weights[q])
                rows.append((row, 0.0, np.inf))
        c[nx + nw] = -1.0
    elif objective == "deviation":
        assert info is not None and problem.target is not None
        target = np.asarray(problem.target, float)
        for f in range(F):
            for q in range(Q):  # −z ≤ Σ_u I_uq x_fu − T_q ≤ z
                base = {xi(f, u): float(info[u, q]) for u in range(U)}
                rows.append(({**base, nx + nw: -1.0}, -np.inf, float(target[q])))
                rows.append(({**base, nx + nw: 1.0}, float(target[q]), np.inf))
        c[nx + nw] = 1.0
    A = lil_matrix((max(len(rows), 1), n))
    lo = np.full(max(len(rows), 1), -np.inf)
    hi = np.full(max(len(rows), 1), np.inf)
    for r, (coef, a, b) in enumerate(rows):
        for j, v in coef.items():
            A[r, j] = v
        lo[r], hi[r] = a, b
    integrality = np.zeros(n)
    integrality[: nx + nw] = 1
    upper = np.full(n, np.inf)
    upper[: nx + nw] = 1.0
    bounds = Bounds(lower_x, upper)
    constraints = [LinearConstraint(A.tocsr(), lo, hi)] if rows else []
    return c, integrality, bounds, constraints, nx


def _solve(problem: AssemblyProblem, active: set[str] | None, with_objective: bool):
    c, integrality, bounds, constraints, nx = _build(problem, active, with_objective)
    return milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
                options={"time_limit": problem.time_limit, "mip_rel_gap": problem.gap}), nx


def _feasible(problem: AssemblyProblem, active: set[str]) -> bool:
    res, _ = _solve(problem, active, with_objective=False)
    if res.status == 2:
        return False
    if res.status == 1 and res.x is None:
        raise InfeasibleAssembly([], "the solver ran out of time while checking feasibility; raise time_limit")
    return True


def _check(problem: AssemblyProblem) -> None:
    if problem.n_forms < 1:
        raise ValueError("n_forms must be at least 1")
    if problem.objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {problem.objective!r}")
    if problem.objective != "none" and problem.information is None:
        raise ValueError(f"objective {problem.objective!r} needs unit information at the θ points (item parameters)")
    if problem.objective == "deviation" and problem.target is None:
        raise ValueError("objective 'deviation' needs a target information per θ point")
    U = problem.n_units
    for con in problem.constraints:
        if np.shape(con.coefficients) != (U,):
            raise ValueError(f"constraint {con.name!r}: coefficients must have shape ({U},)")
    if problem.information is not None and problem.target is not None:
        if np.shape(problem.target) != (problem.information.shape[1],):
            raise ValueError("target must have one value per θ point")


def explain_infeasibility(problem: AssemblyProblem) -> list[str]:
    """A minimal infeasible subset of :meth:`AssemblyProblem.groups` (deletion filter).

    Empty when the problem is feasible.  Each group is dropped in turn; if the rest is still
    infeasible it stays dropped, else it belongs to the conflict.
    """
    groups = problem.groups()
    active = set(groups)
    if _feasible(problem, active):
        return []
    for name in groups:
        trial = active - {name}
        if not _feasible(problem, trial):
            active = trial
    return [g for g in groups if g in active]


def assemble(problem: AssemblyProblem) -> AssemblyResult:
    """Solve ``problem``; raise :class:`InfeasibleAssembly` naming the conflicting constraints."""
    _check(problem)
    res, nx = _solve(problem, None, with_objective=True)
    if res.status == 2 or res.x is None:
        if res.status == 1:
            raise InfeasibleAssembly([], f"the solver stopped at its time limit ({problem.time_limit} s) without a solution")
        raise InfeasibleAssembly(explain_infeasibility(problem))
    F, U = problem.n_forms, problem.n_units
    x = np.round(res.x[:nx]).reshape(F, U)
    forms = [sorted(int(u) for u in np.flatnonzero(x[f])) for f in range(F)]
    info = None if problem.information is None else x @ problem.information
    value: float | None = None
    if problem.objective == "maximin":
        value = float(-res.fun)
    elif problem.objective == "deviation":
        value = float(res.fun)
    status = "optimal" if res.status == 0 else "time limit (best found)"
    return AssemblyResult(forms=forms, information=info, objective_value=value, status=status)


def unit_totals(unit_of_item: np.ndarray, values: np.ndarray, n_units: int) -> np.ndarray:
    """Sum item-level values into units.  unit_of_item: (J,) unit index; values: (J,) or (J, Q).
    Returns (U,) or (U, Q)."""
    values = np.asarray(values, float)
    out = np.zeros((n_units, *values.shape[1:]))
    np.add.at(out, np.asarray(unit_of_item, int), values)
    return out


def check_forms(problem: AssemblyProblem, forms: Sequence[Sequence[int]]) -> list[str]:
    """Every constraint that ``forms`` break, in words (empty when all hold)."""
    broken: list[str] = []
    for f, form in enumerate(forms):
        chosen = np.zeros(problem.n_units)
        chosen[list(form)] = 1
        for con in problem.constraints:
            total = float(con.coefficients @ chosen)
            if total < con.lower - 1e-6 or total > con.upper + 1e-6:
                broken.append(f"form {f + 1}: {con.name} (got {total:g})")
        for a, b in problem.enemies:
            if a in form and b in form:
                broken.append(f"form {f + 1}: {problem._enemy_name((a, b))}")
        for u in problem.include:
            if u not in form:
                broken.append(f"form {f + 1}: {problem.name_of(u)} missing")
    if problem.max_overlap is not None:
        for f, g in combinations(range(len(forms)), 2):
            shared = len(set(forms[f]) & set(forms[g]))
            if shared > problem.max_overlap:
                broken.append(f"forms {f + 1} and {g + 1} share {shared} units")
    if problem.max_forms_per_unit is not None:
        counts = np.zeros(problem.n_units, int)
        for form in forms:
            counts[list(form)] += 1
        for over in np.flatnonzero(counts > problem.max_forms_per_unit):
            broken.append(f"{problem.name_of(int(over))} is in {counts[over]} forms")
    return broken
