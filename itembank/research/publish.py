"""Publishing a calibration run's parameters into the bank, and restoring an earlier calibration.

A run is first put on the bank's scale: Stocking–Lord (1983) over the items it shares with the
bank's current parameters (irt.linking), when it shares at least two and they were not anchors
(anchored items already sit on the bank's scale).  Publishing writes a new Calibration with one
ItemParameters row per item and points each current item version at it; restoring points them
back at an earlier calibration's rows.  Each is one transaction and one numbered Publication,
which keeps the pointers it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from irt.linking import LinkingError, stocking_lord, transform
from irt.models import ItemParameters as IrtParameters
from itembank.bank.models import Calibration, ItemParameters

from .calibration_runs import current_item_versions, current_parameters, run_params
from .models import CalibrationRun, Publication


class PublishError(ValueError):
    """A run that cannot be published (not finished) or a calibration that cannot be restored."""


@dataclass(frozen=True)
class Change:
    item_id: str
    model: str
    old: dict[str, Any] | None
    new: dict[str, Any]
    delta_a: float | None
    delta_b: float | None


@dataclass(frozen=True)
class Comparison:
    """The run's parameters on the bank's scale (``linked``), the linking constants and the
    per-item changes against the bank's current parameters."""

    linked: IrtParameters
    A: float
    B: float
    common_items: tuple[str, ...]
    linked_by: str  # "stocking-lord", "anchors" or "none"
    changes: list[Change]
    se: dict[str, dict[str, Any]]


def _mean_b(b: Any) -> float:
    return float(np.mean(b)) if isinstance(b, list) else float(b)


def compare(session: Session, run: CalibrationRun) -> Comparison:
    if run.result is None:
        raise PublishError("the run has no result yet")
    params = run_params(run)
    bank = current_parameters(session, list(params.ids))
    anchored = set(run.result.get("anchored") or [])
    common = [i for i in params.ids if i in bank and i not in anchored
              and bank[i]["model"] == (params.models[params.ids.index(i)])]
    A, B, linked_by = 1.0, 0.0, "anchors" if anchored else "none"
    if not anchored and len(common) >= 2:
        to = IrtParameters.from_records([bank[i] for i in common])
        try:
            res = stocking_lord(params.subset(params.index(common)), to)
            A, B, linked_by = res.A, res.B, "stocking-lord"
        except LinkingError:
            pass
    linked = transform(params, A, B)
    se: dict[str, dict[str, Any]] = {}
    for entry in run.result["items"]:
        s = dict(entry.get("se") or {})
        if s.get("a") is not None:
            s["a"] = s["a"] / A
        if isinstance(s.get("b"), list):
            s["b"] = [None if x is None else x * A for x in s["b"]]
        elif s.get("b") is not None:
            s["b"] = s["b"] * A
        se[entry["id"]] = s
    changes = []
    for rec in linked.to_records():
        old = bank.get(rec["id"])
        delta_a = delta_b = None
        if old is not None:
            delta_a = rec["a"] - float(old["a"] if old["a"] is not None else 1.0)
            delta_b = _mean_b(rec["b"]) - _mean_b(old["b"])
        changes.append(Change(rec["id"], rec["model"], old, rec, delta_a, delta_b))
    return Comparison(linked, A, B, tuple(common), linked_by, changes, se)


def _next_number(session: Session) -> int:
    return int(session.scalar(select(func.max(Publication.number))) or 0) + 1


def _point(session: Session, rows: dict[str, ItemParameters]) -> dict[str, int | None]:
    previous: dict[str, int | None] = {}
    for iv in current_item_versions(session, list(rows)):
        previous[str(iv.id)] = iv.parameters_id
        iv.parameters = rows[iv.item_id]
    return previous


def publish(session: Session, run: CalibrationRun, *, user_id: int | None = None) -> Publication:
    """Publish ``run`` (in the caller's transaction): a new calibration, its parameter rows, the
    current item versions pointed at them."""
    comparison = compare(session, run)
    assert run.result is not None
    number = _next_number(session)
    population = run.result.get("population") or {"mean": 0.0, "sd": 1.0}
    calibration = Calibration(
        id=f"publication-{number}-run-{run.id}",
        date=date.today(),
        method="MML-EM (Bock & Aitkin 1981)"
        + (f", Stocking–Lord linking A={comparison.A:.4f} B={comparison.B:.4f}"
           if comparison.linked_by == "stocking-lord" else ""),
        software="gc-itembank research",
        data=f"calibration run {run.id}: data sets {run.settings.get('datasets')}"[:300],
        persons=int(run.result.get("n_persons") or 0),
        population_mean=comparison.A * float(population["mean"]) + comparison.B,
        population_sd=comparison.A * float(population["sd"]),
        description={"zh-TW": f"校準 {run.name}", "en": f"Calibration run {run.name}"},
    )
    session.add(calibration)
    session.flush()
    fits = {e["id"]: e.get("fit") or {} for e in run.result["items"]}
    rows: dict[str, ItemParameters] = {}
    for rec in comparison.linked.to_records():
        row = ItemParameters(item_id=rec["id"], calibration_id=calibration.id, model=rec["model"],
                             a=None if rec["model"] == "rasch" else rec["a"], b=rec["b"],
                             c=rec["c"], se=comparison.se.get(rec["id"]), fit=fits.get(rec["id"]))
        session.add(row)
        rows[rec["id"]] = row
    session.flush()
    pub = Publication(number=number, action="publish", calibration_id=calibration.id, run_id=run.id,
                      linking={"A": comparison.A, "B": comparison.B, "method": comparison.linked_by,
                               "common_items": list(comparison.common_items)},
                      previous=_point(session, rows), published_by=user_id)
    session.add(pub)
    session.flush()
    return pub


def restore(session: Session, calibration_id: str, *, user_id: int | None = None) -> Publication:
    """Point the current item versions back at ``calibration_id``'s parameters."""
    if session.get(Calibration, calibration_id) is None:
        raise PublishError(f"no calibration {calibration_id!r}")
    rows = {r.item_id: r for r in session.scalars(
        select(ItemParameters).where(ItemParameters.calibration_id == calibration_id))}
    if not rows:
        raise PublishError(f"calibration {calibration_id!r} has no item parameters")
    pub = Publication(number=_next_number(session), action="restore", calibration_id=calibration_id,
                      previous=_point(session, rows), published_by=user_id)
    session.add(pub)
    session.flush()
    return pub


def calibrations(session: Session) -> list[tuple[Calibration, int, int]]:
    """Every calibration with its number of parameter rows and of item versions pointing at it."""
    from itembank.bank.models import ItemVersion

    counts = dict(session.execute(
        select(ItemParameters.calibration_id, func.count(ItemParameters.id))
        .group_by(ItemParameters.calibration_id)).all())
    used = dict(session.execute(
        select(ItemParameters.calibration_id, func.count(ItemVersion.id))
        .join(ItemVersion, ItemVersion.parameters_id == ItemParameters.id)
        .group_by(ItemParameters.calibration_id)).all())
    cals = session.scalars(select(Calibration).order_by(Calibration.created_at, Calibration.id))
    return [(c, int(counts.get(c.id, 0)), int(used.get(c.id, 0))) for c in cals]
