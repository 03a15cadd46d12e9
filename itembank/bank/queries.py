"""Read the bank back from the database: latest unit versions as schema objects, with parameters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .models import ItemParameters, ItemVersion, Unit, UnitVersion
from .schema import Unit as UnitSchema


def _units_with_versions(session: Session) -> list[Unit]:
    """Every unit with its versions, their items and parameters loaded (three queries in all)."""
    return list(session.scalars(
        select(Unit).options(
            selectinload(Unit.versions)
            .selectinload(UnitVersion.item_versions)
            .selectinload(ItemVersion.parameters)
        ).order_by(Unit.id)
    ).all())


def latest_versions(session: Session, statuses: Iterable[str] | None = None) -> list[UnitVersion]:
    """The latest version of every unit (optionally only those whose latest has ``statuses``)."""
    units = _units_with_versions(session)
    wanted = set(statuses) if statuses is not None else None
    return [u.latest for u in units if u.versions and (wanted is None or u.latest.status in wanted)]


def in_use_versions(session: Session, status: str = "approved") -> list[UnitVersion]:
    """Per unit, its newest version with ``status`` (default: the approved version in use).

    A newer draft of an approved unit does not hide it: the approved version stays in use until
    the draft is approved in turn.
    """
    units = _units_with_versions(session)
    chosen = []
    for unit in units:
        matching = [v for v in unit.versions if v.status == status]
        if matching:
            chosen.append(matching[-1])
    return chosen


def unit_schema(version: UnitVersion) -> UnitSchema:
    """Rebuild the validated unit of ``version``, with its items' current parameters as irt blocks."""
    content = dict(version.content)
    items = []
    for stored, item_version in zip(content["items"], version.item_versions, strict=True):
        item = dict(stored)
        if item_version.parameters is not None:
            item["irt"] = item_version.parameters.irt_block()
        items.append(item)
    content.update(items=items, version=version.version, status=version.status)
    return UnitSchema.model_validate(content)


def parameter_records(versions: Sequence[UnitVersion]) -> list[dict]:
    """PARAMS.json-style records of every calibrated item in ``versions``."""
    records = []
    for version in versions:
        for iv in version.item_versions:
            p: ItemParameters | None = iv.parameters
            if p is not None:
                records.append({"id": iv.item_id, "model": p.model, "a": p.a, "b": p.b, "c": p.c})
    return records
