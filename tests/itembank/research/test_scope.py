"""Research data keep the organisation boundaries: a city's researcher gets row-level data of their
city only, other cities only as aggregates; a researcher without a city gets no rows at all."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from itembank.orgs.models import City
from itembank.research import datasets, reports
from itembank.research.scope import scope_for
from tests.conftest import REPO, import_bank

from .research_data import field_trial_csv


@dataclass
class Viewer:
    id: int
    role: str
    city_id: int | None = None
    school_id: int | None = None


@pytest.fixture
def dataset(request: pytest.FixtureRequest, session_factory: sessionmaker[Session]) -> tuple[sessionmaker[Session], int, int]:
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    with session_factory() as s, s.begin():
        for code, kind in (("taipei", "home"), ("penang", "partner"), ("cebu", "partner")):
            s.add(City(code=code, name={"zh-TW": code, "en": code}, kind=kind))
        s.flush()
        penang = s.scalars(select(City.id).where(City.code == "penang")).one()
        ds = datasets.upload_dataset(s, field_trial_csv(30, n_persons=600), "ft.csv", name="ft",
                                     window="2026-05")
        return session_factory, ds.id, penang


def test_rows_only_of_the_researchers_city(dataset) -> None:
    factory, ds_id, penang = dataset
    with factory() as s:
        everyone = datasets.load_matrix(s, [ds_id])
        mine = datasets.load_matrix(s, [ds_id], scope=scope_for(s, Viewer(1, "researcher", penang)))
        none = datasets.load_matrix(s, [ds_id], scope=scope_for(s, Viewer(2, "researcher")))
        admin = datasets.load_matrix(s, [ds_id], scope=scope_for(s, Viewer(3, "admin")))
    cities = {p["city"] for p in everyone.persons}
    assert cities == {"taipei", "penang", "cebu"}
    assert mine.persons and {p["city"] for p in mine.persons} == {"penang"}
    assert none.persons == []
    assert len(admin.persons) == len(everyone.persons)


def test_report_aggregates_every_city_but_lists_only_own_students(dataset) -> None:
    factory, ds_id, penang = dataset
    with factory() as s:
        matrix = datasets.load_matrix(s, [ds_id])
        from itembank.research import calibration_runs

        records = list(calibration_runs.current_parameters(s, matrix.item_ids).values())
        viewer = Viewer(1, "researcher", penang)
        report = reports.learning_report(matrix, records, grouping="city", min_group_size=5,
                                         scope=scope_for(s, viewer, dataset_ids=[ds_id]))
        nobody = reports.learning_report(matrix, records, grouping="city", min_group_size=5,
                                         scope=scope_for(s, Viewer(2, "researcher"), dataset_ids=[ds_id]))
    assert {g.group for g in report.groups} == {"taipei", "penang", "cebu"}
    penang_ids = {p["person_id"] for p in matrix.persons if p["city"] == "penang"}
    listed = {row.person_id for row in report.students}
    assert listed and listed <= penang_ids
    assert nobody.students == []
