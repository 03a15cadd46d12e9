"""Who sees which material (itembank/materials/scope.py), on SQLite and PostgreSQL: a partner city
sees what is shared with partner cities and never what is kept to the own city or school."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.audit import entries
from itembank.accounts.models import User
from itembank.materials import workflow
from itembank.materials.models import Material
from itembank.materials.scope import materials_visible_to

from .conftest import fields


def _share(db: Session, owner: str, visibility: str, *, approve: bool = True) -> str:
    author = db.scalars(select(User).where(User.username == owner)).one()
    reviewer = db.scalars(select(User).where(User.username == "reviewer")).one()
    material = workflow.create(db, author, fields(visibility=visibility,
                                                  title={"zh-TW": f"{visibility}教案",
                                                         "en": f"{visibility} plan"}))
    workflow.submit(db, author, material)
    if approve:
        workflow.approve(db, reviewer, material)
    return material.title["en"]


def _seen_by(db: Session, username: str) -> set[str]:
    user = db.scalars(select(User).where(User.username == username)).one()
    return {m.title["en"] for m in db.scalars(materials_visible_to(user))}


@pytest.fixture
def shared(session_factory: sessionmaker[Session], world: dict[str, int]) -> sessionmaker[Session]:
    with session_factory() as db, db.begin():
        for visibility in ("school", "city", "partners", "public"):
            _share(db, "t-north", visibility)
        _share(db, "t-north", "public", approve=False)
        # the one still in review gets a title of its own
        last = db.scalars(select(Material).order_by(Material.id.desc())).first()
        assert last is not None
        last.title = {"zh-TW": "審查中", "en": "in review"}
    return session_factory


def test_a_partner_city_sees_what_is_shared_with_partners_never_the_own_city_only(
    shared: sessionmaker[Session],
) -> None:
    with shared() as db:
        george = _seen_by(db, "t-george")
        assert george == {"partners plan", "public plan"}
        assert "city plan" not in george and "school plan" not in george
        assert "in review" not in george  # not approved yet


def test_the_own_city_and_school_see_theirs(shared: sessionmaker[Session]) -> None:
    with shared() as db:
        assert _seen_by(db, "t-south") == {"city plan", "partners plan", "public plan"}
        assert _seen_by(db, "t-north") == {"school plan", "city plan", "partners plan",
                                           "public plan", "in review"}  # own draft too


def test_no_city_sees_public_only_students_nothing_reviewers_what_is_submitted(
    shared: sessionmaker[Session],
) -> None:
    with shared() as db:
        assert _seen_by(db, "researcher") == {"public plan"}
        assert _seen_by(db, "student") == set()
        assert "in review" in _seen_by(db, "reviewer")
        # a partner city's reviewer reviews their city's only
        assert _seen_by(db, "r-penang") == {"partners plan", "public plan"}


def test_the_workflow_refuses_wrong_steps_and_audits(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with session_factory() as db, db.begin():
        owner = db.get(User, world["t-north"])
        reviewer = db.get(User, world["reviewer"])
        assert owner is not None and reviewer is not None
        material = workflow.create(db, owner, fields())
        assert (material.school_id, material.city_id) == (world["north"], world["taipei"])
        with pytest.raises(workflow.WorkflowError):
            workflow.approve(db, reviewer, material)  # still a draft
        workflow.submit(db, owner, material)
        with pytest.raises(workflow.WorkflowError):
            workflow.approve(db, owner, material)  # a teacher is no reviewer
        workflow.approve(db, reviewer, material)
        workflow.count_download(db, owner, material)
        workflow.count_download(db, owner, material)
        uid = material.uid
    with session_factory() as db:
        m = db.scalars(select(Material).where(Material.uid == uid)).one()
        assert m.downloads == 2 and m.status == "approved"
        actions = [e.action for e in entries(db, obj=f"material:{uid}")]
        assert sorted(set(actions)) == ["material.approve", "material.download",
                                        "material.submit", "material.upload"]


def test_search_filters_every_field(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with session_factory() as db, db.begin():
        owner = db.get(User, world["t-north"])
        workflow.create(db, owner, fields(sdgs=[13], subject="Geography", languages=["en"]))
        workflow.create(db, owner, fields(sdgs=[4], title={"zh-TW": "人權", "en": "Rights"},
                                          dimension="take_action", grade_bands=["senior_high"]))
    with session_factory() as db:
        owner = db.get(User, world["t-north"])

        def titles(**args: str) -> list[str]:
            found = db.scalars(workflow.search(owner, workflow.Filters.from_args(args)))
            return sorted(m.title["en"] for m in found)

        assert titles() == ["Climate justice lesson plan", "Rights"]
        assert titles(sdg="13") == ["Climate justice lesson plan"]
        assert titles(sdg="1") == []  # 1 is not 13
        assert titles(q="人權") == ["Rights"]
        assert titles(q="CLIMATE") == ["Climate justice lesson plan"]
        assert titles(dimension="take_action") == ["Rights"]
        assert titles(grade_band="senior_high") == ["Rights"]
        assert titles(language="zh-TW") == ["Rights"]
        assert titles(subject="Geog") == ["Climate justice lesson plan"]
        assert titles(q="100%") == []


def test_a_wrong_field_is_named(session_factory: sessionmaker[Session], world: dict[str, int]) -> None:
    with session_factory() as db, db.begin():
        owner = db.get(User, world["t-north"])
        with pytest.raises(workflow.FieldError) as caught:
            workflow.create(db, owner, fields(licence="GPL"))
        assert caught.value.field == "licence"
        with pytest.raises(workflow.FieldError) as caught:
            workflow.create(db, owner, fields(title={"zh-TW": " ", "en": "x"}))
        assert caught.value.field == "title.zh-TW"
