"""A test's results by global competence dimension and cognitive process, for the sessions in a
user's scope: per dimension (and per process), the mean share of the maximum score that finished
sessions reached on its items, with its standard error across sessions.  A dimension answered in
fewer than ``min_group_size`` sessions is left out.  The rows are narrowed in the query
(:func:`itembank.delivery.scope.session_clause`); the sums per session are then combined here.

Used by the materials pages to point a group to teaching materials on its weakest dimension."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from itembank.bank.models import ItemVersion, UnitVersion
from itembank.orgs.scope import Viewer

from .models import Response, TestSession
from .practice import not_practice
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
    db: Session, user: Viewer, *, test_id: str, min_group_size: int, class_id: int | None = None
) -> list[Outcome]:
    """Per dimension and per process, sorted weakest first within each kind (over the sessions of
    one class when ``class_id`` is given; always within ``user``'s scope)."""
    rows = db.execute(
        select(Response.session_id, Response.item_version_id, func.sum(Response.score))
        .join(TestSession, Response.session_id == TestSession.id)
        .where(
            TestSession.test_id == test_id,
            TestSession.status.in_(FINISHED_STATUSES),
            Response.score.is_not(None),
            session_clause(user),
            not_practice(),  # practice sessions are never results
            true() if class_id is None else TestSession.class_id == class_id,
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
    if not rows or not topics:
        return []
    # per (kind, code) and session: Σ score / Σ max over its items, with numpy (no loop over rows;
    # the few item versions are looked up once each)
    session_ids, version_ids, raw_scores = zip(*rows, strict=True)
    _, session_index = np.unique(np.array(session_ids, dtype=object), return_inverse=True)
    n_sessions = int(session_index.max()) + 1
    used, version_index = np.unique(np.array(version_ids, dtype=np.int64), return_inverse=True)
    facts = [topics.get(int(v)) for v in used]
    keep = np.array([f is not None for f in facts])[version_index]
    score = np.array(raw_scores, dtype=float)  # sums of non-null scores: never None
    top = np.array([float(f[0]) if f else 0.0 for f in facts])[version_index]
    out: list[Outcome] = []
    minimum = max(1, int(min_group_size))
    for kind, position in (("dimension", 1), ("process", 2)):
        codes = np.array([str(f[position] or "") if f else "" for f in facts], dtype=object)
        labels, code_of_version = np.unique(codes, return_inverse=True)
        code_index = code_of_version[version_index]
        cell = code_index * n_sessions + session_index  # one (code, session) per value
        cells, within = np.unique(cell[keep], return_inverse=True)
        sums = np.bincount(within, weights=score[keep])
        maxima = np.bincount(within, weights=top[keep])
        cell_code = cells // n_sessions
        for k, code in enumerate(labels):
            if not code:
                continue  # items without a process
            mine = (cell_code == k) & (maxima > 0)
            shares = sums[mine] / maxima[mine]
            n = int(shares.size)
            if n < minimum:
                continue
            mean = float(shares.mean())
            se = float(np.sqrt(shares.var(ddof=1) / n)) if n > 1 else None
            out.append(Outcome(kind, str(code), n, mean, se))
    out.sort(key=lambda o: (o.kind, o.mean, o.code))
    return out


def weakest(outcomes: list[Outcome], kind: str) -> Outcome | None:
    """The outcome of ``kind`` with the lowest mean."""
    of_kind = [o for o in outcomes if o.kind == kind]
    return min(of_kind, key=lambda o: (o.mean, o.code)) if of_kind else None
