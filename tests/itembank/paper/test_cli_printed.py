"""The command line saves and uses printed designs as the web does (issue 16): ``itembank
booklets`` printed from the database saves a numbered printed design (the number on the covers and
in OUT/design.yaml; printing again finds the same number); ``itembank paper-responses`` scores
against it (from the design.yaml or ``--design-version N``) with the versions printed, even after a
unit is approved with another key, and ``--dataset`` stores a data set recording the design.  The
time a booklet states comes from the design, and a booklet needing longer is warned about in both
languages.  On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.bank.responses_csv import read_responses
from itembank.bank.schema import OpenResponse
from itembank.cli import main
from itembank.paper.booklet_set import approved_units
from itembank.paper.design import make_design, write_design
from itembank.paper.models import PrintedDesign
from itembank.research.models import Dataset

from .test_printed import answers_file, change_key, first_single_choice


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def cli_bank(demo_bank: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> sessionmaker[Session]:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    monkeypatch.setenv("ITEMBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    return demo_bank


def test_booklets_save_a_printed_design_and_answers_are_scored_against_it(
    cli_bank: sessionmaker[Session], tmp_path: Path
) -> None:
    with cli_bank() as session:
        bank = approved_units(session)
        design = make_design(bank.units[:4], 4, 2)  # four clusters of one unit, two per booklet
        design.minutes = 5.0  # the time every booklet states: less than its units need
        estimated = {b: sum(bank.by_id[u].metadata.estimated_minutes for u in design.units_of(b))
                     for b in design.booklets}
        unit_id, item = first_single_choice(bank.units, design.units_of(1))
        header = [i.id for u in design.unit_ids() for i in bank.by_id[u].items]
        coded = {i.id: "9" for u in design.units_of(1) for i in bank.by_id[u].items
                 if isinstance(i, OpenResponse)}
    assert all(m > 5 for m in estimated.values())
    write_design(tmp_path / "mine.yaml", design)
    runner = CliRunner()
    out = tmp_path / "print"
    args = ["booklets", "--out", str(out), "--language", "en", "--design", str(tmp_path / "mine.yaml"),
            "--booklet", "1", "--jobs", "1"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    with cli_bank() as session:
        row = session.scalars(select(PrintedDesign)).one()
        number = row.id
        assert row.design["minutes"] == 5.0 and row.version == 1
    assert f"Printed design no. {number} ({design.name}, version 1)" in result.output
    for b in sorted(design.booklets):  # every booklet of the design is warned about, in both languages
        assert (f"Warning: booklet {b}: its units need about {estimated[b]} minutes, more than the 5 minutes"
                in result.output)
        assert f"警告：第 {b} 本題本的題組估計約需 {estimated[b]} 分鐘，超過設計所訂（封面所印）的 5 分鐘" in result.output
    saved = yaml.safe_load((out / "design.yaml").read_text(encoding="utf-8"))
    assert saved["printed_design"] == number and saved["minutes"] == 5.0
    cover = " ".join(pdf_text(out / "booklet-01-en.pdf").split())
    assert f"Design no. {number}" in cover and "You have about 5 minutes" in cover
    assert f"Design no. {number}" in pdf_text(out / "answer-key-en.pdf")
    # printing again from the same versions: the same number
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and f"Printed design no. {number} " in again.output
    with cli_bank() as session:
        assert session.scalar(select(func.count()).select_from(PrintedDesign)) == 1

    # a unit approved with another key after printing
    with cli_bank() as session, session.begin():
        new_key = change_key(session, unit_id, item.id)
    assert new_key != item.key
    answers = answers_file(tmp_path, header, 1, {**coded, item.id: item.key})
    column = header.index(item.id)

    def score(*extra: str) -> tuple[float, str]:
        result = runner.invoke(main, ["paper-responses", str(answers), "--out", str(tmp_path / "R.csv"), *extra])
        assert result.exit_code == 0, result.output
        return float(read_responses(tmp_path / "R.csv").scores[0, column]), result.output

    right, said = score("--design", str(out / "design.yaml"))
    assert right == 1 and f"Scored against printed design no. {number}." in said  # the printed key
    assert score("--design-version", str(number))[0] == 1
    assert score("--design", str(out / "design.yaml"), "--design-version", str(number))[0] == 1
    # a design file without a number is today's design, with today's key (as before)
    assert score("--design", str(tmp_path / "mine.yaml"))[0] == 0
    # --dataset stores the scores, recording the printed design
    _, said = score("--design-version", str(number), "--dataset", "Paper 2026-S1", "--window", "2026-S1")
    with cli_bank() as session:
        ds = session.scalars(select(Dataset).where(Dataset.name == "Paper 2026-S1")).one()
        assert ds.printed_design_id == number and ds.window == "2026-S1" and ds.n_persons == 1
    assert f"Stored data set #{ds.id}" in said

    # refusals: a message, exit 1 or 2, nothing written or stored
    (tmp_path / "R.csv").unlink()
    for extra, code, message in (
        (["--design-version", "999"], 1, "there is no printed design 999"),
        (["--design", str(out / "design.yaml"), "--design-version", str(number + 1)], 2,
         f"is printed design {number}, not --design-version {number + 1}"),
        (["--design-version", str(number), "--items", str(tmp_path)], 2, "cannot be used with --items"),
        ([], 2, "give --design DESIGN.yaml or --design-version N"),
        (["--design-version", str(number), "--dataset", " "], 2, "give the data set a name"),
    ):
        result = runner.invoke(main, ["paper-responses", str(answers), "--out", str(tmp_path / "R.csv"), *extra])
        assert result.exit_code == code and message in result.output, (extra, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "R.csv").exists()
    with cli_bank() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 1


def test_booklets_from_a_folder_save_no_design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Units read from a folder have no stored versions to pin: nothing is saved, and it is said."""
    from tests.conftest import TEST_UNITS

    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = CliRunner().invoke(main, ["booklets", "--out", str(tmp_path / "p"), "--language", "en",
                                       "--items", str(TEST_UNITS), "--booklet", "1", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "not saved as a printed design" in result.output and "Printed design no." not in result.output
    assert "printed_design" not in (tmp_path / "p" / "design.yaml").read_text(encoding="utf-8")
    assert "Design no." not in pdf_text(tmp_path / "p" / "booklet-01-en.pdf")


def test_the_command_line_prints_the_version_in_use_under_a_newer_draft(
    cli_bank: sessionmaker[Session],
) -> None:
    """A unit being edited (a draft on top of its approved version) is printed from the command line
    as on the web: its approved version in use, not left out."""
    from itembank.authoring.workflow import editable_content, save_version
    from itembank.bank.models import Unit as UnitRow
    from itembank.bank.schema import Unit
    from itembank.cli.paper import bank_units

    from .test_printed import AUTHOR

    with cli_bank() as session:
        web = approved_units(session)
    unit_id = web.units[0].id
    with cli_bank() as session, session.begin():
        row = session.get(UnitRow, unit_id)
        assert row is not None
        content = editable_content(row.latest)
        content["title"]["en"] = "A title being rewritten"
        save_version(session, Unit.model_validate(content), AUTHOR)  # a draft, not approved
    printed = bank_units(None)
    assert [u.id for u in printed.units] == [u.id for u in web.units]
    assert printed.pins[unit_id] == web.pins[unit_id]
    assert next(u for u in printed.units if u.id == unit_id).title.get("en") != "A title being rewritten"
