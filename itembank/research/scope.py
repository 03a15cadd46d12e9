"""Which row-level research data a user may see, decided by the project's one scope module
(:mod:`itembank.orgs.scope`) in the query itself.

Row-level data (a data set's persons, a test's sessions) pass through :func:`restrict_dataset_persons`
and :func:`restrict_sessions`; the open responses coders read, count and code through
:func:`restrict_responses` (the sessions of :func:`coding_clause`: a teacher's classes, a
researcher's city).  Reports compute aggregates over every city (above the minimum group
size) but list students only when a scoped query returned them: :func:`scope_for` runs those
queries and the :class:`Scope` it returns only answers from their results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.orm import Session

from itembank.delivery import scope as session_scope
from itembank.delivery.models import Response, TestSession
from itembank.delivery.practice import practice_tests_select
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


def coding_clause(user: org_scope.Viewer) -> ColumnElement[bool]:
    """The where-clause on ``TestSession`` of the sessions whose open responses ``user`` may read
    and code: administrators every session; researchers the sessions they see row by row (their
    own city's, :func:`~itembank.delivery.scope.session_clause`); teachers the sessions they may
    act on (:func:`~itembank.delivery.scope.control_clause`: their classes', and the off-roster
    sessions of tests they own, never the shared demo's, which are anyone's).  Nobody else codes."""
    if user.role in ("admin", "researcher"):
        return session_scope.session_clause(user)
    if user.role == "teacher":
        return session_scope.control_clause(user)
    return false()


def restrict_responses(stmt: S, user: org_scope.Viewer) -> S:
    """``stmt`` (selecting :class:`~itembank.delivery.models.Response` rows) narrowed to the
    responses of sessions ``user`` may code (:func:`coding_clause`): what coders read, count and
    code.  Practice tests' responses are never coded (their sessions are not research data)."""
    return stmt.where(Response.session_id.in_(
        select(TestSession.id).where(coding_clause(user),
                                     TestSession.test_id.not_in(practice_tests_select()))))


def restrict_sessions(stmt: S, scope: Scope) -> S:
    """``stmt`` (selecting from or joined with :class:`TestSession`) narrowed to the scope."""
    return stmt.where(session_scope.session_clause(scope.user))
