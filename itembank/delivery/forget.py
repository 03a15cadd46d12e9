"""Forgetting a student: their identity leaves the roster, their sessions keep every response under
the pseudonymous key (so calibrations stay reproducible)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from itembank.orgs.roster import clear_identity, find_student

from .models import TestSession


def forget_student(session: Session, reference: str) -> str:
    """Remove the student's name, school student id and gender; keep their anonymised responses.

    Their sessions keep every response (so calibrations stay reproducible) but are relabelled with the
    pseudonymous key.  Returns the key.
    """
    student = find_student(session, reference)
    session.execute(update(TestSession).where(TestSession.student_ref == student.id)
                    .values(student_key=student.key))
    clear_identity(session, student)
    return student.key
