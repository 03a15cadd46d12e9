"""CLI commands for paper forms: assemble, design, booklets, paper-responses (docs/paper-forms.md).

Where the units come from: ``--items PATH`` reads that folder; without it, the database when it
is initialised and holds approved units (their latest versions, with current parameters and
stored images), else the items folder of the configuration (ITEMBANK_ITEMS_PATH, default items/).
Only approved units are used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from itembank import config
from itembank.errors import ProblemsError

if TYPE_CHECKING:
    from itembank.bank.schema import Unit

from .bank import print_problems

LANGUAGES = ("zh-TW", "en")  # itembank.bank.schema.LANGUAGES (checked by tests/itembank/cli/test_startup.py)


@dataclass
class BankUnits:
    units: list[Unit]
    images: dict[str, dict[str, bytes]] = field(default_factory=dict)
    source: str = ""


def _from_database() -> BankUnits | None:
    from sqlalchemy import select

    from itembank.bank.models import MediaFile
    from itembank.bank.queries import latest_versions, unit_schema
    from itembank.db import session_factory
    from itembank.migrate import current_revision

    from .database import engine_from_settings

    engine = engine_from_settings()
    try:
        if current_revision(engine) is None:
            return None
        with session_factory(engine)() as session:
            versions = latest_versions(session, ["approved"])
            if not versions:
                return None
            units = [unit_schema(v) for v in versions]
            hashes = {h for v in versions for h in (v.media or {}).values()}
            blobs = {m.sha256: m.data for m in session.scalars(select(MediaFile).where(MediaFile.sha256.in_(hashes)))} if hashes else {}
            images = {v.unit_id: {src: blobs[h] for src, h in (v.media or {}).items() if h in blobs} for v in versions}
        return BankUnits(units, images, f"database {engine.url.render_as_string(hide_password=True)}")
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
    """Print every booklet of the design as PDF, and the answer key and coding guide for teachers."""
    from itembank.paper.booklet_set import render_set
    from itembank.paper.design import make_design, read_design, write_design

    with _problems_exit():
        bank = bank_units(items)
        by_id = {u.id: u for u in bank.units}
        if design_path is not None:
            design = read_design(design_path, known_units=list(by_id))
        else:
            design = make_design(bank.units)
    out.mkdir(parents=True, exist_ok=True)
    if design_path is None:
        write_design(out / "design.yaml", design)
        click.echo(f"No --design: rotated {len(bank.units)} approved units from the {bank.source}; "
                   f"design written to {out / 'design.yaml'}", err=True)
    numbers = [b for b in design.booklets if not only or b in only]
    unknown = sorted(set(only) - set(design.booklets))
    if unknown:
        raise click.BadParameter(f"booklet(s) {unknown} are not in the design", param_hint="--booklet")
    with click.progressbar(length=len(numbers) + 2, label="rendering", file=sys.stderr) as bar:
        files = render_set(by_id, bank.images, design, language, test_name=test_name, numbers=numbers,
                           workers=workers, progress=lambda _done, _total, _name: bar.update(1))
    for name, pdf in files.items():
        (out / name).write_bytes(pdf)
    click.echo(f"Wrote {len(numbers)} booklet(s) and the teacher materials to {out}.")


@click.command("paper-responses")
@click.argument("answers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--design", "design_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="RESPONSES.csv to write.")
@_items_option
def paper_responses_cmd(answers: Path, design_path: Path, out: Path, items: Path | None) -> None:
    """Score paper answers (ANSWERS.csv: person_id, booklet, raw answers per item) into RESPONSES.csv."""
    from itembank.bank.responses_csv import write_responses
    from itembank.paper.design import read_design
    from itembank.paper.paper_responses import score_answers

    with _problems_exit():
        bank = bank_units(items)
        design = read_design(design_path, known_units=[u.id for u in bank.units])
        data = score_answers(answers, design, bank.units)
    write_responses(out, data)
    click.echo(f"Wrote {out}: {len(data.person_ids)} persons, {len(data.item_ids)} items.")


COMMANDS = [assemble_cmd, design_cmd, booklets_cmd, paper_responses_cmd]
