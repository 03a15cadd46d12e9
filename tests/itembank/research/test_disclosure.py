"""Disclosure control (itembank/research/disclosure.py) against differencing: for constructed
populations, each attack — a parent minus its children, everyone minus one category, two
overlapping breakdowns, two reports over the same persons — is run by an independent attacker
(linear algebra over the persons) and must not reveal a suppressed group or any set of fewer
than the minimum number of persons; groups that are large and safe stay published."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pytest

from itembank.research.disclosure import Protection, cells_by, protect

Cells = Mapping[Any, Collection[Hashable]]


def _people(spec: Iterable[tuple[int, dict[str, str]]]) -> list[dict[str, str]]:
    return [dict(attrs) for n, attrs in spec for _ in range(n)]


def _published_rows(cells: Cells, prot: Protection, ids: list[Hashable],
                    known: Collection[Hashable]) -> np.ndarray:
    """What the attacker holds: the membership of every published cell, and one row per person
    she sees row by row."""
    col = {p: j for j, p in enumerate(ids)}
    rows = []
    for key, members in cells.items():
        if prot.published(key):
            row = np.zeros(len(ids))
            row[[col[m] for m in members]] = 1.0
            rows.append(row)
    for person in known:
        row = np.zeros(len(ids))
        row[col[person]] = 1.0
        rows.append(row)
    return np.array(rows) if rows else np.zeros((0, len(ids)))


def derivable(cells: Cells, prot: Protection, group: Collection[Hashable],
              known: Collection[Hashable] = ()) -> bool:
    """Whether the attacker computes the sum (so the n and the mean) of ``group`` exactly."""
    ids = sorted({m for members in cells.values() for m in members}, key=repr)
    a = _published_rows(cells, prot, ids, known)
    target = np.array([1.0 if p in set(group) else 0.0 for p in ids])
    if a.shape[0] == 0:
        return False
    y, *_ = np.linalg.lstsq(a.T, target, rcond=None)
    return bool(np.max(np.abs(a.T @ y - target)) < 1e-8)


def assert_safe(cells: Cells, prot: Protection, known: Collection[Hashable] = ()) -> None:
    unseen = {m for members in cells.values() for m in members} - set(known)
    for key in prot.suppressed:
        if set(cells[key]) & unseen:
            assert not derivable(cells, prot, cells[key], known), f"{key} can be derived"
    # every set of 1 … min_size − 1 unseen persons, by brute force: whatever the attacker
    # derives is constant on persons who belong to the same cells, so it is a union of such
    # "atoms" and only unions of atoms need trying
    atoms: dict[frozenset[Any], list[Hashable]] = {}
    for person in unseen:
        atoms.setdefault(frozenset(k for k, m in cells.items() if person in m), []).append(person)
    small = [a for a in atoms.values() if len(a) < prot.min_size]
    for size in range(1, prot.min_size):
        for combo in combinations(small, size):
            group = [p for a in combo for p in a]
            if len(group) < prot.min_size:
                assert not derivable(cells, prot, group, known), f"{group} can be derived"


HIERARCHY = ("city", "school", "class")


def test_a_school_minus_its_published_classes_does_not_reveal_a_small_class() -> None:
    persons = _people([
        (12, {"city": "A", "school": "A1", "class": "A1a"}),
        (3, {"city": "A", "school": "A1", "class": "A1b"}),
        (9, {"city": "A", "school": "A2", "class": "A2a"}),
        (8, {"city": "A", "school": "A2", "class": "A2b"}),
    ])
    cells = cells_by(persons, [(), *[(d,) for d in HIERARCHY]])
    prot = protect(cells, min_size=5)
    assert prot.primary == {(("class",), ("A1b",))}
    small = cells[(("class",), ("A1b",))]
    assert not derivable(cells, prot, small)
    assert_safe(cells, prot)
    # a big school elsewhere in the table keeps its numbers
    assert prot.published((("class",), ("A2a",))) and prot.published((("school",), ("A2",)))


def test_a_city_minus_its_other_schools_does_not_reveal_a_small_school() -> None:
    persons = _people([
        (20, {"city": "A", "school": "A1", "class": "A1a"}),
        (2, {"city": "A", "school": "A2", "class": "A2a"}),
        (15, {"city": "A", "school": "A3", "class": "A3a"}),
        (30, {"city": "B", "school": "B1", "class": "B1a"}),
    ])
    cells = cells_by(persons, [(), *[(d,) for d in HIERARCHY]])
    prot = protect(cells, min_size=5)
    school = cells[(("school",), ("A2",))]
    assert not derivable(cells, prot, school)  # city A − A1 − A3, overall − B − A1 − A3, …
    assert_safe(cells, prot)
    assert prot.published((("city",), ("B",)))


def test_two_small_classes_are_not_revealed_together_by_their_school_total() -> None:
    persons = _people([
        (2, {"school": "S", "class": "a"}),
        (2, {"school": "S", "class": "b"}),
        (20, {"school": "S", "class": "c"}),
        (25, {"school": "T", "class": "d"}),
    ])
    cells = cells_by(persons, [("school",), ("class",)])
    prot = protect(cells, min_size=5)
    both = set(cells[(("class",), ("a",))]) | set(cells[(("class",), ("b",))])
    assert not derivable(cells, prot, both)  # 4 persons: S − c
    assert_safe(cells, prot)
    assert prot.published((("school",), ("T",)))


def test_everyone_minus_one_category_does_not_reveal_the_other() -> None:
    """girls = all − boys; and once the total is hidden, girls = zh + en − boys."""
    persons = _people([
        (16, {"gender": "male", "language": "zh"}),
        (14, {"gender": "male", "language": "en"}),
        (2, {"gender": "female", "language": "zh"}),
        (1, {"gender": "female", "language": "en"}),
    ])
    cells = cells_by(persons, [(), ("gender",), ("language",)])
    prot = protect(cells, min_size=5)
    girls = cells[(("gender",), ("female",))]
    assert not derivable(cells, prot, girls)
    assert_safe(cells, prot)


def test_two_overlapping_breakdowns_do_not_reveal_their_difference() -> None:
    """Every English speaker is a boy: boys − English speakers is one Chinese-speaking boy."""
    persons = _people([
        (5, {"gender": "male", "language": "en"}),
        (1, {"gender": "male", "language": "zh"}),
        (20, {"gender": "female", "language": "zh"}),
    ])
    cells = cells_by(persons, [(), ("gender",), ("language",)])
    assert all(len(m) >= 5 for m in cells.values())  # no primary suppression at all
    prot = protect(cells, min_size=5)
    assert prot.suppressed  # but something must go
    lone_boy = [k for k, p in enumerate(persons) if p == {"gender": "male", "language": "zh"}]
    assert not derivable(cells, prot, lone_boy)
    assert_safe(cells, prot)


def test_reports_by_different_groupings_share_one_pattern() -> None:
    """The pattern is computed over every table a user can request for the same persons, so
    the school report and the gender report cannot be played against each other."""
    persons = _people([
        (20, {"school": "S1", "gender": "female", "window": "w1"}),
        (18, {"school": "S1", "gender": "male", "window": "w1"}),
        (3, {"school": "S2", "gender": "female", "window": "w2"}),
        (22, {"school": "S3", "gender": "male", "window": "w2"}),
    ])
    tables = [(), ("school",), ("gender",), ("school", "window"), ("gender", "window"), ("window",)]
    cells = cells_by(persons, tables)
    prot = protect(cells, min_size=5)
    assert not derivable(cells, prot, cells[(("school",), ("S2",))])
    assert_safe(cells, prot)


def test_persons_the_viewer_sees_do_not_protect_anyone() -> None:
    """A researcher of city A sees A's students row by row: subtracting them from the overall
    gives city B, so B's small school needs a complement inside B."""
    persons = _people([
        (10, {"city": "A", "school": "A1"}),
        (10, {"city": "A", "school": "A2"}),
        (3, {"city": "B", "school": "B1"}),
        (12, {"city": "B", "school": "B2"}),
        (12, {"city": "B", "school": "B3"}),
    ])
    cells = cells_by(persons, [(), ("city",), ("school",)])
    known = [k for k, p in enumerate(persons) if p["city"] == "A"]
    prot = protect(cells, min_size=5, known=known)
    assert not derivable(cells, prot, cells[(("school",), ("B1",))], known)
    assert_safe(cells, prot, known)
    # without the known rows, the same pattern could have relied on A's schools
    assert_safe(cells, protect(cells, min_size=5))


