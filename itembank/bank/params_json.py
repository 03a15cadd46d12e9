"""PARAMS.json in and out: calibrated item parameters, their standard errors and the model's fit.

The contract (docs/calibration.md)::

    {"items": [{"id", "model", "a", "b", "c", "se": {...}, "fit": {...}}],
     "population": {"mean", "sd"},
     "log_likelihood", "aic", "bic", "iterations", "converged"}

``b`` is a number for dichotomous models (rasch, 2pl, 3pl) and a list for GRM (category
boundaries) and GPCM (step difficulties); ``c`` is a number for 3PL and null otherwise; logistic
metric without the 1.7 constant.  Floats are written with Python's shortest round-tripping repr,
so a file read and written again keeps every parameter bit-identical.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from irt.models import (
    DICHOTOMOUS,
    MODELS,
    POLYTOMOUS,
    ItemParameters,
    ParameterError,
    grm_boundaries_ordered,
)
from itembank.errors import DataFileError, Problem

from .json_file import read_json_file

if TYPE_CHECKING:  # pragma: no cover
    from irt.calibration import CalibrationResult

ITEM_KEYS = ("id", "model", "a", "b", "c", "se", "fit")
SUMMARY_KEYS = ("log_likelihood", "aic", "bic", "iterations", "converged")


@dataclass
class ParamsFile:
    """The content of a PARAMS.json.

    se: per item id ``{"a": float, "b": float | list, "c": float}`` as available.
    fit: per item id, free-form item diagnostics (e.g. ``n_responses``, ``flags``, fit statistics).
    population: ``{"mean": float, "sd": float}`` of the latent trait.
    """

    params: ItemParameters
    se: dict[str, dict[str, Any]] = field(default_factory=dict)
    fit: dict[str, dict[str, Any]] = field(default_factory=dict)
    population: dict[str, float] = field(default_factory=lambda: {"mean": 0.0, "sd": 1.0})
    log_likelihood: float | None = None
    aic: float | None = None
    bic: float | None = None
    iterations: int | None = None
    converged: bool | None = None


def _is_number(x: Any) -> TypeGuard[int | float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _jsonable(x: Any) -> Any:
    """Plain JSON values: numpy scalars/arrays to Python, NaN/inf to null."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


