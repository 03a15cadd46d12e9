"""Booklet designs as files: build one from the bank's units (clusters of about equal time,
rotated over positions by :mod:`irt.booklet_design`), write it as DESIGN.yaml (or a CSV table),
read it back with every problem named by its field.

DESIGN.yaml::

    name: rotation-7x3
    positions: 3
    minutes: 60          # optional: the time stated on every booklet (default: its clusters' minutes)
    balance: each cluster appears equally often in each position; every pair ... λ = 1 ...
    clusters:
      - {cluster: C1, minutes: 21, units: [GC-001, GC-014]}
    booklets:            # the table: booklet, position, cluster, units
      - {booklet: 1, position: 1, cluster: C1, units: [GC-001, GC-014]}
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from irt.booklet_design import balance_clusters, design_balance, rotation_design, suggest_clusters
from itembank.bank.csv_import import checked_text
from itembank.bank.schema import Unit
from itembank.bank.yaml_source import read_yaml
from itembank.errors import Problem, ProblemsError


@dataclass
class Cluster:
    id: str
    units: list[str]
    minutes: float = 0.0


@dataclass
class Design:
    """clusters: in order.  booklets: booklet number → cluster ids by position.  minutes: the
    time every booklet states (None: each booklet states the sum of its clusters' minutes)."""

    name: str
    clusters: list[Cluster]
    booklets: dict[int, list[str]]
    balance: str = ""
    notes: list[str] = field(default_factory=list)
    minutes: float | None = None

    def stated_minutes(self, booklet: int) -> float | None:
        """The time the design gives ``booklet`` (what its cover states): the design's
        ``minutes``, else the sum of its clusters' minutes; None when the design says neither
        (a CSV table has no minutes)."""
        if self.minutes is not None:
            return self.minutes
        by_id = self.cluster_by_id
        minutes = [by_id[cid].minutes for cid in self.booklets[booklet]]
        return float(sum(minutes)) if minutes and all(m > 0 for m in minutes) else None

    @property
    def cluster_by_id(self) -> dict[str, Cluster]:
        return {c.id: c for c in self.clusters}

    def units_of(self, booklet: int) -> list[str]:
        """The unit ids of ``booklet`` in the order they are printed."""
        by_id = self.cluster_by_id
        return [u for cid in self.booklets[booklet] for u in by_id[cid].units]

    def unit_ids(self) -> list[str]:
        return [u for c in self.clusters for u in c.units]

    def table(self) -> list[dict[str, Any]]:
        by_id = self.cluster_by_id
        return [{"booklet": b, "position": p + 1, "cluster": cid, "units": list(by_id[cid].units)}
                for b, cids in sorted(self.booklets.items()) for p, cid in enumerate(cids)]


def make_design(units: Sequence[Unit], n_clusters: int | None = None, positions: int | None = None,
                n_blocks: int = 1, name: str | None = None, cluster_minutes: float = 30.0) -> Design:
    """Cluster ``units`` (time-balanced, content domains spread) and rotate the clusters.

    Defaults (PISA-like): 4 positions per booklet (3 when clusters are few), and the number of
    clusters nearest to total time / ``cluster_minutes`` for which a cyclic design balances
    pairs (e.g. 13 clusters of ~38 minutes for 48 units of ~10.5 minutes, λ = 1).
    """
    if not units:
        raise ValueError("no units to put in booklets")
    total = float(sum(u.metadata.estimated_minutes for u in units))
    if positions is None:
        positions = 4 if len(units) >= 5 else max(1, len(units) - 1)
        if n_clusters is not None:
            positions = min(positions, max(1, n_clusters - 1))
    if n_clusters is None:
        n_clusters = suggest_clusters(total, len(units), positions, cluster_minutes)
    minutes = np.array([u.metadata.estimated_minutes for u in units], float)
    domains = np.array([str(u.metadata.content_domain) for u in units])
    groups = balance_clusters(minutes, n_clusters, domains)
    clusters = [Cluster(f"C{c + 1}", [units[u].id for u in members], float(minutes[members].sum()))
                for c, members in enumerate(groups)]
    rotation = rotation_design(n_clusters, positions, n_blocks)
    booklets = {b + 1: [clusters[c].id for c in row] for b, row in enumerate(rotation.booklets)}
    notes = [rotation.note] if rotation.note else []
    return Design(name or f"rotation-{n_clusters}x{positions}", clusters, booklets,
                  rotation.balance.describe(), notes)


TIME_WARNING = {  # what `itembank booklets` says of a TimeWarning (the print page says it from its catalog)
    "en": "booklet {booklet}: its units need about {estimated} minutes, more than the {stated} minutes "
          "the design states (and its cover prints).",
    "zh-TW": "第 {booklet} 本題本的題組估計約需 {estimated} 分鐘，超過設計所訂（封面所印）的 {stated} 分鐘。",
}


@dataclass(frozen=True)
class TimeWarning:
    """A booklet whose units need longer (by their ``estimated_minutes``) than the design states."""

    booklet: int
    estimated: float
    stated: float


def estimated_minutes(design: Design, units: Mapping[str, Unit], booklet: int) -> float:
    """The sum of the estimated minutes of ``booklet``'s units (the bank's unit metadata)."""
    return float(sum(units[u].metadata.estimated_minutes for u in design.units_of(booklet) if u in units))


def time_warnings(design: Design, units: Mapping[str, Unit]) -> list[TimeWarning]:
    """The booklets whose estimated time exceeds the time the design states, by booklet."""
    out = []
    for booklet in sorted(design.booklets):
        stated = design.stated_minutes(booklet)
        estimated = estimated_minutes(design, units, booklet)
        if stated is not None and estimated > stated + 1e-9:
            out.append(TimeWarning(booklet, estimated, stated))
    return out


def minutes_text(minutes: float) -> str:
    """Minutes as printed and said: whole minutes, rounded up (37.5 → "38")."""
    return str(math.ceil(minutes - 1e-9))


def design_document(design: Design) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": design.name,
        "positions": max((len(c) for c in design.booklets.values()), default=0),
        "balance": design.balance,
    }
    if design.minutes is not None:
        doc["minutes"] = design.minutes
    if design.notes:
        doc["notes"] = design.notes
    doc["clusters"] = [{"cluster": c.id, "minutes": round(c.minutes, 1), "units": list(c.units)} for c in design.clusters]
    doc["booklets"] = design.table()
    return doc


