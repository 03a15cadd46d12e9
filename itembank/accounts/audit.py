"""The audit log: :func:`record` adds who did what to which object to the caller's transaction,
so the entry is committed with the change or not at all.

    from itembank.accounts.audit import record
    record(session, current_user, "unit.approve", f"unit:{unit_id}", {"version": 3})

``actor`` is anything with a ``username`` (a User, Flask-Login's current user) or a string; the
command line passes :func:`cli_actor`.  Actions are ``<object kind>.<verb>``: ``bank.import``,
``bank.export``, ``roster.import``, ``student.forget``, ``unit.create``, ``unit.edit``,
``unit.approve``, ``unit.publish``, ``qti.import``, ``qti.export``, ``user.create``, ...
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.db import unit_of_work

from .models import AuditEntry

__all__ = ["cli_actor", "entries", "record", "record_now"]


def cli_actor() -> str:
    """The actor of a command-line change: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


def record(
    session: Session,
    actor: Any,
    action: str,
    obj: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit entry in the caller's transaction and return it."""
    if isinstance(actor, str):
        name, actor_id = actor, None
    else:
        name = str(getattr(actor, "username", None) or "anonymous")
        raw_id = getattr(actor, "id", None)
        actor_id = int(raw_id) if isinstance(raw_id, int | str) and str(raw_id).isdigit() else None
    entry = AuditEntry(actor=name[:120], actor_id=actor_id, action=action[:60], object=obj[:200],
                       detail=dict(detail) if detail else None)
    session.add(entry)
    return entry


def entries(session: Session, *, obj: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries first, of one object if ``obj`` is given."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if obj is not None:
        stmt = stmt.where(AuditEntry.object == obj)
    return list(session.scalars(stmt))


def record_now(
    session: Session,
    actor: Any,
    action: str,
    obj: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record in a transaction of its own, for actions that change nothing else (an export, a
    download of keys); a read-only transaction the session has begun is ended first."""
    with unit_of_work(session):
        record(session, actor, action, obj, detail)
