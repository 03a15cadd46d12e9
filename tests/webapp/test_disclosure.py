"""Disclosure control at every entry point that publishes group statistics: the results-by-group
page and its CSVs (by city, school, class) and the research report (page, group CSV, charts).
An attacker collects every group each entry point shows and subtracts; a small group (and a
group hidden to protect it) must stay out of reach, its n included, while large groups stay."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.bank.importer import import_paths
from itembank.research import datasets

from ..conftest import REPO
from ..itembank.research.research_data import field_trial_csv
from .conftest import csrf_token
from .test_scope import CLASSES, World, build_world, login

Members = frozenset[str]


def derivable(published: Iterable[Members], target: Members, known: Members = frozenset()) -> bool:
    """Whether the sum over ``target`` follows from the sums over the ``published`` groups and
    the persons ``known`` row by row (linear algebra over the persons)."""
    published = list(published)
    people = sorted(set().union(target, known, *published))
    col = {p: j for j, p in enumerate(people)}
    rows = [[1.0 if p in g else 0.0 for p in people] for g in published]
    rows += [[1.0 if p == k else 0.0 for p in people] for k in known]
    if not rows:
        return False
    a = np.array(rows)
    t = np.zeros(len(people))
    t[[col[p] for p in target]] = 1.0
    y, *_ = np.linalg.lstsq(a.T, t, rcond=None)
    return bool(np.max(np.abs(a.T @ y - t)) < 1e-8)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# -- results by city, school and class (manage) --------------------------------------------------
def _manage_members() -> dict[tuple[str, str], Members]:
    """Each published-able group of the world of test_scope, by (grouping, label)."""
    out: dict[tuple[str, str], set[str]] = {}
    for city, school, klass, n in CLASSES:
        for i in range(1, n + 1):
            person = f"{school}/{klass}/{i}"
            for key in (("city", city), ("school", school), ("class", f"{school}/{klass}")):
                out.setdefault(key, set()).add(person)
    return {k: frozenset(v) for k, v in out.items()}


def _published_by_csv(client: FlaskClient, by: str) -> dict[tuple[str, str], int]:
    reply = client.get(f"/manage/tests/t-spring/summary.csv?by={by}")
    assert reply.status_code == 200
    shown = {}
    for r in csv_rows(reply.get_data(as_text=True)):
        label = {"city": r["city"], "school": r["school"], "class": f"{r['school']}/{r['class']}"}[by]
        shown[(by, label)] = int(r["n"])
    return shown


def _published_on_page(client: FlaskClient) -> dict[tuple[str, str], int]:
    page = client.get("/manage/tests/t-spring/summary").get_data(as_text=True)
    shown = {}
    for by in ("city", "school", "class"):
        section = page.split(f'id="h-{by}"', 1)[1].split("</section>", 1)[0]
        for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", section, re.S):
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row, re.S)]
            label = {"city": cells[0], "school": cells[1], "class": f"{cells[1]}/{cells[2] if by == 'class' else ''}"}[by]
            n = cells[{"city": 1, "school": 2, "class": 3}[by]]
            shown[(by, label)] = int(n)
    return shown


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


ENTRY_POINTS = ["summary", "summary.csv?by=city", "summary.csv?by=school", "summary.csv?by=class"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_partner_researcher_cannot_subtract_her_way_to_a_small_class(
    app: Flask, client: FlaskClient, world: World, entry: str
) -> None:
    """north has classes of 6 and 1; taipei has north and south: north − 801 = 802 and
    taipei − south − north/801 = 802 must both fail, through this entry point and all together."""
    login(client, "r-penang")
    members = _manage_members()
    everything: dict[tuple[str, str], int] = {}
    for by in ("city", "school", "class"):
        everything.update(_published_by_csv(client, by))
    page = _published_on_page(client)
    assert page == everything  # the page shows exactly what the CSVs show
    here = page if entry == "summary" else _published_by_csv(client, entry.rsplit("=", 1)[1])
    known = members[("city", "penang")]  # her own city, row by row
    small = members[("class", "north/802")]
    assert ("class", "north/802") not in here
    for published in (here, everything):
        assert not derivable([members[k] for k in published], small, known)
        hidden = {k for k in members if members[k] not in {members[j] for j in everything}}
        for key in hidden:  # nothing hidden can be recomputed, its n included
            if members[key] - known:
                assert not derivable([members[k] for k in published], members[key], known), key
    # the large groups of another school and city are still there, with their true n
    assert everything[("class", "south/801")] == 6 and everything[("city", "penang")] == 6
    assert ("school", "south") in everything


def test_an_administrator_who_sees_every_row_loses_only_the_small_class(
    app: Flask, client: FlaskClient, world: World
) -> None:
    login(client, "admin")
    shown = {}
    for by in ("city", "school", "class"):
        shown.update(_published_by_csv(client, by))
    assert set(_manage_members()) - set(shown) == {("class", "north/802")}


# -- the research report -------------------------------------------------------------------------
@pytest.fixture
def report_client(app: Flask, session_factory: sessionmaker[Session]) -> tuple[FlaskClient, dict[str, dict[str, str]]]:
    """A data set of 160 field-trial students in which school ``tiny`` has three students, and
    a researcher without a city (she sees no row)."""
    text = field_trial_csv(12, n_persons=160).decode().splitlines()
    header = text[0].split(",")
    rows = [line.split(",") for line in text[1:]]
    school = header.index("school")
    for r in rows[:3]:
        r[school] = "tiny"
    data = "\n".join([",".join(header), *(",".join(r) for r in rows)]).encode()
    with session_factory() as s, s.begin():
        import_paths(s, [REPO / "items"])
        create_user(s, "rita", "researcher", "a-long-password-1")
        datasets.upload_dataset(s, data, "tiny.csv", name="tiny", window="2026-05")
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"username": "rita", "password": "a-long-password-1",
                                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    persons = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    return client, persons


def _report_cells(client: FlaskClient, grouping: str) -> tuple[dict[str, int], int | None, str, str]:
    """(group → n shown in the group CSV, the overall n on the page, page, csv)."""
    query = f"source=dataset:1&grouping={grouping}"
    page = client.get(f"/research/reports?{query}")
    table = client.get(f"/research/reports/groups.csv?{query}")
    assert page.status_code == 200 and table.status_code == 200
    text = table.get_data(as_text=True)
    shown = {r[grouping]: int(r["n"]) for r in csv_rows(text) if r["n"] and not r["window"]}
    html = page.get_data(as_text=True)
    overall = re.search(r'<tr class="overall"><th scope="row">[^<]*</th><td class="num">(\d+)</td>', html)
    return shown, int(overall.group(1)) if overall else None, html, text


def test_the_research_report_hides_a_small_school_from_differencing(
    report_client: tuple[FlaskClient, dict[str, dict[str, str]]],
) -> None:
    client, persons = report_client
    members: dict[tuple[str, str], Members] = {}
    for pid, p in persons.items():
        for g in ("city", "school", "gender", "language", "grade"):
            members.setdefault((g, p[g] or "–"), frozenset())
            members[(g, p[g] or "–")] |= {pid}
    everyone = frozenset(persons)
    published: list[Members] = []
    for grouping in ("school", "city", "gender", "language", "grade"):
        shown, overall, html, text = _report_cells(client, grouping)
        if overall is not None:
            assert overall == len(everyone)
            published.append(everyone)
        for label, n in shown.items():
            assert n == len(members[(grouping, label)])
            published.append(members[(grouping, label)])
        if grouping == "school":
            assert "tiny" not in shown
            tiny_row = next(r for r in csv_rows(text) if r["school"] == "tiny")
            assert tiny_row["n"] == "" and tiny_row["mean"] == ""  # no n, no figure
            assert re.search(r'<th scope="row">tiny</th><td class="num">–</td>', html)
            chart = client.get("/research/reports/chart-means.svg?source=dataset:1&grouping=school")
            assert chart.status_code == 200
    tiny = members[("school", "tiny")]
    assert not derivable(published, tiny)  # across every grouping of the same students
    for key, group in members.items():
        if group not in published:
            assert not derivable(published, group), key
    big = max((k for k in members if k[0] == "school"), key=lambda k: len(members[k]))
    assert members[big] in published  # the largest school is still shown
