"""ORM models of organisations: cities (the home city and partner cities), their schools and
classes, the students of a roster, and which teacher teaches which class (the link that narrows a
teacher's view to their classes, :mod:`itembank.orgs.scope`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.bank.models import utcnow
from itembank.db import Base

if TYPE_CHECKING:
    from itembank.accounts.models import User

CITY_KINDS = ("home", "partner")


class City(Base):
    """An education authority: the home city, or a partner city abroad."""

    __tablename__ = "cities"
    __table_args__ = (CheckConstraint("kind IN ('home', 'partner')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)  # {"zh-TW": ..., "en": ...}
    kind: Mapped[str] = mapped_column(String(16), default="home")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    schools: Mapped[list[School]] = relationship(back_populates="city", order_by="School.code")


class School(Base):
    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("city_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    city: Mapped[City] = relationship(back_populates="schools")
    classes: Mapped[list[SchoolClass]] = relationship(
        back_populates="school", order_by="SchoolClass.name"
    )
    students: Mapped[list[Student]] = relationship(back_populates="school")


class SchoolClass(Base):
    __tablename__ = "school_classes"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    grade: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    school: Mapped[School] = relationship(back_populates="classes")
    students: Mapped[list[Student]] = relationship(back_populates="school_class")


class Student(Base):
    """A student on a school's roster.  ``student_id`` is the school's own number for the student
    (unique within the school); ``key`` is a random pseudonym that research exports use instead."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("school_id", "student_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    student_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="zh-TW")
    gender: Mapped[str | None] = mapped_column(String(16))
    # the student's sign-in password for roster tests (werkzeug hash); None: none issued yet
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # the random seed the password is derived from with the secret key, so that login cards can
    # be printed again (itembank.orgs.student_passwords); the password itself is never stored
    password_seed: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    school: Mapped[School] = relationship(back_populates="students")
    school_class: Mapped[SchoolClass | None] = relationship(back_populates="students")


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
