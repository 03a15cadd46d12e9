"""Pretest seeding in live adaptive sessions: approved units without published parameters are
slipped into each session at the places the test's ``pretest`` configuration names, so that they
collect responses for online calibration.

A pretest unit never routes and never counts: the engine is given the session's history without
the pretest items (so the adaptive units, θ, the score and the test length are exactly those of the
session without them), and the final estimate ignores them (they have no parameters).  The student
sees them like any other unit.

Which unit a session gets at a slot: among the test's pretest units it has not had, the one with
the fewest responses (:func:`irt.cat.pretest.least_counted`), ties broken by the session's seed.
The counts are those of responses recorded more than :data:`SNAPSHOT_LAG` before the session's
last answer: a snapshot that no later commit can change, so that every recomputation of the
current item (the state is recomputed on every request) makes the same choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from irt.cat import CatConfig, CatConfigError, Step
from irt.cat.config import PretestConfig
from irt.cat.pretest import least_counted

from .cat_bank import BankUnavailableError, DeliveryBank, delivery_bank
from .models import Response, Test, TestSession
from .practice import not_practice

SNAPSHOT_LAG = timedelta(seconds=60)
"""Responses younger than this (before the session's last answer) are not counted yet: longer than
any recording transaction, so the snapshot a choice is made from never changes afterwards."""

_SEED_STREAM = 7_919  # np.random.default_rng([seed, _SEED_STREAM, k]) breaks the k-th slot's ties


class SessionHistory(list[tuple[str, int | None]]):
    """A session's (item id, score) history, and when its last answer was recorded."""

    def __init__(
        self, entries: Iterable[tuple[str, int | None]], answered_at: datetime | None = None
    ) -> None:
        super().__init__(entries)
        self.answered_at = answered_at


def pretest_units(bank: DeliveryBank, config: PretestConfig) -> tuple[int, ...]:
    """Unit indices (of ``bank.cat``) of the pretest units a test may seed: approved units of its
    bank whose items have no published parameters (narrowed to ``config.units`` if given)."""
    key = ("pretest_units", config.units)
    memo = bank.cat.memo
    if key not in memo:
        cat = bank.cat
        wanted = set(config.units)
        memo[key] = tuple(
            u
            for u, unit_id in enumerate(cat.unit_ids)
            if (not wanted or unit_id in wanted)
            and all(bank.items[i].item.irt is None for i in cat.unit_items(u))
        )
    units: tuple[int, ...] = memo[key]  # type: ignore[assignment]
    return units


def operational(
    bank: DeliveryBank, history: Sequence[tuple[str, int | None]]
) -> list[tuple[str, int | None]]:
    """The history without its pretest items: the entries of units that route."""
    cat = bank.cat
    routes = cat.unit_routing_count > 0
    return [
        entry
        for entry in history
        if (i := cat.item_position.get(entry[0])) is None or routes[cat.item_unit[i]]
    ]


def next_item(
    db: Session,
    bank: DeliveryBank,
    config: PretestConfig,
    history: Sequence[tuple[str, int | None]],
    step: Step,
    seed: int,
) -> str | None:
    """The pretest item to deliver now, or None to go on with the engine's ``step`` (computed on
    the operational history).  A pretest unit once started is delivered whole; a new one starts
    when the engine stands between units, fewer than ``config.count`` pretest units were given,
    and the operational items given reach the next one's position (at least 1 in delivery)."""
    cat = bank.cat
    given_units: list[int] = []
    n_operational = 0
    routes = cat.unit_routing_count > 0
    delivered = {item_id for item_id, _ in history}
    for item_id, _ in history:
        i = cat.item_position.get(item_id)
        if i is None or routes[cat.item_unit[i]]:
            n_operational += 1
        elif not given_units or given_units[-1] != int(cat.item_unit[i]):
            given_units.append(int(cat.item_unit[i]))
    if history and given_units:
        last = cat.item_position.get(history[-1][0])
        if last is not None and int(cat.item_unit[last]) == given_units[-1]:
            left = [i for i in cat.unit_items(given_units[-1]) if i not in delivered]
            if left:
                return left[0]
    k = len(given_units)
    if step.finished or step.unit is None or k >= config.count:
        return None
    if step.items != cat.unit_items(cat.unit_position[step.unit]):
        return None  # the engine's unit is under way
    if n_operational < max(1, config.position(k)):
        return None
    candidates = pretest_units(bank, config)
    if not candidates:
        return None
    taken = np.array([u in given_units for u in candidates])
    if taken.all():
        return None
    counts = response_counts(db, bank, candidates, _snapshot(history))
    rng = np.random.default_rng([seed, _SEED_STREAM, k])
    chosen = least_counted(counts, taken, rng)
    return None if chosen is None else cat.unit_items(candidates[chosen])[0]


def _snapshot(history: Sequence[tuple[str, int | None]]) -> datetime | None:
    answered_at = getattr(history, "answered_at", None)
    if answered_at is None:
        return None
    if answered_at.tzinfo is None:  # SQLite gives naive datetimes back; all are UTC
        answered_at = answered_at.replace(tzinfo=UTC)
    return answered_at - SNAPSHOT_LAG


def response_counts(
    db: Session, bank: DeliveryBank, units: Sequence[int], before: datetime | None = None
) -> np.ndarray:
    """(len(units),) responses per item of each unit's current version (recorded before
    ``before``, if given), across every test."""
    cat = bank.cat
    per_item = item_counts(db, bank, units, before)
    counts = np.array([sum(per_item[i] for i in cat.unit_items(u)) for u in units], float)
    sizes = np.array([cat.unit_size[u] for u in units], float)
    return counts / np.maximum(sizes, 1.0)


def item_counts(
    db: Session, bank: DeliveryBank, units: Sequence[int], before: datetime | None = None
) -> dict[str, int]:
    """Responses to each item of ``units`` (their current versions), across every test but
    practice tests (whose sessions never enter research data)."""
    cat = bank.cat
    version_item = {
        bank.items[item_id].item_version_id: item_id for u in units for item_id in cat.unit_items(u)
    }
    counts = dict.fromkeys(version_item.values(), 0)
    if not version_item:
        return counts
    stmt = (
        select(Response.item_version_id, func.count())
        .join(TestSession, Response.session_id == TestSession.id)
        .where(Response.item_version_id.in_(list(version_item)), not_practice())
        .group_by(Response.item_version_id)
    )
    if before is not None:
        stmt = stmt.where(Response.created_at < before)
    for version_id, n in db.execute(stmt):
        counts[version_item[version_id]] += int(n)
    return counts


@dataclass(frozen=True)
class UnitCount:
    """A pretest unit of a test and its responses: ``fewest`` is the least any of its items has,
    ``ready`` whether that reaches the test's ``pretest.min_responses``."""

    unit_id: str
    items: dict[str, int]
    fewest: int
    ready: bool


def unit_counts(db: Session, test: Test) -> list[UnitCount]:
    """The pretest units an adaptive test seeds (none when it seeds none) and their response
    counts, fewest first: for the teacher's and the researcher's pages."""
    if test.kind != "adaptive":
        return []
    try:
        config = CatConfig.from_dict(test.cat_config or {}).pretest
    except CatConfigError:
        return []
    if config.count == 0:
        return []
    try:
        bank = delivery_bank(db, item_filter=test.item_filter)
    except BankUnavailableError:
        return []
    units = pretest_units(bank, config)
    per_item = item_counts(db, bank, units)
    out = []
    for u in units:
        items = {i: per_item[i] for i in bank.cat.unit_items(u)}
        fewest = min(items.values(), default=0)
        out.append(UnitCount(bank.cat.unit_ids[u], items, fewest, fewest >= config.min_responses))
    return sorted(out, key=lambda c: (c.fewest, c.unit_id))