def write_design(path: str | Path, design: Design) -> None:
    """DESIGN.yaml, or the flat table as CSV (booklet, position, cluster, units ';'-joined)
    when ``path`` ends in .csv."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["booklet", "position", "cluster", "units"])
        for row in design.table():
            writer.writerow([row["booklet"], row["position"], row["cluster"], ";".join(row["units"])])
        path.write_text(buf.getvalue(), encoding="utf-8")
        return
    path.write_text(yaml.safe_dump(design_document(design), allow_unicode=True, sort_keys=False, width=100),
                    encoding="utf-8")


def read_design(path: str | Path, known_units: Sequence[str] | None = None) -> Design:
    """Read DESIGN.yaml (or the CSV table); raise ProblemsError naming each bad field."""
    path = Path(path)
    name = str(path)
    if path.suffix.lower() == ".csv":
        return _read_design_csv(path, known_units)
    doc, problems = read_yaml(path, name)
    if problems or doc is None:
        raise ProblemsError(problems)
    data = doc.data
    out: list[Problem] = []

    def add(loc: tuple[Any, ...], message: str) -> None:
        line, col = doc.place(loc)
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
        out.append(Problem(name, line, col, f"{where}: {message}"))

    if not isinstance(data, dict) or not isinstance(data.get("booklets"), list) or not data["booklets"]:
        raise ProblemsError([Problem(name, 1, 1, "a design is a mapping with `booklets`: a list of "
                                     "{booklet, position, cluster, units}")])
    clusters: dict[str, Cluster] = {}
    for i, c in enumerate(data.get("clusters") or []):
        if not isinstance(c, dict) or not isinstance(c.get("cluster"), str) or not isinstance(c.get("units"), list):
            add(("clusters", i), "expected {cluster: ID, units: [unit ids]}")
            continue
        clusters[c["cluster"]] = Cluster(c["cluster"], [str(u) for u in c["units"]], float(c.get("minutes", 0) or 0))
    booklets: dict[int, dict[int, str]] = {}
    for i, row in enumerate(data["booklets"]):
        if not isinstance(row, dict):
            add(("booklets", i), "expected {booklet, position, cluster, units}")
            continue
        b, p, cid, units = row.get("booklet"), row.get("position"), row.get("cluster"), row.get("units")
        if not isinstance(b, int) or isinstance(b, bool) or b < 1:
            add(("booklets", i, "booklet"), "expected a booklet number ≥ 1")
            continue
        if not isinstance(p, int) or isinstance(p, bool) or p < 1:
            add(("booklets", i, "position"), "expected a position number ≥ 1")
            continue
        if not isinstance(cid, str | int):
            add(("booklets", i, "cluster"), "expected a cluster id")
            continue
        cid = str(cid)
        if units is not None:
            if not isinstance(units, list):
                add(("booklets", i, "units"), "expected a list of unit ids")
                continue
            units = [str(u) for u in units]
            if cid in clusters and clusters[cid].units != units:
                add(("booklets", i, "units"), f"cluster {cid} holds {clusters[cid].units} elsewhere in this design")
                continue
            clusters.setdefault(cid, Cluster(cid, units))
        elif cid not in clusters:
            add(("booklets", i, "cluster"), f"cluster {cid!r} is not listed under clusters and this row has no units")
            continue
        if p in booklets.setdefault(b, {}):
            add(("booklets", i, "position"), f"booklet {b} has two clusters in position {p}")
            continue
        booklets[b][p] = cid
    for b, positions in booklets.items():
        if sorted(positions) != list(range(1, len(positions) + 1)):
            out.append(Problem(name, 0, 0, f"booklet {b}: positions {sorted(positions)} are not 1..{len(positions)}"))
    minutes = data.get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int | float)
                                or not 0 < minutes <= 600):
        add(("minutes",), "expected the minutes every booklet states: a number from 1 to 600")
        minutes = None
    out += _unit_problems(name, clusters, known_units)
    if out:
        raise ProblemsError(out)
    design = _finish(str(data.get("name") or path.stem), clusters, booklets, data.get("balance", ""))
    design.minutes = float(minutes) if minutes is not None else None
    return design


def _read_design_csv(path: Path, known_units: Sequence[str] | None) -> Design:
    name = str(path)
    rows = list(csv.reader(checked_text(path.read_bytes(), name).splitlines()))
    header = [h.strip() for h in rows[0]] if rows else []
    if header[:4] != ["booklet", "position", "cluster", "units"]:
        raise ProblemsError([Problem(name, 1, 1, "the header must be booklet,position,cluster,units")])
    problems: list[Problem] = []
    clusters: dict[str, Cluster] = {}
    booklets: dict[int, dict[int, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in row):
            continue
        if len(row) < 4:
            problems.append(Problem(name, line, len(row) + 1, "expected 4 fields"))
            continue
        try:
            b, p = int(row[0]), int(row[1])
        except ValueError:
            col = 1 if not row[0].strip().isdigit() else 2
            problems.append(Problem(name, line, col, "booklet and position must be whole numbers"))
            continue
        cid, units = row[2].strip(), [u.strip() for u in row[3].split(";") if u.strip()]
        if cid in clusters and clusters[cid].units != units:
            problems.append(Problem(name, line, 4, f"cluster {cid} holds {clusters[cid].units} on an earlier line"))
            continue
        clusters.setdefault(cid, Cluster(cid, units))
        if p in booklets.setdefault(b, {}):
            problems.append(Problem(name, line, 2, f"booklet {b} has two clusters in position {p}"))
            continue
        booklets[b][p] = cid
    problems += _unit_problems(name, clusters, known_units)
    if problems:
        raise ProblemsError(problems)
    return _finish(path.stem, clusters, booklets, "")


def _unit_problems(name: str, clusters: dict[str, Cluster], known: Sequence[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for c in clusters.values():
        for u in c.units:
            if u in seen and seen[u] != c.id:
                problems.append(Problem(name, 0, 0, f"unit {u} is in clusters {seen[u]} and {c.id}; a unit belongs to one cluster"))
            seen[u] = c.id
            if known is not None and u not in known:
                problems.append(Problem(name, 0, 0, f"cluster {c.id}: unit {u} is not in the bank (or not approved)"))
    return problems


def _finish(name: str, clusters: dict[str, Cluster], booklets: dict[int, dict[int, str]], balance: str) -> Design:
    ordered = {b: [pos[p] for p in sorted(pos)] for b, pos in sorted(booklets.items())}
    used = [c for c in clusters.values() if any(c.id in row for row in ordered.values())]
    if not balance and used:
        index = {c.id: k for k, c in enumerate(used)}
        widths = {len(r) for r in ordered.values()}
        if len(widths) == 1:
            arr = np.array([[index[c] for c in row] for row in ordered.values()])
            balance = design_balance(arr, len(used)).describe()
    return Design(name, used, ordered, balance)
