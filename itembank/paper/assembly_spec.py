"""An assembly specification (YAML) turned into the arrays of :mod:`irt.assembly`, and the
assembled forms back into FORMS.yaml.  Every problem names its field (and line) in the spec.

The format is documented in docs/paper-forms.md ("Automated test assembly").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from irt.assembly import OBJECTIVES, AssemblyProblem, AssemblyResult, Constraint
from irt.models import ItemParameters, item_information
from itembank.bank.schema import CognitiveProcess, ContentDomain, Dimension, ItemType, Unit
from itembank.bank.yaml_source import Loc, SourceDocument, read_yaml
from itembank.errors import Problem, ProblemsError

TOP_FIELDS = ("forms", "pool", "theta", "objective", "target", "length", "time", "blueprint",
              "overlap", "max_forms_per_unit", "enemies", "include", "time_limit")
# What a blueprint category counts: items (of that dimension / type / process) or units (of that domain).
BLUEPRINT = {
    "dimension": ([d.value for d in Dimension], "items"),
    "content_domain": ([d.value for d in ContentDomain], "units"),
    "item_type": ([t.value for t in ItemType], "items"),
    "process": ([p.value for p in CognitiveProcess], "items"),
}


@dataclass
class AssemblyTask:
    """A checked spec: the MILP problem over ``units`` (pool order) and the θ points."""

    problem: AssemblyProblem
    units: list[Unit]
    theta: list[float]
    notes: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self, doc: SourceDocument | None, name: str) -> None:
        self.doc, self.name = doc, name
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        line, col = self.doc.place(loc) if self.doc is not None else (0, 0)
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
        self.problems.append(Problem(self.name, line, col, f"{where}: {message}" if where else message))


def read_spec(path: str | Path) -> tuple[dict[str, Any], SourceDocument]:
    doc, problems = read_yaml(Path(path), str(path))
    if problems or doc is None:
        raise ProblemsError(problems)
    if not isinstance(doc.data, dict):
        raise ProblemsError([Problem(str(path), 1, 1, "an assembly spec is a mapping (forms, length, blueprint, ...)")])
    return doc.data, doc


def _range(c: _Collector, loc: Loc, value: Any) -> tuple[float, float] | None:
    """An exact number, or {min, max} (either optional)."""
    if isinstance(value, bool):
        c.add(loc, "expected a number or {min, max}")
        return None
    if isinstance(value, int | float):
        return float(value), float(value)
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        c.add(loc, "expected a number or a mapping with min and/or max")
        return None
    lo, hi = value.get("min", -np.inf), value.get("max", np.inf)
    for key, v in (("min", lo), ("max", hi)):
        if key in value and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
            c.add((*loc, key), f"expected a number ≥ 0, got {v!r}")
            return None
    if lo > hi:
        c.add(loc, f"min {lo:g} is more than max {hi:g}")
        return None
    return float(lo), float(hi)


def _words(lo: float, hi: float, what: str) -> str:
    if lo == hi:
        return f"exactly {lo:g} {what}"
    if np.isinf(hi):
        return f"at least {lo:g} {what}"
    if np.isinf(lo) or lo == 0:
        return f"at most {hi:g} {what}"
    return f"between {lo:g} and {hi:g} {what}"


def build_task(spec: dict[str, Any], units: Sequence[Unit], *, doc: SourceDocument | None = None,
               name: str = "spec") -> AssemblyTask:
    """Check ``spec`` against the bank ``units`` and build the problem; raise ProblemsError."""
    c = _Collector(doc, name)
    for key in spec:
        if key not in TOP_FIELDS:
            c.add((key,), f"unknown field; use one of {', '.join(TOP_FIELDS)}")
    n_forms = spec.get("forms")
    if not isinstance(n_forms, int) or isinstance(n_forms, bool) or not 1 <= n_forms <= 50:
        c.add(("forms",), "required: the number of forms to assemble, 1 to 50")
        n_forms = 1

    # -- the pool ---------------------------------------------------------------------------
    pool_spec = spec.get("pool", {}) or {}
    statuses = ["approved"]
    only: list[str] | None = None
    exclude: list[str] = []
    if not isinstance(pool_spec, dict):
        c.add(("pool",), "expected a mapping (status, units, exclude)")
    else:
        for key in pool_spec:
            if key not in ("status", "units", "exclude"):
                c.add(("pool", key), "unknown field; use status, units or exclude")
        statuses = pool_spec.get("status", statuses)
        statuses = [statuses] if isinstance(statuses, str) else statuses
        only = pool_spec.get("units")
        exclude = pool_spec.get("exclude", []) or []
    by_id = {u.id: u for u in units}
    for key, ids in (("units", only or []), ("exclude", exclude)):
        for i, uid in enumerate(ids):
            if uid not in by_id:
                c.add(("pool", key, i), f"no unit {uid!r} in the bank")
    pool = [u for u in units if str(u.status) in statuses and (only is None or u.id in only)
            and u.id not in exclude]
    if not pool:
        c.add(("pool",), f"no unit in the bank has status {statuses} (and passes units/exclude)")
    names = [u.id for u in pool]
    index = {uid: k for k, uid in enumerate(names)}
    item_unit = {item.id: u.id for u in pool for item in u.items}
    U = len(pool)

    def per_unit(fn) -> np.ndarray:
        return np.array([float(fn(u)) for u in pool])

    # -- per-form constraints -----------------------------------------------------------------
    constraints: list[Constraint] = []
    length = spec.get("length", {}) or {}
    if not isinstance(length, dict):
        c.add(("length",), "expected a mapping with items and/or units")
        length = {}
    for key in length:
        if key not in ("items", "units"):
            c.add(("length", key), "unknown field; use items or units")
            continue
        r = _range(c, ("length", key), length[key])
        if r:
            coef = per_unit(lambda u: len(u.items)) if key == "items" else np.ones(U)
            constraints.append(Constraint(f"length: {_words(*r, key)} per form", coef, *r))
    if "time" in spec:
        r = _range(c, ("time",), spec["time"])
        if r:
            constraints.append(Constraint(f"time: {_words(*r, 'minutes')} per form",
                                          per_unit(lambda u: u.metadata.estimated_minutes), *r))
    blueprint = spec.get("blueprint", {}) or {}
    if not isinstance(blueprint, dict):
        c.add(("blueprint",), "expected a mapping of dimension, content_domain, item_type, process")
        blueprint = {}
    for dim, cats in blueprint.items():
        if dim not in BLUEPRINT:
            c.add(("blueprint", dim), f"unknown blueprint dimension; use one of {', '.join(BLUEPRINT)}")
            continue
        allowed, counts = BLUEPRINT[dim]
        if not isinstance(cats, dict):
            c.add(("blueprint", dim), f"expected a mapping of {dim} value → number or {{min, max}}")
            continue
        for cat, value in cats.items():
            if cat not in allowed:
                c.add(("blueprint", dim, cat), f"unknown {dim}; use one of {', '.join(allowed)}")
                continue
            r = _range(c, ("blueprint", dim, cat), value)
            if not r:
                continue
            if dim == "content_domain":
                coef = per_unit(lambda u, cat=cat: str(u.metadata.content_domain) == cat)
            elif dim == "dimension":
                coef = per_unit(lambda u, cat=cat: sum(str(i.dimension or u.metadata.dimension) == cat for i in u.items))
            elif dim == "item_type":
                coef = per_unit(lambda u, cat=cat: sum(i.type == cat for i in u.items))
            else:
                coef = per_unit(lambda u, cat=cat: sum(str(i.process) == cat for i in u.items))
            constraints.append(Constraint(f"blueprint: {_words(*r, f'{counts} with {dim} {cat}')} per form", coef, *r))

    # -- between forms --------------------------------------------------------------------------
    overlap = spec.get("overlap")
    if overlap is not None and (not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0):
        c.add(("overlap",), "expected the largest number of units two forms may share (an integer ≥ 0)")
        overlap = None
    exposure = spec.get("max_forms_per_unit")
    if exposure is not None and (not isinstance(exposure, int) or isinstance(exposure, bool) or exposure < 1):
        c.add(("max_forms_per_unit",), "expected an integer ≥ 1")
        exposure = None

    def unit_of(loc: Loc, ident: Any) -> int | None:
        uid = item_unit.get(ident, ident)
        if uid not in index:
            where = "the bank" if ident not in by_id else "the pool (check pool.status)"
            c.add(loc, f"{ident!r} is not a unit or item id in {where}")
            return None
        return index[uid]

    enemies: list[tuple[int, int]] = []
    for i, pair in enumerate(spec.get("enemies", []) or []):
        if not isinstance(pair, list) or len(pair) < 2:
            c.add(("enemies", i), "expected a list of two or more unit or item ids that must be in different forms")
            continue
        members = [unit_of(("enemies", i, k), x) for k, x in enumerate(pair)]
        if None in members:
            continue
        if len(set(members)) < len(members):
            c.add(("enemies", i), "two of these are in the same unit; whole units are assembled, so they cannot be kept apart")
            continue
        enemies += [(a, b) for k, a in enumerate(members) for b in members[k + 1:]]  # type: ignore[misc]
    include = []
    for i, x in enumerate(spec.get("include", []) or []):
        u = unit_of(("include", i), x)
        if u is not None:
            include.append(u)

    # -- objective -----------------------------------------------------------------------------
    theta = spec.get("theta")
    objective = spec.get("objective", "maximin" if theta is not None else "none")
    if objective not in OBJECTIVES:
        c.add(("objective",), f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
        objective = "none"
    information = target = None
    theta_list: list[float] = []
    notes: list[str] = []
    if objective != "none":
        if not isinstance(theta, list) or not theta or not all(isinstance(t, int | float) and not isinstance(t, bool) for t in theta):
            c.add(("theta",), f"objective {objective} needs theta: a list of θ points, e.g. [-1, 0, 1]")
        else:
            theta_list = [float(t) for t in theta]
            items = [i for u in pool for i in u.items if i.irt is not None]
            missing = [i.id for u in pool for i in u.items if i.irt is None]
            if pool and not items:
                c.add(("objective",), f"{objective} needs item parameters, but no item in the pool has an irt "
                      "block yet; use `objective: none` (constraints only) until a calibration adds them")
            elif items:
                params = ItemParameters.from_records(i.irt.record(i.id) for i in items)  # type: ignore[union-attr]
                info = item_information(params, np.array(theta_list))
                unit_idx = np.array([index[item_unit[i.id]] for i in items])
                information = np.zeros((U, len(theta_list)))
                np.add.at(information, unit_idx, info)
                if missing:
                    notes.append(f"{len(missing)} item(s) without parameters count as zero information "
                                  f"(e.g. {', '.join(missing[:3])})")
        raw_target = spec.get("target")
        if raw_target is not None:
            if not isinstance(raw_target, list) or len(raw_target) != len(theta_list) or not all(
                isinstance(t, int | float) and not isinstance(t, bool) and t >= 0 for t in raw_target
            ):
                c.add(("target",), f"expected {len(theta_list)} numbers ≥ 0, one per theta point")
            else:
                target = np.array(raw_target, float)
        elif objective == "deviation":
            c.add(("target",), "objective deviation needs target: the test information wanted at each theta point")
    elif spec.get("target") is not None:
        c.add(("target",), "a target needs objective maximin or deviation (and item parameters)")
    time_limit = spec.get("time_limit", 20)
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or time_limit <= 0:
        c.add(("time_limit",), "expected seconds > 0")
        time_limit = 20
    if c.problems:
        raise ProblemsError(c.problems)
    problem = AssemblyProblem(
        n_forms=n_forms, constraints=constraints, information=information, target=target,
        objective=objective, enemies=enemies, max_overlap=overlap, max_forms_per_unit=exposure,
        include=include, unit_names=names, time_limit=float(time_limit),
    )
    return AssemblyTask(problem, pool, theta_list, notes)


def forms_document(task: AssemblyTask, result: AssemblyResult) -> dict[str, Any]:
    """FORMS.yaml: each form's units, items, minutes, and information at the θ points."""
    forms = []
    for f, chosen in enumerate(result.forms):
        units = [task.units[u] for u in chosen]
        entry: dict[str, Any] = {
            "form": f + 1,
            "units": [u.id for u in units],
            "items": sum(len(u.items) for u in units),
            "minutes": sum(u.metadata.estimated_minutes for u in units),
        }
        if result.information is not None:
            entry["information"] = {float(t): round(float(v), 3) for t, v in zip(task.theta, result.information[f], strict=True)}
        forms.append(entry)
    doc: dict[str, Any] = {"objective": task.problem.objective, "status": result.status}
    if task.notes:
        doc["notes"] = list(task.notes)
    doc["forms"] = forms
    if result.objective_value is not None:
        doc["objective_value"] = round(result.objective_value, 4)
    return doc


def write_forms(path: str | Path, document: dict[str, Any]) -> None:
    Path(path).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
