"""Build the CAT engine's bank (:class:`irt.cat.CatBank`) from the database, with what delivery needs
beside it: each item's schema object (for the student view and scoring) and its stored version.

Adaptive tests use the latest *approved* version of every unit (narrowed by the test's item
filter); items with parameters that are scored at once route, open responses are delivered within
their unit but do not route.  Fixed tests get a bank of their item list, each item its own "unit",
so that any order is a valid history and the final θ is estimated the same way.  Practice tests
(:mod:`itembank.delivery.practice`) are fixed forms of *released* units only: the latest version of
each unit must be released, and no approved unit is ever taken.

Built banks are cached per process, keyed by a fingerprint of the bank's stored state: a cache,
never state; a changed bank (a new version, new parameters, a status change) gets a new key.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from irt.cat import BankItem, CatBank
from irt.models import ItemParameters as IrtParameters
from itembank.bank.models import BankRevision, ItemParameters, ItemVersion, UnitVersion
from itembank.bank.queries import in_use_versions, latest_versions, unit_schema
from itembank.bank.schema import AUTO_SCORED
from itembank.bank.schema import Unit as UnitSchema

CACHE_SIZE = 32


class BankUnavailableError(Exception):
    """The test's bank is empty or names items that are not in the bank (``missing``: those
    item ids, for a page that words the refusal in its reader's language)."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class DeliveryItem:
    """One deliverable item: its schema object, the unit it belongs to and its stored version."""

    item: Any  # an itembank.bank.schema item (SingleChoice | ... | OpenResponse)
    unit: UnitSchema
    unit_version_id: int
    item_version_id: int
    media: Mapping[str, str]  # the unit version's image src -> sha256


@dataclass(frozen=True)
class DeliveryBank:
    """The engine's bank and, per item id, the item as delivered."""

    cat: CatBank
    items: Mapping[str, DeliveryItem]
    fingerprint: tuple[Any, ...]


def bank_fingerprint(session: Session) -> tuple[Any, ...]:
    """The bank's revision, which database triggers raise with every change to unit versions, item
    versions and item parameters (:class:`itembank.bank.models.BankRevision`): one primary-key
    read per delivery request.  Without its row (a database emptied by hand), a key no cache
    holds: the bank is built anew each time, slower but never stale."""
    revision = session.scalar(select(BankRevision.revision).where(BankRevision.id == 1))
    if revision is None:
        return ("unknown", uuid.uuid4().hex)
    return (revision,)


_cache: dict[tuple[Any, ...], DeliveryBank] = {}
_lock = threading.Lock()


def delivery_bank(
    session: Session,
    *,
    kind: str = "adaptive",
    item_filter: Mapping[str, Any] | None = None,
    items: Sequence[str] | None = None,
    fingerprint: tuple[Any, ...] | None = None,
) -> DeliveryBank:
    """The (cached) bank of a test: ``kind`` "adaptive" with an ``item_filter`` (keys ``units``,
    ``dimensions``, ``domains``, each a list), "fixed" with its ``items`` in order, or "practice"
    with its ``items`` in order, of released units only.  ``fingerprint``: the bank's, read by
    the caller in the same transaction (:func:`bank_fingerprint` otherwise)."""
    if fingerprint is None:
        fingerprint = bank_fingerprint(session)
    key = (
        session.get_bind().engine.url.render_as_string(hide_password=True),
        fingerprint,
        kind,
        json.dumps(item_filter or {}, sort_keys=True),
        tuple(items or ()),
    )
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    if kind == "fixed":
        built = _build_fixed(session, list(items or ()), fingerprint)
    elif kind == "practice":
        built = _build_fixed(session, list(items or ()), fingerprint, released=True)
    else:
        built = _build_adaptive(session, item_filter or {}, fingerprint)
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = built
    return built


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _approved(session: Session) -> list[UnitVersion]:
    return in_use_versions(session, "approved")


def _entries(version: UnitVersion) -> list[tuple[DeliveryItem, ItemVersion]]:
    unit = unit_schema(version)
    return [
        (DeliveryItem(item, unit, version.id, iv.id, dict(version.media or {})), iv)
        for item, iv in zip(unit.items, version.item_versions, strict=True)
    ]


def _record(item_id: str, p: ItemParameters) -> dict[str, Any]:
    return {"id": item_id, "model": p.model, "a": p.a, "b": p.b, "c": p.c}


def _keep(version: UnitVersion, item_filter: Mapping[str, Any]) -> bool:
    units = item_filter.get("units")
    dimensions = item_filter.get("dimensions")
    domains = item_filter.get("domains")
    return (
        (not units or version.unit_id in units)
        and (not dimensions or version.dimension in dimensions)
        and (not domains or version.content_domain in domains)
    )


def _build_adaptive(
    session: Session, item_filter: Mapping[str, Any], fingerprint: tuple[Any, ...]
) -> DeliveryBank:
    bank_items: list[BankItem] = []
    records: list[dict[str, Any]] = []
    delivered: dict[str, DeliveryItem] = {}
    for version in _approved(session):
        if not _keep(version, item_filter):
            continue
        for entry, iv in _entries(version):
            item = entry.item
            dimension = str(item.dimension or version.dimension)
            auto = item.type in AUTO_SCORED
            bank_items.append(
                BankItem(item.id, version.unit_id, dimension, version.content_domain, auto)
            )
            if iv.parameters is not None and auto:
                records.append(_record(item.id, iv.parameters))
            delivered[item.id] = entry
    if not records:
        raise BankUnavailableError("no approved unit with calibrated items matches this test")
    cat = CatBank.build(IrtParameters.from_records(records), bank_items)
    return DeliveryBank(cat, delivered, fingerprint)


def _released(session: Session) -> list[UnitVersion]:
    """Units whose latest version is released: the only ones a practice test may show."""
    return latest_versions(session, ("released",))


def _build_fixed(
    session: Session, item_ids: list[str], fingerprint: tuple[Any, ...], *, released: bool = False
) -> DeliveryBank:
    if not item_ids:
        raise BankUnavailableError("this fixed test has no items")
    found: dict[str, tuple[DeliveryItem, ItemVersion]] = {}
    for version in _released(session) if released else _approved(session):
        for entry, iv in _entries(version):
            if entry.item.id in item_ids:
                found[entry.item.id] = (entry, iv)
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise BankUnavailableError(
            f"items not in {'a released' if released else 'an approved'} unit of the bank: "
            f"{', '.join(missing)}",
            missing=tuple(missing),
        )
    bank_items = []
    records = []
    for item_id in item_ids:
        entry, iv = found[item_id]
        auto = entry.item.type in AUTO_SCORED
        bank_items.append(BankItem(item_id, item_id, None, None, auto))
        if iv.parameters is not None and auto:
            records.append(_record(item_id, iv.parameters))
    cat = CatBank.build(IrtParameters.from_records(records), bank_items)
    return DeliveryBank(cat, {i: found[i][0] for i in item_ids}, fingerprint)