def test_large_groups_are_all_published() -> None:
    persons = _people([
        (12, {"city": "A", "school": "A1", "class": "a", "gender": "female"}),
        (11, {"city": "A", "school": "A1", "class": "b", "gender": "male"}),
        (15, {"city": "B", "school": "B1", "class": "c", "gender": "female"}),
        (14, {"city": "B", "school": "B1", "class": "d", "gender": "male"}),
    ])
    cells = cells_by(persons, [(), *[(d,) for d in (*HIERARCHY, "gender")]])
    prot = protect(cells, min_size=5)
    assert prot.suppressed == frozenset() and prot.complete
    assert all(prot.published(k) for k in cells)


@pytest.mark.parametrize("seed", range(12))
def test_random_populations_resist_every_small_derivation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    persons = [
        {"city": c, "school": f"{c}{rng.integers(2)}", "gender": str(rng.choice(["f", "m"])),
         "language": str(rng.choice(["zh", "en"], p=[0.7, 0.3])), "window": str(rng.integers(2))}
        for c in rng.choice(["A", "B"], size=int(rng.integers(8, 22)))
    ]
    tables = [(), ("city",), ("school",), ("gender",), ("language",), ("school", "window")]
    cells = cells_by(persons, tables)
    known = [k for k, p in enumerate(persons) if p["city"] == "A"] if seed % 2 else []
    prot = protect(cells, min_size=3, known=known)
    assert_safe(cells, prot, known)
    assert prot.complete and prot.published(((), ())) == (((), ()) not in prot.suppressed)


