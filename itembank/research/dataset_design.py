"""The survey design stored with a data set: final student weights, stratum and school (primary
sampling unit), and the replicate weights built from them (JK2 or BRR-Fay, by
:func:`irt.replicates.build`) or given as columns, so that reports compute design-based standard
errors (docs/research.md, "Survey design").

A design comes either with the upload (columns ``weight``, ``stratum``, ``psu`` or
``repwt1`` … ``repwtG`` next to the responses) or later, as a CSV of ``person_id`` → design
columns attached to any data set (uploaded, online sessions, paper).  Every problem is a
FILE:ROW:COLUMN :class:`~itembank.errors.DataFileError` and nothing is stored then.

Storage: ``dataset_persons.weight/stratum/psu`` and the person's G replicate weights as one JSON
list in ``dataset_persons.replicate_weights``; the data set keeps the method, the G variance
factors c_g and how the design was given.  One row per person keeps a 5,000 × 80 design one
query of 5,000 rows (about 30 ms to an (N, G) array), where a long table would be 400,000 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from irt import replicates as rep
from irt.replicates import ReplicateDesign, SurveyDesignError
from itembank.errors import DataFileError, Problem

from .background import MAX_PROBLEMS, Background, parse_background
from .models import Dataset, DatasetPerson

__all__ = [
    "BUILD_METHODS",
    "DESIGN_COLUMNS",
    "REPLICATE_PREFIX",
    "ParsedDesign",
    "attach_design_csv",
    "design_columns",
    "parse_design",
    "remove_design",
    "stored_design",
]

DESIGN_COLUMNS = ("weight", "stratum", "psu")
REPLICATE_PREFIX = "repwt"
BUILD_METHODS = rep.METHODS  # "jk2", "brr-fay": built from stratum and psu, or how to read repwt


@dataclass(frozen=True)
class ParsedDesign:
    """The checked design of N persons (in the file's order): weights (N,) or None (all 1),
    stratum and psu labels (N,) or None, replicate weights (N, G) or None, and the design it makes
    (None: weights only, SEs then assume simple random sampling)."""

    n: int
    weights: np.ndarray | None
    stratum: list[str] | None
    psu: list[str] | None
    replicate_weights: np.ndarray | None
    design: ReplicateDesign | None
    settings: dict[str, Any]


def design_columns(header: Sequence[str]) -> tuple[list[str], list[str]]:
    """The design columns of a header and its replicate-weight columns (``repwt1`` …, in order)."""
    present = [h for h in DESIGN_COLUMNS if h in header]
    numbered = sorted(
        (int(h[len(REPLICATE_PREFIX):]), h) for h in header
        if h.startswith(REPLICATE_PREFIX) and h[len(REPLICATE_PREFIX):].isdigit()
    )
    return present, [h for _, h in numbered]


def _header_problem(bg: Background, column: str | None, message: str) -> Problem:
    return Problem(bg.path, 1, bg.column_number(column) if column else 0, message)


def parse_design(bg: Background, method: str, *, schools: Sequence[str | None] | None = None,
                 source: str) -> ParsedDesign | None:
    """Check the design columns of ``bg`` (rows in the order of its persons) and build the
    replicates.  ``method``: "jk2" or "brr-fay" (how to build from stratum and psu, or how to
    read given ``repwt`` columns); ``schools``: each person's school, the PSU where ``psu`` is
    absent or blank; ``source``: "upload" or "attached" (kept with the design).  None when the
    file has no design column.  Raises DataFileError."""
    present, repcols = design_columns(bg.header)
    if not present and not repcols:
        return None
    if method not in BUILD_METHODS:
        raise DataFileError([_header_problem(bg, None, f"unknown replicate method {method!r}; "
                                                        f"use one of {', '.join(BUILD_METHODS)}")])
    rows = np.arange(len(bg.person_ids))
    problems: list[Problem] = []
    if repcols and ("stratum" in present or "psu" in present):
        problems.append(_header_problem(bg, repcols[0], "give either stratum and psu (replicates "
                                        "are built) or replicate weights repwt1, repwt2, …, not both"))
    if repcols:
        expected = [f"{REPLICATE_PREFIX}{k}" for k in range(1, len(repcols) + 1)]
        if repcols != expected:
            missing = next(e for e in expected if e not in repcols)
            problems.append(_header_problem(bg, repcols[-1], f"replicate weight columns must be "
                                            f"numbered from 1 without gaps: no column {missing}"))
        elif len(repcols) < 2:
            problems.append(_header_problem(bg, repcols[0], "at least two replicate weight "
                                            "columns are needed (repwt1, repwt2, …)"))
        if "weight" not in present:
            problems.append(_header_problem(bg, repcols[0], "replicate weights need the final "
                                            "student weight in a column weight"))
    if "psu" in present and "stratum" not in present:
        problems.append(_header_problem(bg, "psu", "a column psu needs a column stratum"))
    if problems:
        raise DataFileError(problems)

    def checked(fn: Any) -> Any:
        try:
            return fn()
        except DataFileError as exc:
            problems.extend(exc.problems)
            return None

    weights = checked(lambda: bg.numbers("weight", rows, "weight", non_negative=True)) \
        if "weight" in present else None
    repw = None
    if repcols:
        cols = [checked(lambda c=c: bg.numbers(c, rows, c, non_negative=True)) for c in repcols]
        if all(c is not None for c in cols):
            repw = np.column_stack(cols)
    strata = psus = None
    if "stratum" in present:
        strata = checked(lambda: bg.labels("stratum", rows, "stratum"))
        col = bg.column_number("psu") if "psu" in present else bg.column_number("stratum")
        given = bg.cells["psu"] if "psu" in present else [""] * len(rows)
        psus = []
        for k, value in enumerate(given):
            school = (schools[k] if schools is not None else None) or ""
            psus.append(value or school)
            if not psus[-1]:
                problems.append(Problem(bg.path, bg.lines[k], col,
                                        "psu: empty, and the person has no school to use instead"))
    for name, values in (("weight", weights), ("repwt", repw)):
        if values is not None and not np.isfinite(values.sum(axis=0)).all():
            problems.append(_header_problem(bg, name if name in bg.header else None,
                                            f"{name}: the weights are too large to add up"))
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS])
    settings: dict[str, Any] = {
        "source": source, "file": bg.path,
        "columns": [*present, *([f"{REPLICATE_PREFIX}1…{REPLICATE_PREFIX}{len(repcols)}"]
                                if repcols else [])],
        "given_at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        if repw is not None:
            assert weights is not None
            design = rep.given(weights, repw, method)
            settings |= {"method": "given", "read_as": method}
        elif strata is not None and psus is not None:
            _one_psu_strata(bg, list(strata), psus)
            design = rep.build(method, np.array(strata, dtype=str), np.array(psus, dtype=str),
                               weights)
            settings |= {"method": method}
        else:
            if weights is not None and not weights.sum() > 0:
                raise SurveyDesignError("the weights sum to zero")
            design = None
            settings |= {"method": None}
    except SurveyDesignError as exc:
        raise DataFileError([_header_problem(bg, None, str(exc))]) from None
    if method == "brr-fay" and settings["method"] is not None:
        settings["fay_k"] = rep.FAY_K
    return ParsedDesign(len(bg.person_ids), weights, None if strata is None else [str(s) for s in strata],
                        psus, repw, design, settings)


def _one_psu_strata(bg: Background, strata: list[str], psus: list[str]) -> None:
    """A stratum with one school gives no variance: a problem at its first person's row."""
    seen: dict[str, set[str]] = {}
    first: dict[str, int] = {}
    for k, (s, p) in enumerate(zip(strata, psus, strict=True)):
        seen.setdefault(s, set()).add(p)
        first.setdefault(s, k)
    problems = [
        Problem(bg.path, bg.lines[first[s]], bg.column_number("stratum"),
                f"stratum {s!r} has one school ({next(iter(p))}): no variance can be estimated "
                "within it; collapse it with a similar stratum")
        for s, p in seen.items() if len(p) < 2
    ]
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS])


