"""Coding of open responses, PISA style: a coder sees a response with the item's coding guide and
gives a code; a share of responses (``double_share``, chosen per response by a stable hash) is
coded a second time, blind; agreeing codes become final at once, disagreements wait for a lead
coder (a coder who gave neither code).  The final code's score goes into ``responses.score``.

Coders are users with the role researcher, admin or teacher, each over the responses of
:func:`itembank.research.scope.coding_clause` (a teacher's own classes, a researcher's own city);
any of them may lead on a response they did not code themselves.  The share coded twice is set by
researchers and administrators only (:data:`SHARE_ROLES`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from irt.agreement import Agreement, cohen_kappa
from itembank.bank.models import ItemVersion
from itembank.delivery.models import Response, TestSession
from itembank.orgs.scope import Viewer

from .models import ResearchSetting, ResponseCode
from .scope import restrict_responses

CODER_ROLES = ("researcher", "admin", "teacher")
SHARE_ROLES = ("researcher", "admin")
DEFAULT_DOUBLE_SHARE = 0.2


class CodingError(ValueError):
    """A code that cannot be given (unknown code, not this coder's turn, already coded).
    ``reason`` is one of :data:`REASONS`, for the pages to say in the user's language."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


REASONS = ("invalid", "no_response", "wrong_item", "unknown_code", "already_coded", "own_code",
           "not_lead")


def double_share(session: Session) -> float:
    row = session.get(ResearchSetting, "double_coding_share")
    return float(row.value) if row is not None else DEFAULT_DOUBLE_SHARE


def set_double_share(session: Session, share: float) -> None:
    if not 0.0 <= share <= 1.0:
        raise CodingError("the share coded twice must be between 0 and 1")
    row = session.get(ResearchSetting, "double_coding_share")
    if row is None:
        session.add(ResearchSetting(key="double_coding_share", value=share))
    else:
        row.value = share


def is_double(response_id: int, share: float) -> bool:
    """Whether a response is coded twice: a stable hash of its id below ``share``."""
    digest = hashlib.sha256(f"double-coding:{response_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def coding_guide(iv: ItemVersion) -> list[dict[str, Any]]:
    return list((iv.content or {}).get("coding_guide") or [])


def _open_responses(session: Session, viewer: Viewer, item_id: str | None = None) -> Any:
    """Open responses of sessions ``viewer`` may see (the scope rules of
    :mod:`itembank.research.scope`): a coder never reads another city's answers."""
    stmt = (select(Response, ItemVersion)
            .join(ItemVersion, Response.item_version_id == ItemVersion.id)
            .where(ItemVersion.type == "open_response"))
    if item_id is not None:
        stmt = stmt.where(Response.item_id == item_id)
    return restrict_responses(stmt, viewer)


@dataclass(frozen=True)
class Task:
    """The next response for a coder: ``kind`` is "first", "second" or "final" (resolution);
    ``codes`` the earlier codes shown (none to a first or second coder)."""

    response: Response
    item_version: ItemVersion
    kind: str
    codes: dict[str, ResponseCode]


def _codes(session: Session, response_ids: Sequence[int]) -> dict[int, dict[str, ResponseCode]]:
    out: dict[int, dict[str, ResponseCode]] = {}
    if not response_ids:
        return out
    for c in session.scalars(select(ResponseCode).where(ResponseCode.response_id.in_(response_ids))):
        out.setdefault(c.response_id, {})[c.kind] = c
    return out


def next_task(session: Session, item_id: str, coder_id: int, *, viewer: Viewer) -> Task | None:
    """The next response of ``item_id`` this coder (``viewer``) should code, or None."""
    final = aliased(ResponseCode)
    stmt = _open_responses(session, viewer, item_id).where(
        ~exists().where(and_(final.response_id == Response.id, final.kind == "final"))
    ).order_by(Response.id)
    rows = session.execute(stmt).all()
    codes = _codes(session, [r.id for r, _ in rows])
    for response, iv in rows:
        have = codes.get(response.id, {})
        first, second = have.get("first"), have.get("second")
        if first is None:
            return Task(response, iv, "first", {})
        # A first code without a final one was chosen for double coding when it was given
        # (give_code makes the others final at once): it waits for its second code even if the
        # share has been changed since, or it would never get a final code.
        if second is None and first.coder_id != coder_id:
            return Task(response, iv, "second", {})
        if second is not None and first.code != second.code and coder_id not in (
            first.coder_id, second.coder_id
        ):
            return Task(response, iv, "final", have)
    return None


def give_code(session: Session, response_id: int, kind: str, code: str, coder_id: int, *,
              viewer: Viewer, item_id: str | None = None) -> ResponseCode:
    """Record a code (in the caller's transaction); make it final when that follows.  With
    ``item_id``, the response must be one to that item (the page the coder was on).  A response
    outside ``viewer``'s scope is "no_response", as if it did not exist."""
    row = session.execute(
        _open_responses(session, viewer).where(Response.id == response_id)
    ).one_or_none()
    if row is None:
        raise CodingError(f"no open response {response_id}", "no_response")
    response, iv = row
    if item_id is not None and iv.item_id != item_id:
        raise CodingError(f"response {response_id} is not a response to {item_id}", "wrong_item")
    guide = {c["code"]: c for c in coding_guide(iv)}
    if code not in guide:
        raise CodingError(f"code {code!r} is not in the coding guide of {iv.item_id}", "unknown_code")
    if kind not in ("first", "second", "final"):
        raise CodingError(f"unknown kind of code {kind!r}")
    have = _codes(session, [response_id]).get(response_id, {})
    if kind in have or "final" in have:
        # "final" in have: agreed, resolved, or coded once only; nothing more is coded
        raise CodingError(f"this response already has a {kind} code", "already_coded")
    first, second = have.get("first"), have.get("second")
    if kind == "second" and first is None:
        raise CodingError("a second code needs a first code", "invalid")
    if kind == "second" and first is not None and first.coder_id == coder_id:
        raise CodingError("a coder does not code the same response twice", "own_code")
    if kind == "final":
        if first is None or second is None:
            raise CodingError("only a disagreement of two coders is resolved", "invalid")
        if coder_id in (first.coder_id, second.coder_id):
            raise CodingError("a disagreement is resolved by a lead coder who coded neither",
                              "not_lead")
    score = int(guide[code]["score"])
    new = ResponseCode(response_id=response_id, item_id=iv.item_id, kind=kind, code=code,
                       score=score, coder_id=coder_id)
    session.add(new)
    share = double_share(session)
    final_code: tuple[str, int] | None = None
    if kind == "final":
        final_code = (code, score)
    elif kind == "first" and not is_double(response_id, share):
        final_code = (code, score)
    elif kind == "second" and first is not None and first.code == code:
        final_code = (code, score)
    if final_code is not None and kind != "final":
        session.add(ResponseCode(response_id=response_id, item_id=iv.item_id, kind="final",
                                 code=final_code[0], score=final_code[1], coder_id=coder_id))
    if final_code is not None:
        response.score = final_code[1]
    session.flush()
    return new


def waiting(session: Session, *, viewer: Viewer, test_id: str | None = None) -> int:
    """How many open responses ``viewer`` may code still have no final code (of ``test_id``)."""
    final = aliased(ResponseCode)
    stmt = restrict_responses(
        select(func.count(Response.id))
        .join(ItemVersion, Response.item_version_id == ItemVersion.id)
        .where(ItemVersion.type == "open_response")
        .where(~exists().where(and_(final.response_id == Response.id, final.kind == "final"))),
        viewer)
    if test_id is not None:
        stmt = stmt.where(Response.session_id.in_(
            select(TestSession.id).where(TestSession.test_id == test_id)))
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class ItemCoding:
    item_id: str
    responses: int
    final: int
    double: int  # responses coded twice so far
    disagreements: int  # waiting for a lead coder
    agreement: Agreement | None


def item_overview(session: Session, *, viewer: Viewer) -> list[ItemCoding]:
    """Per open item: responses, final codes, doubly coded, open disagreements, agreement; over
    the responses ``viewer`` may see."""
    totals = dict(session.execute(restrict_responses(
        select(Response.item_id, func.count(Response.id))
        .join(ItemVersion, Response.item_version_id == ItemVersion.id)
        .where(ItemVersion.type == "open_response"), viewer).group_by(Response.item_id)).all())
    out = []
    for item_id in sorted(totals):
        codes = session.scalars(
            select(ResponseCode).where(ResponseCode.item_id == item_id).where(
                ResponseCode.response_id.in_(restrict_responses(select(Response.id), viewer)))).all()
        by: dict[int, dict[str, ResponseCode]] = {}
        for c in codes:
            by.setdefault(c.response_id, {})[c.kind] = c
        pairs = [(v["first"].code, v["second"].code) for v in by.values()
                 if "first" in v and "second" in v]
        open_ = sum(1 for v in by.values() if "second" in v and "final" not in v)
        agreement = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs]) if pairs else None
        out.append(ItemCoding(item_id, int(totals[item_id]),
                              sum(1 for v in by.values() if "final" in v), len(pairs), open_,
                              agreement))
    return out
