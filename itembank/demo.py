"""What ``itembank init --demo`` adds beyond the bank's items (the demo test, once delivery exists)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def create_demo_content(session: Session) -> str:
    """Create the demo objects; returns a sentence for the console."""
    return ""
