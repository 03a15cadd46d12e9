"""Finding units and items (text in either language, type, dimension, domain, SDG, grade band,
status, difficulty) and the bank overview: counts and the test information curve of the approved
items.  Everything is read from the database on each request; nothing is cached in the worker."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from irt.models import ItemParameters as IrtParameters
from irt.models import test_information
from itembank.authoring.workflow import local_texts, open_check_counts
from itembank.bank.models import ItemVersion, UnitVersion
from itembank.bank.queries import in_use_versions, latest_versions, parameter_records


@dataclass
class Filters:
    q: str = ""
    type: str = ""
    dimension: str = ""
    domain: str = ""
    sdg: int | None = None
    grade_band: str = ""
    status: str = ""
    b_min: float | None = None
    b_max: float | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def number(name: str, kind: type) -> Any:
            try:
                return kind(args.get(name, "").strip()) if args.get(name, "").strip() else None
            except ValueError:
                return None

        return cls(q=args.get("q", "").strip()[:200], type=args.get("type", ""), dimension=args.get("dimension", ""),
                   domain=args.get("domain", ""), sdg=number("sdg", int), grade_band=args.get("grade_band", ""),
                   status=args.get("status", ""), b_min=number("b_min", float), b_max=number("b_max", float))

    @property
    def item_level(self) -> bool:
        return bool(self.type or self.b_min is not None or self.b_max is not None)


@dataclass
class Row:
    version: UnitVersion
    items: list[ItemVersion] = field(default_factory=list)
    open_checks: int = 0


def difficulty(iv: ItemVersion) -> float | None:
    """The item's location: b, or the mean of its boundaries / steps (GRM, GPCM)."""
    p = iv.parameters
    if p is None:
        return None
    return float(np.mean(p.b)) if isinstance(p.b, list) else float(p.b)


def _item_matches(iv: ItemVersion, f: Filters) -> bool:
    if f.type and iv.type != f.type:
        return False
    if f.dimension and iv.content.get("dimension") not in (None, f.dimension):
        return False
    if f.b_min is not None or f.b_max is not None:
        b = difficulty(iv)
        if b is None or (f.b_min is not None and b < f.b_min) or (f.b_max is not None and b > f.b_max):
            return False
    return True


def search(session: Session, f: Filters) -> list[Row]:
    counts = open_check_counts(session)
    rows = []
    needle = f.q.casefold()
    for version in latest_versions(session):
        c = version.content
        meta = c["metadata"]
        if f.status and version.status != f.status:
            continue
        if f.domain and version.content_domain != f.domain:
            continue
        if f.sdg is not None and f.sdg not in meta.get("sdgs", []):
            continue
        if f.grade_band and f.grade_band not in meta.get("grade_band", []):
            continue
        unit_dimension_ok = not f.dimension or version.dimension == f.dimension
        items = [iv for iv in version.item_versions
                 if _item_matches(iv, f) and (unit_dimension_ok or iv.content.get("dimension") == f.dimension)]
        if not items and (f.item_level or f.dimension):
            continue
        if needle:
            unit_hit = needle in version.unit_id.casefold() or any(
                needle in text.casefold()
                for path, texts in local_texts({k: v for k, v in c.items() if k != "items"}).items()
                for text in texts.values())
            hits = [iv for iv in items if needle in iv.item_id.casefold() or any(
                needle in text.casefold() for texts in local_texts(iv.content).values() for text in texts.values())]
            if not unit_hit and not hits:
                continue
            items = items if unit_hit else hits
        rows.append(Row(version, items, counts.get(version.unit_id, 0)))
    return rows


def status_counts(session: Session) -> dict[str, int]:
    counts = {s: 0 for s in ("draft", "review", "approved", "retired", "released")}
    for version in latest_versions(session):
        counts[version.status] = counts.get(version.status, 0) + 1
    return counts


def information_svg(session: Session, title: str, x_label: str, y_label: str, empty: str) -> bytes:
    """The test information curve of the approved items in use (matplotlib, SVG)."""
    from itembank.plot_style import figure

    records = parameter_records(in_use_versions(session))
    theta = np.linspace(-4, 4, 161)
    fig = figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    if records:
        info = test_information(IrtParameters.from_records(records), theta)
        ax.plot(theta, info, color="#1f5f8b", linewidth=2)
        ax.fill_between(theta, info, color="#1f5f8b", alpha=0.12)
        ax.set_ylim(bottom=0)
    else:
        ax.text(0, 0.5, empty, ha="center", va="center")
    ax.set_title(f"{title} (n = {len(records)})")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
