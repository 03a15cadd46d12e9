"""Designs frozen when they are printed: printing (or downloading) a design's booklets saves it as
a version that pins the unit versions and item parameters it was printed from
(:class:`~itembank.paper.models.PrintedDesign`); its id goes on every cover and answer key, and
paper answers for it are scored against the pinned versions, whatever is approved afterwards.

Printing the same design from the same versions again finds the same row (by its fingerprint); a
change to any of its units (a new approved version, new parameters) makes a new version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from itembank.bank.models import ItemParameters, ItemVersion, MediaFile, UnitVersion
from itembank.bank.schema import Unit
from itembank.bank.yaml_source import parse_yaml

from .booklet_set import PrintBank
from .design import Cluster, Design, design_document
from .models import PrintedDesign


class UnknownDesign(LookupError):
    """No printed design has this id."""


def fingerprint(document: dict[str, Any], pins: dict[str, Any]) -> str:
    text = json.dumps({"design": document, "pins": pins}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def freeze(session: Session, design: Design, bank: PrintBank, *, created_by: int | None = None) -> PrintedDesign:
    """The printed version of ``design`` from ``bank``'s versions: the existing one when this very
    design was printed from these versions before, else a new version (in the caller's transaction)."""
    missing = [u for u in design.unit_ids() if u not in bank.pins]
    if missing:
        raise ValueError(f"no stored version of unit(s) {', '.join(missing)}; only a bank read from the "
                         "database can be printed as a saved design")
    document = design_document(design)
    pins = {u: bank.pins[u] for u in design.unit_ids()}
    key = fingerprint(document, pins)
    found = session.scalars(select(PrintedDesign).where(PrintedDesign.fingerprint == key)).first()
    if found is not None:
        return found
    latest = session.scalar(select(func.max(PrintedDesign.version)).where(PrintedDesign.name == design.name))
    row = PrintedDesign(name=design.name, version=(latest or 0) + 1, fingerprint=key, design=document,
                        pins=pins, created_by=created_by)
    try:
        with session.begin_nested():  # another request may print the same design at this instant
            session.add(row)
    except IntegrityError:
        found = session.scalars(select(PrintedDesign).where(PrintedDesign.fingerprint == key)).first()
        if found is None:
            raise
        return found
    return row


def get(session: Session, design_id: int) -> PrintedDesign:
    row = session.get(PrintedDesign, design_id)
    if row is None:
        raise UnknownDesign(f"there is no printed design {design_id}")
    return row


def design_of(printed: PrintedDesign) -> Design:
    """The design as it was printed."""
    doc = printed.design
    clusters = [Cluster(str(c["cluster"]), [str(u) for u in c["units"]], float(c.get("minutes") or 0))
                for c in doc["clusters"]]
    rows = sorted(doc["booklets"], key=lambda r: (int(r["booklet"]), int(r["position"])))
    booklets: dict[int, list[str]] = {}
    for r in rows:
        booklets.setdefault(int(r["booklet"]), []).append(str(r["cluster"]))
    minutes = doc.get("minutes")
    return Design(str(doc["name"]), clusters, booklets, str(doc.get("balance") or ""), list(doc.get("notes") or []),
                  float(minutes) if minutes is not None else None)


def pinned_bank(session: Session, printed: PrintedDesign) -> PrintBank:
    """The units of ``printed`` exactly as they were printed: the pinned unit versions, with the
    item parameters they had then, and their images."""
    ids = [int(p["unit_version"]) for p in printed.pins.values()]
    versions = {v.unit_id: v for v in session.scalars(
        select(UnitVersion).where(UnitVersion.id.in_(ids)).options(selectinload(UnitVersion.item_versions)))}
    parameter_ids = {int(pid) for p in printed.pins.values() for pid in p["parameters"].values() if pid is not None}
    parameters = ({r.id: r for r in session.scalars(select(ItemParameters).where(ItemParameters.id.in_(parameter_ids)))}
                  if parameter_ids else {})
    hashes = {h for v in versions.values() for h in (v.media or {}).values()}
    blobs = ({m.sha256: m.data for m in session.scalars(select(MediaFile).where(MediaFile.sha256.in_(hashes)))}
             if hashes else {})
    units: list[Unit] = []
    images: dict[str, dict[str, bytes]] = {}
    for unit_id in printed.pins:
        version = versions[unit_id]
        units.append(_unit(version, printed.pins[unit_id]["parameters"], parameters))
        images[unit_id] = {src: blobs[h] for src, h in (version.media or {}).items() if h in blobs}
    return PrintBank(units, images, dict(printed.pins))


def _unit(version: UnitVersion, pinned: dict[str, int | None], parameters: dict[int, ItemParameters]) -> Unit:
    content = dict(version.content)
    items = []
    by_item: dict[str, ItemVersion] = {iv.item_id: iv for iv in version.item_versions}
    for stored in content["items"]:
        item = dict(stored)
        pid = pinned.get(item["id"], by_item[item["id"]].parameters_id if item["id"] in by_item else None)
        if pid is not None and pid in parameters:
            item["irt"] = parameters[pid].irt_block()
        items.append(item)
    content.update(items=items, version=version.version, status=version.status)
    return Unit.model_validate(content)


def label(printed: PrintedDesign) -> str:
    """What the cover and the answer key print: the design's id."""
    return str(printed.id)


def recent(session: Session, limit: int = 10) -> list[PrintedDesign]:
    """The designs printed last, newest first (the print page lists them)."""
    return list(session.scalars(select(PrintedDesign).order_by(PrintedDesign.id.desc()).limit(limit)))


def design_yaml(design: Design, row: PrintedDesign) -> str:
    """The design.yaml of a printed design: ``printed_design: N`` first, then the design, so that
    paper answers read back with this file are scored against the versions it was printed from."""
    document = {"printed_design": row.id, **design_document(design)}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def number_in(data: bytes) -> int | None:
    """The ``printed_design`` of a design.yaml written by :func:`design_yaml` (None for a design
    file without one, or one that is not YAML: it is then read as a design of today's units)."""
    # the bank's bounded YAML reader (size, depth and alias limits), never yaml.safe_load
    parsed, problems = parse_yaml(data.removeprefix(b"\xef\xbb\xbf"), "design.yaml")
    if parsed is None or problems:
        return None
    doc = parsed.data
    value = doc.get("printed_design") if isinstance(doc, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