def person_values(parsed: ParsedDesign) -> list[dict[str, Any]]:
    """Each person's stored design columns, in the file's order."""
    d = parsed.design
    out = []
    for k in range(parsed.n):
        out.append({
            "weight": None if parsed.weights is None else float(parsed.weights[k]),
            "stratum": None if parsed.stratum is None else parsed.stratum[k],
            "psu": None if parsed.psu is None else parsed.psu[k],
            "replicate_weights": None if d is None else d.replicate_weights[k].tolist(),
        })
    return out


def mark_dataset(dataset: Dataset, parsed: ParsedDesign | None) -> None:
    """The data set's columns of a design (None clears them)."""
    d = None if parsed is None else parsed.design
    dataset.replicate_method = None if parsed is None or d is None else parsed.settings["method"]
    dataset.replicate_factors = None if d is None else [float(c) for c in d.factors]
    dataset.survey_design = None if parsed is None else {
        **parsed.settings, "replicates": 0 if d is None else d.n_replicates}


def attach_design_csv(session: Session, dataset: Dataset, data: bytes, filename: str,
                      method: str) -> ParsedDesign:
    """Attach the design in ``data`` (CSV: ``person_id`` and design columns, one row for every
    person of the data set) to ``dataset`` in the caller's transaction, replacing any earlier
    design.  Raises DataFileError listing the problems; nothing is changed then."""
    bg = parse_background(data, filename)
    stored = session.execute(
        select(DatasetPerson.id, DatasetPerson.person_id, DatasetPerson.school)
        .where(DatasetPerson.dataset_id == dataset.id).order_by(DatasetPerson.id)
    ).all()
    known = {r.person_id: r for r in stored}
    problems = [Problem(filename, line, bg.column_number("person_id"),
                        f"person {pid!r} is not in data set #{dataset.id}")
                for pid, line in zip(bg.person_ids, bg.lines, strict=True) if pid not in known]
    listed = set(bg.person_ids)
    missing = [r.person_id for r in stored if r.person_id not in listed]
    if missing:
        problems.append(Problem(filename, 0, 0, f"{len(missing)} person(s) of data set "
                                f"#{dataset.id} have no row, e.g. {', '.join(missing[:5])}: "
                                "give every person of the data set a row"))
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS])
    if not any(design_columns(bg.header)):
        raise DataFileError([Problem(filename, 1, 0, "no design column: give weight, stratum "
                                     "and psu, or weight and repwt1, repwt2, …")])
    schools = [known[p].school for p in bg.person_ids]
    parsed = parse_design(bg, method, schools=schools, source="attached")
    assert parsed is not None
    values = person_values(parsed)
    session.execute(update(DatasetPerson), [
        {"id": known[pid].id, **v} for pid, v in zip(bg.person_ids, values, strict=True)
    ])
    mark_dataset(dataset, parsed)
    return parsed