def test_a_suppressed_cell_is_unknown_to_published() -> None:
    prot = protect({("t", "a"): {1, 2}, ("t", "b"): set(range(3, 20))}, min_size=5)
    assert not prot.published(("t", "a")) and not prot.published(("t", "missing"))
    assert prot.sizes[("t", "a")] == 2


def test_report_json_hides_a_small_group_and_its_complement() -> None:
    """``itembank report`` (survey_report): a group of one student shows no n and no figure,
    and neither the overall nor the other groups give it by difference."""
    from irt.models import ItemParameters, sample_responses
    from irt.replicates import random_groups
    from irt.reporting import ReportingScale
    from itembank.research.survey_report import survey_report

    rng = np.random.default_rng(5)
    params = ItemParameters.from_records(
        [{"id": f"i{j}", "model": "2PL", "a": 1.0, "b": float(b)}
         for j, b in enumerate(np.linspace(-1.5, 1.5, 8))])
    groups = np.array(["a"] * 30 + ["b"] * 25 + ["c"])
    scores = sample_responses(params, rng.normal(0, 1, groups.size), rng).astype(float)
    doc = survey_report(params, scores, groups, random_groups(None, groups.size, rng),
                        background=None, rng=rng, scale=ReportingScale(0.0, 1.0, 500.0, 100.0),
                        levels=None)
    by = {g["group"]: g for g in doc["groups"]}
    assert by["c"] == {"group": "c", "suppressed": True}
    members = {"a": set(range(30)), "b": set(range(30, 55)), "c": {55}}
    published = [members[g] for g, row in by.items() if not row.get("suppressed")]
    if doc["n_students"] is not None:
        assert "mean" in doc["overall"]
        published.append(set(range(56)))
    cells = {k: members_ for k, members_ in enumerate(published)}
    shown = Protection(2, {k: len(v) for k, v in cells.items()}, frozenset(), frozenset())
    assert not derivable({**cells, "c": members["c"]}, shown, members["c"])
    assert len(published) >= 1  # the other large group is still reported
    assert not any(d["group_a"] == "c" or d["group_b"] == "c" for d in doc["differences"])
