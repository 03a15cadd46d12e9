"""CLI commands for paper forms: assemble, design, booklets, paper-responses (docs/paper-forms.md).

Where the units come from: ``--items PATH`` reads that folder; without it, the database when it
is initialised and holds approved units (the approved version in use of each unit, as the web app
prints it, with its parameters and stored images), else the items folder of the configuration
(ITEMBANK_ITEMS_PATH, default items/).
Only approved units are used.

Printed designs (docs/paper-forms.md, "Printed designs are frozen"): ``booklets`` printed from the
database saves the design as a numbered printed design (as the web app's print pages do), prints
its number on every cover and writes it into OUT/design.yaml; ``paper-responses`` scores against a
printed design (``--design-version N``, or the ``printed_design`` of the design.yaml it is given)
with the unit versions it was printed from, and ``--dataset NAME`` stores the scores as a research
data set that records the design.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from itembank import config
from itembank.errors import ProblemsError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from itembank.bank.responses_csv import ResponseData
    from itembank.bank.schema import Unit
    from itembank.paper.design import Design

from .bank import print_problems

LANGUAGES = ("zh-TW", "en")  # itembank.bank.schema.LANGUAGES (checked by tests/itembank/cli/test_startup.py)


@dataclass
class BankUnits:
    """``pins``: per unit, the stored version it comes from (only when read from the database;
    what a printed design keeps, :func:`itembank.paper.booklet_set.version_pin`)."""

    units: list[Unit]
    images: dict[str, dict[str, bytes]] = field(default_factory=dict)
    source: str = ""
    pins: dict[str, dict[str, Any]] = field(default_factory=dict)


def _from_database() -> BankUnits | None:
    """The approved version in use of every unit, as the web app prints them
    (:func:`itembank.paper.booklet_set.approved_units`); None without a database or units."""
    from itembank.db import session_factory
    from itembank.migrate import current_revision
    from itembank.paper.booklet_set import approved_units

    from .database import engine_from_settings

    engine = engine_from_settings()
    try:
        if current_revision(engine) is None:
            return None
        with session_factory(engine)() as session:
            bank = approved_units(session)
        if not bank.units:
            return None
        return BankUnits(bank.units, bank.images,
                         f"database {engine.url.render_as_string(hide_password=True)}", bank.pins)
    finally:
        engine.dispose()


def bank_units(items: Path | None) -> BankUnits:
    """The approved units (see the module docstring for where they come from)."""
    from itembank.bank.validation import load_bank

    if items is None:
        found = _from_database()
        if found is not None:
            return found
        items = config.load().items_path
    bank = load_bank([items])
    if bank.problems:
        raise ProblemsError(bank.problems)
    approved = [u for u in bank.units if str(u.unit.status) == "approved"]
    approved.sort(key=lambda u: u.unit.id)
    return BankUnits([u.unit for u in approved], {u.unit.id: u.images for u in approved}, f"folder {items}")


@contextmanager
def _problems_exit() -> Iterator[None]:
    try:
        yield
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None


_items_option = click.option(
    "--items", "items", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read approved units from this folder instead of the database / configured items folder.",
)


@click.command("assemble")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FORMS.yaml to write.")
@_items_option
def assemble_cmd(spec: Path, out: Path, items: Path | None) -> None:
    """Assemble linear forms from whole units by the constraints and objective of SPEC.yaml."""
    from irt.assembly import InfeasibleAssembly, assemble
    from itembank.paper.assembly_spec import build_task, forms_document, read_spec, write_forms

    with _problems_exit():
        data, doc = read_spec(spec)
        bank = bank_units(items)
        task = build_task(data, bank.units, doc=doc, name=str(spec))
    click.echo(f"Pool: {len(task.units)} approved units from the {bank.source}", err=True)
    for note in task.notes:
        click.echo(f"Note: {note}", err=True)
    try:
        result = assemble(task.problem)
    except InfeasibleAssembly as exc:
        raise click.ClickException(str(exc)) from None
    write_forms(out, forms_document(task, result))
    for f, form in enumerate(result.forms):
        click.echo(f"form {f + 1}: {', '.join(task.units[u].id for u in form)}")
    click.echo(f"Wrote {out} ({result.status}).")


@click.command("design")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="DESIGN.yaml (or .csv for the flat table) to write.")
@click.option("--clusters", type=click.IntRange(1), help="Number of clusters (default: nearest balanced design to ~30-minute clusters).")
@click.option("--positions", type=click.IntRange(1), help="Clusters per booklet (default 4).")
@click.option("--blocks", type=click.IntRange(1), default=1, show_default=True,
              help="Base blocks developed cyclically: booklets = blocks × clusters.")
@click.option("--cluster-minutes", type=click.FloatRange(min=1), default=30.0, show_default=True)
@click.option("--units", "unit_ids", help="Comma-separated unit ids to use (default: every approved unit).")
@_items_option
def design_cmd(out: Path, clusters: int | None, positions: int | None, blocks: int,
               cluster_minutes: float, unit_ids: str | None, items: Path | None) -> None:
    """Group units into time-balanced clusters and rotate them over booklets (a cyclic BIBD)."""
    from itembank.paper.design import make_design, write_design

    with _problems_exit():
        bank = bank_units(items)
    units = _select(bank.units, unit_ids)
    try:
        design = make_design(units, clusters, positions, blocks, cluster_minutes=cluster_minutes)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    write_design(out, design)
    click.echo(f"{len(design.clusters)} clusters, {len(design.booklets)} booklets: {design.balance}.")
    for note in design.notes:
        click.echo(f"Note: {note}", err=True)


def _select(units: list[Unit], unit_ids: str | None) -> list[Unit]:
    if not unit_ids:
        return units
    wanted = [u.strip() for u in unit_ids.split(",") if u.strip()]
    by_id = {u.id: u for u in units}
    unknown = [u for u in wanted if u not in by_id]
    if unknown:
        raise click.BadParameter(f"not approved units of the bank: {', '.join(unknown)}", param_hint="--units")
    return [by_id[u] for u in wanted]


def _database() -> sessionmaker[Session] | None:
    """A session factory on the configured database when it is initialised, else None."""
    from itembank.db import session_factory
    from itembank.migrate import current_revision

    from .database import engine_from_settings

    engine = engine_from_settings()
    if current_revision(engine) is None:
        engine.dispose()
        return None
    return session_factory(engine)


@dataclass(frozen=True)
class Frozen:
    id: int
    name: str
    version: int
    design_yaml: str


def _freeze(design: Design, bank: BankUnits, language: str) -> Frozen:
    """Save ``design`` as a printed design pinning the database versions of ``bank`` (the same row
    when this very design was printed from these versions before), audited as the web's prints."""
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.paper import printed
    from itembank.paper.booklet_set import PrintBank

    factory = _database()
    if factory is None:  # the units were read from it a moment ago
        raise click.ClickException("the database is no longer initialised; the design was not saved")
    with transaction(factory) as session:
        row = printed.freeze(session, design, PrintBank(bank.units, bank.images, bank.pins))
        audit.record(session, audit.cli_actor(), "keys.export", "teacher:set",
                     {"language": language, "printed_design": row.id})
        return Frozen(row.id, row.name, row.version, printed.design_yaml(design, row))


