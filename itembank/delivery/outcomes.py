"""A test's results by global competence dimension and cognitive process, for the sessions in a
user's scope: per dimension (and per process), the mean share of the maximum score that finished
sessions reached on its items, with its standard error across sessions.  A dimension answered in
fewer than ``min_group_size`` sessions is left out.  The rows are narrowed in the query
(:func:`itembank.delivery.scope.session_clause`); the sums per session are then combined here.

Used by the materials pages to point a group to teaching materials on its weakest dimension."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.bank.models import ItemVersion, UnitVersion
from itembank.orgs.scope import Viewer

from .models import Response, TestSession
from .scope import FINISHED_STATUSES, session_clause

__all__ = ["Outcome", "outcomes_by_topic", "weakest"]


@dataclass(frozen=True)
class Outcome:
    kind: str  # "dimension" or "process"
    code: str
    n: int  # sessions
    mean: float  # mean share of the maximum score, 0..1
    se: float | None


def outcomes_by_topic(
    db: Session, user: Viewer, *, test_id: str, min_group_size: int
) -> list[Outcome]:
    """Per dimension and per process, sorted weakest first within each kind."""
    rows = db.execute(
        select(Response.session_id, Response.item_version_id, func.sum(Response.score))
        .join(TestSession, Response.session_id == TestSession.id)
        .where(
            TestSession.test_id == test_id,
            TestSession.status.in_(FINISHED_STATUSES),
            Response.score.is_not(None),
            session_clause(user),
        )
        .group_by(Response.session_id, Response.item_version_id)
    ).all()
    versions = {r.item_version_id for r in rows}
    topics: dict[int, tuple[int, str, str | None]] = {}
    if versions:
        for iv_id, max_score, content, unit_dimension in db.execute(
            select(ItemVersion.id, ItemVersion.max_score, ItemVersion.content,
                   UnitVersion.dimension)
            .join(UnitVersion, ItemVersion.unit_version_id == UnitVersion.id)
            .where(ItemVersion.id.in_(versions))
        ):
            content = content or {}
            topics[iv_id] = (int(max_score or 1), str(content.get("dimension") or unit_dimension),
                             content.get("process"))
    # per (kind, code): per session [score, max]
    sums: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
    for session_id, iv_id, score in rows:
        if iv_id not in topics:
            continue
        top, dimension, process = topics[iv_id]
        for key in (("dimension", dimension), ("process", process)):
            if key[1]:
                cell = sums[(key[0], str(key[1]))].setdefault(session_id, [0.0, 0.0])
                cell[0] += float(score or 0)
                cell[1] += top
    out = []
    minimum = max(1, int(min_group_size))
    for (kind, code), per_session in sums.items():
        shares = [s / m for s, m in per_session.values() if m > 0]
        n = len(shares)
        if n < minimum:
            continue
        mean = sum(shares) / n
        se = None
        if n > 1:
            variance = sum((x - mean) ** 2 for x in shares) / (n - 1)
            se = math.sqrt(variance / n)
        out.append(Outcome(kind, code, n, mean, se))
    out.sort(key=lambda o: (o.kind, o.mean, o.code))
    return out


def weakest(outcomes: list[Outcome], kind: str) -> Outcome | None:
    """The outcome of ``kind`` with the lowest mean."""
    of_kind = [o for o in outcomes if o.kind == kind]
    return min(of_kind, key=lambda o: (o.mean, o.code)) if of_kind else None
