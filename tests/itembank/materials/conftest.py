"""A small world for the materials tests: the home city taipei (schools north and south) and the
partner city penang (school george); teachers in each, a reviewer, a researcher without a city."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.models import User
from itembank.materials.workflow import Fields
from itembank.orgs.models import City, ClassTeacher, School, SchoolClass


def fields(**overrides: Any) -> Fields:
    base: dict[str, Any] = dict(
        title={"zh-TW": "氣候正義教案", "en": "Climate justice lesson plan"},
        summary={"zh-TW": "兩節課的討論活動。", "en": "A two-lesson discussion."},
        licence="CC-BY-4.0", author="Lin Mei", kind="lesson_plan", sdgs=[13, 4],
        dimension="understand_perspectives", process="analyse_perspectives",
        grade_bands=["junior_high"], subject="Social studies", languages=["zh-TW", "en"],
        visibility="partners", url="https://example.org/plan",
    )
    base.update(overrides)
    return Fields(**base)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, int]:
    ids: dict[str, int] = {}
    with session_factory() as db, db.begin():
        taipei = City(code="taipei", name={"zh-TW": "臺北", "en": "Taipei"}, kind="home")
        penang = City(code="penang", name={"zh-TW": "檳城", "en": "Penang"}, kind="partner")
        db.add_all([taipei, penang])
        db.flush()
        north = School(city_id=taipei.id, code="north", name={"zh-TW": "北", "en": "North"})
        south = School(city_id=taipei.id, code="south", name={"zh-TW": "南", "en": "South"})
        george = School(city_id=penang.id, code="george", name={"zh-TW": "喬治", "en": "George"})
        db.add_all([north, south, george])
        db.flush()
        k8a = SchoolClass(school_id=george.id, name="8A", grade=8)
        db.add(k8a)
        db.flush()

        def user(name: str, role: str, **kw: Any) -> User:
            u = User(username=name, password_hash="x", role=role, **kw)
            db.add(u)
            db.flush()
            ids[name] = u.id
            return u

        user("t-north", "teacher", school_id=north.id, city_id=taipei.id)
        user("t-south", "teacher", school_id=south.id, city_id=taipei.id)
        # a partner-city teacher known only through the class they teach
        t_george = user("t-george", "teacher")
        db.add(ClassTeacher(class_id=k8a.id, user_id=t_george.id))
        user("reviewer", "reviewer")
        user("r-penang", "reviewer", city_id=penang.id)
        user("researcher", "researcher")
        user("student", "student")
        user("admin", "admin")
        ids.update(taipei=taipei.id, penang=penang.id, north=north.id, george=george.id)
    return ids
