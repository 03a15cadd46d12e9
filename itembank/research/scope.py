"""Which row-level research data a user may see, decided by the project's one scope module
(:mod:`itembank.orgs.scope`) in the query itself.

Row-level data (a data set's persons, a test's sessions) pass through :func:`restrict_dataset_persons`
and :func:`restrict_sessions`; the open responses coders read, count and code through
:func:`restrict_responses` (the sessions of ``session_clause``).  Reports compute aggregates over every city (above the minimum group
size) but list students only when a scoped query returned them: :func:`scope_for` runs those
queries and the :class:`Scope` it returns only answers from their results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from itembank.delivery import scope as session_scope
from itembank.delivery.models import Response, TestSession
from itembank.orgs import scope as org_scope

from .models import DatasetPerson

S = TypeVar("S", bound=Select[*tuple[Any, ...]])  # a select of any columns


@dataclass(frozen=True)
class Scope:
    """A user's row scope, with the rows of one report's sources that scoped queries returned."""

    user: org_scope.Viewer
    sessions: frozenset[str] = field(default_factory=frozenset)  # visible session ids
    persons: frozenset[tuple[int, str]] = field(default_factory=frozenset)  # (dataset, person)

    def allows_person(self, person: Mapping[str, Any]) -> bool:
        """Whether a person row of a matrix (from sessions or a data set) was returned in scope."""
        if person.get("dataset_id") is None:
            return str(person["person_id"]) in self.sessions
        return (int(person["dataset_id"]), str(person["person_id"])) in self.persons


def scope_for(
    session: Session, user: org_scope.Viewer, *, test_id: str | None = None,
    dataset_ids: Sequence[int] = (),
) -> Scope:
    """``user``'s scope; with a test or data sets, also the rows of them the user may see."""
    sessions: frozenset[str] = frozenset()
    persons: frozenset[tuple[int, str]] = frozenset()
    if test_id is not None:
        sessions = frozenset(session.scalars(restrict_sessions(
            select(TestSession.id).where(TestSession.test_id == test_id), Scope(user))))
    if dataset_ids:
        rows = session.execute(restrict_dataset_persons(
            select(DatasetPerson.dataset_id, DatasetPerson.person_id)
            .where(DatasetPerson.dataset_id.in_(list(dataset_ids))), Scope(user)))
        persons = frozenset((int(d), str(p)) for d, p in rows)
    return Scope(user, sessions, persons)


def restrict_dataset_persons(stmt: S, scope: Scope) -> S:
    """``stmt`` (selecting from or joined with :class:`DatasetPerson`) narrowed to the scope."""
    return stmt.where(org_scope.coded_rows_clause(scope.user, DatasetPerson.city, DatasetPerson.school))


def restrict_responses(stmt: S, user: org_scope.Viewer) -> S:
    """``stmt`` (selecting :class:`~itembank.delivery.models.Response` rows) narrowed to the
    responses of sessions ``user`` may see row by row: what coders read, count and code."""
    return stmt.where(Response.session_id.in_(
        select(TestSession.id).where(session_scope.session_clause(user))))


def restrict_sessions(stmt: S, scope: Scope) -> S:
    """``stmt`` (selecting from or joined with :class:`TestSession`) narrowed to the scope."""
    return stmt.where(session_scope.session_clause(scope.user))
