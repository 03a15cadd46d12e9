"""The time a booklet states comes from its design (the design's ``minutes``, else its clusters'
minutes) and booklets whose units need longer (their ``estimated_minutes``) are found; the field is
read and written with DESIGN.yaml and kept by a printed design (issue 16, part 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from itembank.bank.validation import load_bank
from itembank.errors import ProblemsError
from itembank.paper.design import (
    Cluster,
    Design,
    TimeWarning,
    design_document,
    estimated_minutes,
    minutes_text,
    read_design,
    time_warnings,
    write_design,
)
from itembank.paper.render import booklet_html
from tests.conftest import TEST_UNITS


@pytest.fixture(scope="module")
def units():  # type: ignore[no-untyped-def]
    return {u.unit.id: u.unit for u in load_bank([TEST_UNITS]).units}


def _design(units, minutes: list[float], stated: float | None = None) -> Design:  # type: ignore[no-untyped-def]
    ids = sorted(units)[:4]
    clusters = [Cluster(f"C{k + 1}", [ids[k]], minutes[k]) for k in range(4)]
    return Design("d", clusters, {1: ["C1", "C2"], 2: ["C3", "C4"]}, minutes=stated)


def test_the_stated_time_is_the_designs(units) -> None:  # type: ignore[no-untyped-def]
    need = {b: estimated_minutes(_design(units, [1, 1, 1, 1]), units, b) for b in (1, 2)}
    ids = sorted(units)[:4]
    assert need[1] == units[ids[0]].metadata.estimated_minutes + units[ids[1]].metadata.estimated_minutes
    # clusters' minutes as estimated: nothing to warn about
    exact = _design(units, [units[i].metadata.estimated_minutes for i in ids])
    assert exact.stated_minutes(1) == need[1] and time_warnings(exact, units) == []
    # clusters given less time than booklet 2's units need
    short = _design(units, [units[ids[0]].metadata.estimated_minutes, units[ids[1]].metadata.estimated_minutes,
                            1, 1])
    assert short.stated_minutes(2) == 2
    assert time_warnings(short, units) == [TimeWarning(2, need[2], 2.0)]
    # the design's own minutes win over its clusters'
    stated = _design(units, [30, 30, 30, 30], stated=need[1])
    assert stated.stated_minutes(1) == stated.stated_minutes(2) == need[1]
    assert [w.booklet for w in time_warnings(stated, units)] == ([2] if need[2] > need[1] else [])
    # a design without minutes (a CSV table) states the units' estimate and warns about nothing
    bare = _design(units, [0, 0, 0, 0])
    assert bare.stated_minutes(1) is None and time_warnings(bare, units) == []
    assert minutes_text(37.2) == "38" and minutes_text(40.0) == "40"


def test_the_cover_states_the_designs_time(units) -> None:  # type: ignore[no-untyped-def]
    design = _design(units, [1, 1, 1, 1], stated=45)
    booklet = [units[u] for u in design.units_of(1)]
    assert "You have about 45 minutes." in booklet_html(booklet, "en", minutes=design.stated_minutes(1))
    assert "作答時間約 45 分鐘" in booklet_html(booklet, "zh-TW", minutes=design.stated_minutes(1))
    estimate = sum(u.metadata.estimated_minutes for u in booklet)
    assert f"You have about {estimate} minutes." in booklet_html(booklet, "en")  # no design: the estimate


def test_minutes_are_read_and_written_with_the_design(units, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    design = _design(units, [10, 10, 10, 10], stated=50)
    write_design(tmp_path / "d.yaml", design)
    again = read_design(tmp_path / "d.yaml", known_units=list(units))
    assert again.minutes == 50 and design_document(again)["minutes"] == 50
    assert "minutes" not in design_document(_design(units, [10, 10, 10, 10]))  # unchanged fingerprints
    text = (tmp_path / "d.yaml").read_text(encoding="utf-8")
    for bad in ("0", "-5", "'soon'", "true", "9000"):
        (tmp_path / "bad.yaml").write_text(text.replace("minutes: 50\n", f"minutes: {bad}\n", 1), encoding="utf-8")
        with pytest.raises(ProblemsError) as info:
            read_design(tmp_path / "bad.yaml")
        message = str(info.value.problems[0])
        assert message.startswith(f"{tmp_path / 'bad.yaml'}:4:") and "minutes: expected the minutes" in message, message