def remove_design(session: Session, dataset: Dataset) -> None:
    """Forget the data set's design (weights, strata, schools given, replicates)."""
    session.execute(
        update(DatasetPerson).where(DatasetPerson.dataset_id == dataset.id)
        .values(weight=None, stratum=None, psu=None, replicate_weights=None)
    )
    mark_dataset(dataset, None)


def stored_design(session: Session, dataset: Dataset,
                  rng: np.random.Generator) -> ReplicateDesign | None:
    """The replicate design of the data set's persons in the order of their ids (the order of
    :func:`~itembank.research.datasets.load_matrix`): one query.  Weights without replicates
    give a random-group jackknife with those weights (simple random sampling); no design: None."""
    if dataset.survey_design is None:
        return None
    rows = session.execute(
        select(DatasetPerson.weight, DatasetPerson.replicate_weights)
        .where(DatasetPerson.dataset_id == dataset.id).order_by(DatasetPerson.id)
    ).all()
    weights = np.array([1.0 if r.weight is None else r.weight for r in rows], dtype=float)
    if dataset.replicate_method is None or dataset.replicate_factors is None:
        return rep.random_groups(weights, len(rows), rng)
    repw = np.array([r.replicate_weights for r in rows], dtype=float)
    factors = np.asarray(dataset.replicate_factors, dtype=float)
    if repw.shape != (len(rows), factors.size):
        raise SurveyDesignError(f"data set #{dataset.id}: stored replicate weights {repw.shape} "
                                f"do not match its {factors.size} replicates")
    return ReplicateDesign(weights, repw, factors, dataset.replicate_method)