def read_params(path: str | Path) -> ParamsFile:
    """Read and validate a PARAMS.json.

    Raises :class:`DataFileError`: JSON syntax errors name their line and column; content errors
    name a JSON path such as ``items[3].b`` (unknown model, wrong number of b, missing or duplicate
    id, c outside [0, 1), ...).  Every content problem is collected and raised once.
    """
    name = str(path)
    doc = read_json_file(path)

    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(name, 0, 0, f"{where}: {message}"))

    if not isinstance(doc, dict):
        raise DataFileError.at(name, 1, 1, "$: expected an object with an `items` list")
    items = doc.get("items")
    if not isinstance(items, list) or not items:
        raise DataFileError.at(name, 0, 0, "items: expected a non-empty list of items")
    records: list[dict[str, Any]] = []
    se: dict[str, dict[str, Any]] = {}
    fit: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict):
            bad(where, "expected an object")
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            bad(f"{where}.id", "missing or not a non-empty string")
            continue
        where = f"items[{i}] ({item_id})"
        if item_id in seen:
            bad(f"{where}.id", f"duplicate item id {item_id!r}")
            continue
        seen.add(item_id)
        model = item.get("model")
        if not isinstance(model, str) or model.lower() not in MODELS:
            bad(f"{where}.model", f"unknown model {model!r}; use one of {', '.join(MODELS)}")
            continue
        model = model.lower()
        ok = True
        a = item.get("a", 1.0)
        if a is None:
            a = 1.0
        if not _is_number(a):
            bad(f"{where}.a", f"expected a number, got {a!r}")
            ok = False
        b = item.get("b")
        if model in DICHOTOMOUS:
            if not _is_number(b):
                bad(f"{where}.b", f"model {model} takes one number as b, got {b!r}")
                ok = False
        elif model in POLYTOMOUS:
            if not isinstance(b, list) or not b or not all(_is_number(x) for x in b):
                bad(f"{where}.b", f"model {model} takes a non-empty list of numbers, got {b!r}")
                ok = False
            elif model == "grm" and _is_number(a) and not grm_boundaries_ordered(a, b):
                # a negative slope reverses the order (calibration writes such items: b = -d/a)
                bad(
                    f"{where}.b",
                    f"GRM category boundaries must increase (decrease when a < 0), "
                    f"got a = {a}, b = {b}",
                )
                ok = False
        c = item.get("c")
        if model == "3pl":
            if not _is_number(c) or not 0.0 <= c < 1.0:
                bad(f"{where}.c", f"3PL takes c in [0, 1), got {c!r}")
                ok = False
        elif c not in (None, 0, 0.0):
            bad(f"{where}.c", f"model {model} has no lower asymptote; c must be null or 0")
            ok = False
        for key in ("se", "fit"):
            if item.get(key) is not None and not isinstance(item.get(key), dict):
                bad(f"{where}.{key}", "expected an object")
                ok = False
        if not ok:
            continue
        records.append({"id": item_id, "model": model, "a": a, "b": b, "c": c})
        se[item_id] = dict(item.get("se") or {})
        fit[item_id] = dict(item.get("fit") or {})

    population = doc.get("population", {"mean": 0.0, "sd": 1.0})
    if population is None:
        population = {"mean": 0.0, "sd": 1.0}
    if not isinstance(population, dict):
        bad("population", "expected an object {mean, sd}")
        population = {}
    mean = population.get("mean", 0.0)
    sd = population.get("sd", 1.0)
    if not _is_number(mean):
        bad("population.mean", f"expected a number, got {mean!r}")
    if not _is_number(sd) or sd <= 0:
        bad("population.sd", f"expected a positive number, got {sd!r}")
    summary: dict[str, Any] = {}
    for key in SUMMARY_KEYS:
        value = doc.get(key)
        if key == "converged":
            if value is not None and not isinstance(value, bool):
                bad(key, f"expected true, false or null, got {value!r}")
        elif key == "iterations":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                bad(key, f"expected an integer or null, got {value!r}")
        elif value is not None and not _is_number(value):
            bad(key, f"expected a number or null, got {value!r}")
        summary[key] = value
    if problems:
        raise DataFileError(problems)
    try:
        params = ItemParameters.from_records(records)
    except ParameterError as exc:  # pragma: no cover - the checks above come first
        raise DataFileError.at(name, 0, 0, f"items: {exc}") from exc
    return ParamsFile(
        params=params,
        se=se,
        fit=fit,
        population={"mean": float(mean), "sd": float(sd)},
        log_likelihood=summary["log_likelihood"],
        aic=summary["aic"],
        bic=summary["bic"],
        iterations=summary["iterations"],
        converged=summary["converged"],
    )


def params_to_document(pf: ParamsFile) -> dict[str, Any]:
    """The PARAMS.json document of ``pf`` as plain JSON values, keys in the contract's order."""
    items = []
    for rec in pf.params.to_records():
        rec = dict(rec)
        rec["se"] = _jsonable(pf.se.get(rec["id"], {}))
        rec["fit"] = _jsonable(pf.fit.get(rec["id"], {}))
        items.append({key: _jsonable(rec.get(key)) for key in ITEM_KEYS})
    doc: dict[str, Any] = {
        "items": items,
        "population": {
            "mean": _jsonable(pf.population.get("mean", 0.0)),
            "sd": _jsonable(pf.population.get("sd", 1.0)),
        },
    }
    for key in SUMMARY_KEYS:
        doc[key] = _jsonable(getattr(pf, key))
    return doc


def write_params(path: str | Path, pf: ParamsFile) -> None:
    """Write ``pf`` as PARAMS.json: contract key order, indent 2, UTF-8, trailing newline."""
    text = json.dumps(params_to_document(pf), indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def params_file_from_result(result: CalibrationResult) -> ParamsFile:
    """The PARAMS.json content of a calibration: estimates, SEs, per-item flags and counts."""
    fit: dict[str, dict[str, Any]] = {}
    for j, item_id in enumerate(result.params.ids):
        entry: dict[str, Any] = {"n_responses": int(result.n_responses[j])}
        flags = result.flags.get(item_id, [])
        if flags:
            entry["flags"] = list(flags)
        if item_id in result.anchored:
            entry["anchored"] = True
        fit[item_id] = entry
    return ParamsFile(
        params=result.params,
        se={k: dict(v) for k, v in result.se.items()},
        fit=fit,
        population={"mean": float(result.population_mean), "sd": float(result.population_sd)},
        log_likelihood=float(result.log_likelihood),
        aic=float(result.aic),
        bic=float(result.bic),
        iterations=int(result.iterations),
        converged=bool(result.converged),
    )