def time_warning_lines(design: Design, units: dict[str, Unit]) -> list[str]:
    """The booklets that need more time than the design states, in English and in Chinese."""
    from itembank.paper.design import TIME_WARNING, minutes_text, time_warnings

    lines = []
    for w in time_warnings(design, units):
        values = {"booklet": w.booklet, "estimated": minutes_text(w.estimated), "stated": minutes_text(w.stated)}
        lines += [f"Warning: {TIME_WARNING['en'].format(**values)}",
                  f"警告：{TIME_WARNING['zh-TW'].format(**values)}"]
    return lines


@click.command("booklets")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the PDFs.")
@click.option("--language", required=True, type=click.Choice(LANGUAGES))
@click.option("--design", "design_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="DESIGN.yaml; default: a rotation of every approved unit (written to OUT/design.yaml).")
@click.option("--test-name", help="Title on the cover (default: the assessment's name).")
@click.option("--booklet", "only", multiple=True, type=int, help="Print only these booklet numbers (repeatable).")
@click.option("--jobs", "workers", type=click.IntRange(1), default=None,
              help="Documents rendered at once, each in its own process (default: one per CPU).")
@_items_option
def booklets_cmd(out: Path, language: str, design_path: Path | None, test_name: str | None,
                 only: tuple[int, ...], workers: int | None, items: Path | None) -> None:
    """Print every booklet of the design as PDF, and the answer key and coding guide for teachers.

    Printed from the database (no --items), the design is saved as a numbered printed design: the
    number is printed on every cover, key and guide and written as `printed_design: N` into
    OUT/design.yaml, which `itembank paper-responses` reads to score the answers against the unit
    versions printed.  Booklets whose units need more time (their estimated minutes) than the design
    states are named in a warning."""
    from itembank.paper.booklet_set import render_set
    from itembank.paper.design import make_design, read_design, write_design

    with _problems_exit():
        bank = bank_units(items)
        by_id = {u.id: u for u in bank.units}
        if design_path is not None:
            design = read_design(design_path, known_units=list(by_id))
        else:
            design = make_design(bank.units)
    numbers = [b for b in design.booklets if not only or b in only]
    unknown = sorted(set(only) - set(design.booklets))
    if unknown:
        raise click.BadParameter(f"booklet(s) {unknown} are not in the design", param_hint="--booklet")
    for line in time_warning_lines(design, by_id):
        click.echo(line, err=True)
    out.mkdir(parents=True, exist_ok=True)
    frozen = _freeze(design, bank, language) if bank.pins else None
    if frozen is not None:
        (out / "design.yaml").write_text(frozen.design_yaml, encoding="utf-8")
        click.echo(f"Printed design no. {frozen.id} ({frozen.name}, version {frozen.version}) saved in the "
                   f"{bank.source}; its number is on every cover; design written to {out / 'design.yaml'}")
    else:
        click.echo(f"Note: the units come from the {bank.source}, so the design is not saved as a printed "
                   "design (print from the database to give it a number).", err=True)
        if design_path is None:
            write_design(out / "design.yaml", design)
    if design_path is None:
        click.echo(f"No --design: rotated {len(bank.units)} approved units from the {bank.source}; "
                   f"design written to {out / 'design.yaml'}", err=True)
    with click.progressbar(length=len(numbers) + 2, label="rendering", file=sys.stderr) as bar:
        files = render_set(by_id, bank.images, design, language, test_name=test_name, numbers=numbers,
                           workers=workers, progress=lambda _done, _total, _name: bar.update(1),
                           design_label=str(frozen.id) if frozen is not None else "")
    for name, pdf in files.items():
        (out / name).write_bytes(pdf)
    click.echo(f"Wrote {len(numbers)} booklet(s) and the teacher materials to {out}.")


def _scoring_design(design_path: Path | None, design_version: int | None,
                    items: Path | None) -> tuple[Design, list[Unit], int | None]:
    """The design and units paper answers are scored against, and the printed design's number:
    a printed design (``--design-version``, or the ``printed_design`` of the design file) with its
    pinned unit versions from the database; else the design file over today's approved units."""
    from itembank.paper import printed
    from itembank.paper.design import read_design

    number = design_version
    if design_path is not None and design_path.suffix.lower() != ".csv":
        in_file = printed.number_in(design_path.read_bytes())
        if in_file is not None and number is not None and in_file != number:
            raise click.UsageError(f"{design_path} is printed design {in_file}, not --design-version {number}")
        if in_file is not None and number is None:
            if items is not None:
                click.echo(f"Note: {design_path} is printed design {in_file}; scoring with the units of "
                           f"--items {items} as asked (without --items, the versions it was printed from).",
                           err=True)
            else:
                number = in_file
    if number is not None:
        if items is not None:
            raise click.UsageError("--design-version scores against the unit versions saved in the database; "
                                   "it cannot be used with --items")
        factory = _database()
        if factory is None:
            if design_version is not None:
                raise click.ClickException("--design-version needs the database, which has no schema yet; "
                                           "run `itembank init` first")
            click.echo(f"Note: {design_path} is printed design {number}, but there is no database; scoring "
                       "with today's approved units of the items folder.", err=True)
        else:
            with factory() as session:
                try:
                    row = printed.get(session, number)
                except printed.UnknownDesign as exc:
                    raise click.ClickException(f"{exc} in the configured database "
                                               "(the number is on the booklets' covers)") from None
                return printed.design_of(row), printed.pinned_bank(session, row).units, row.id
    if design_path is None:
        raise click.UsageError("give --design DESIGN.yaml or --design-version N")
    bank = bank_units(items)
    return read_design(design_path, known_units=[u.id for u in bank.units]), bank.units, None


@click.command("paper-responses")
@click.argument("answers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--design", "design_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="DESIGN.yaml (the design.yaml written with the booklets: its printed_design is used).")
@click.option("--design-version", "design_version", type=click.IntRange(1),
              help="Score against printed design N (the number on the booklets' covers), from the database.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="RESPONSES.csv to write.")
@click.option("--dataset", "dataset_name",
              help="Also store the scores in the database as a research data set of this name (it records "
                   "the printed design).")
@click.option("--window", help="The test window of the stored data set (with --dataset), e.g. 2026-S1.")
@_items_option
def paper_responses_cmd(answers: Path, design_path: Path | None, design_version: int | None, out: Path,
                        dataset_name: str | None, window: str | None, items: Path | None) -> None:
    """Score paper answers (ANSWERS.csv: person_id, booklet, raw answers per item) into RESPONSES.csv.

    Give the design with --design (the design.yaml written with the booklets) or --design-version N
    (the printed design's number, from its covers): a printed design is scored with the unit
    versions and keys it was printed from, never today's."""
    from itembank.bank.responses_csv import write_responses
    from itembank.paper.paper_responses import score_answers

    name = dataset_name.strip()[:200] if dataset_name is not None else None
    if name == "":
        raise click.BadParameter("give the data set a name", param_hint="--dataset")
    with _problems_exit():
        design, units, number = _scoring_design(design_path, design_version, items)
        data = score_answers(answers, design, units)
    stored = _store_dataset(answers, data, name, window, number) if name is not None else None
    write_responses(out, data)
    if number is not None:
        click.echo(f"Scored against printed design no. {number}.")
    click.echo(f"Wrote {out}: {len(data.person_ids)} persons, {len(data.item_ids)} items.")
    if stored is not None:
        click.echo(f"Stored data set #{stored} ({name}).")


def _store_dataset(answers: Path, data: ResponseData, name: str, window: str | None, number: int | None) -> int:
    """Store the scores as a data set recording the printed design ``number``; its id."""
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.errors import DataFileError
    from itembank.paper.paper_dataset import store_scored

    factory = _database()
    if factory is None:
        raise click.ClickException("--dataset stores the scores in the database, which has no schema yet; "
                                   "run `itembank init` first")
    try:
        with transaction(factory) as session:
            ds = store_scored(session, data, answers.read_bytes(), answers.name, name=name, window=window,
                              printed_design_id=number)
            audit.record(session, audit.cli_actor(), "dataset.upload", f"dataset:{ds.id}",
                         {"printed_design": number})
            return ds.id
    except DataFileError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None


COMMANDS = [assemble_cmd, design_cmd, booklets_cmd, paper_responses_cmd]
