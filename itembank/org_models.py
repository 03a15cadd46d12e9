"""Which teacher teaches which class: the link that narrows a teacher's view to their classes
(:mod:`itembank.scope`).  A class may have several teachers and a teacher several classes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .delivery_models import SchoolClass, User
from .models import utcnow


class ClassTeacher(Base):
    """A teacher (a user of the class's school) linked to a class by the school's administrator."""

    __tablename__ = "class_teachers"

    class_id: Mapped[int] = mapped_column(
        ForeignKey("school_classes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    school_class: Mapped[SchoolClass] = relationship()
    user: Mapped[User] = relationship()
