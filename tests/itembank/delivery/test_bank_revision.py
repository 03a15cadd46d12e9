"""The bank's revision (migration 0016): database triggers raise it with every insert, update or
delete of unit versions, item versions and item parameters, on both backends, only when the
writing transaction commits; delivery's cached bank follows it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.models import BankRevision, Item, ItemParameters, ItemVersion, UnitVersion
from itembank.delivery.cat_bank import bank_fingerprint, clear_cache, delivery_bank


def _revision(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        value = s.scalar(select(BankRevision.revision).where(BankRevision.id == 1))
    assert isinstance(value, int)
    return value


@pytest.mark.parametrize("table", [UnitVersion, ItemVersion, ItemParameters])
def test_every_change_of_the_bank_tables_raises_the_revision(
    demo_bank: sessionmaker[Session], table: type
) -> None:
    factory = demo_bank
    with factory() as s:
        first = s.scalar(select(func.min(table.id)))  # type: ignore[attr-defined]
    assert first is not None
    before = _revision(factory)
    column = {UnitVersion: "status", ItemVersion: "parameters_id", ItemParameters: "a"}[table]
    with factory() as s, s.begin():
        row = s.get(table, first)
        value = getattr(row, column)
        s.execute(update(table).where(table.id == first).values({column: value}))  # type: ignore[attr-defined]
    after_update = _revision(factory)
    assert after_update > before  # even an update that writes the same value
    with factory() as s:  # a change rolled back counts nothing
        s.execute(update(table).where(table.id == first).values({column: value}))  # type: ignore[attr-defined]
        s.rollback()
    assert _revision(factory) == after_update


def test_inserts_and_deletes_count_and_the_cached_bank_follows(demo_bank: sessionmaker[Session]) -> None:
    factory = demo_bank
    clear_cache()
    with factory() as s:
        bank = delivery_bank(s)
        assert delivery_bank(s) is bank  # cached while nothing changes
        fingerprint = bank_fingerprint(s)
        first = s.scalars(select(ItemParameters).order_by(ItemParameters.id)).first()
        assert first is not None
        with_params = select(ItemParameters.item_id).where(
            ItemParameters.calibration_id == first.calibration_id)
        other = s.scalars(select(Item.id).where(Item.id.not_in(with_params))).first()
        assert other is not None
        copy = {"item_id": other, "calibration_id": first.calibration_id, "model": "2pl", "a": 1.0,
                "b": 0.0}
    with factory() as s, s.begin():
        s.add(ItemParameters(**copy))
    with factory() as s:
        assert bank_fingerprint(s) != fingerprint
        assert delivery_bank(s) is not bank
        newest = s.scalar(select(func.max(ItemParameters.id)))
        fingerprint = bank_fingerprint(s)
    with factory() as s, s.begin():
        s.execute(delete(ItemParameters).where(ItemParameters.id == newest))
    with factory() as s:
        assert bank_fingerprint(s) != fingerprint
    clear_cache()


def test_without_its_row_the_bank_is_never_served_from_the_cache(demo_bank: sessionmaker[Session]) -> None:
    factory = demo_bank
    clear_cache()
    revision = _revision(factory)
    with factory() as s, s.begin():
        s.execute(delete(BankRevision))
    try:
        with factory() as s:
            assert bank_fingerprint(s) != bank_fingerprint(s)
            assert delivery_bank(s) is not delivery_bank(s)
    finally:  # the PostgreSQL test database is shared by the tests of this run
        with factory() as s, s.begin():
            s.add(BankRevision(id=1, revision=revision + 1))
        clear_cache()
