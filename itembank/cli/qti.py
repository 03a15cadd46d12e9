"""CLI commands for QTI 3.0 content packages: export-qti and import-qti."""

from __future__ import annotations

from pathlib import Path

import click

from itembank.errors import ProblemsError

from .bank import print_problems
from .database import open_bank


@click.command("export-qti")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--units", "unit_ids", multiple=True, metavar="ID", help="Export only these units (repeatable).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              type=click.Choice(["draft", "review", "approved", "retired", "released"]),
              help="Export only units whose latest version has this status (repeatable).")
def export_qti_command(out: Path, unit_ids: tuple[str, ...], statuses: tuple[str, ...]) -> None:
    """Write the bank (or a selection) as an IMS QTI 3.0 content package OUT.zip."""
    from itembank.qti import export_bank_qti

    factory = open_bank()
    with factory() as session:
        with out.open("wb") as stream:
            try:
                summary = export_bank_qti(session, stream, list(unit_ids) or None, list(statuses) or None)
            except LookupError as exc:
                stream.close()
                out.unlink(missing_ok=True)
                raise click.ClickException(str(exc.args[0])) from None
    click.echo(f"Wrote {out}: {len(summary.units)} units, {summary.items} items, {len(summary.files)} files.")


@click.command("import-qti")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-unmapped", is_flag=True,
              help="Import the items that map and skip the rest (default: import nothing if any item fails).")
def import_qti_command(package: Path, skip_unmapped: bool) -> None:
    """Import a QTI 3.0 content package (or a QTI 2.1/2.2/3.0 item file) into the bank, all or nothing."""
    try:
        from itembank.qti import read_qti_package

        bank = read_qti_package(package.read_bytes(), package.name)
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    for note in bank.notes:
        click.echo(f"note: {note}", err=True)
    if bank.problems and not skip_unmapped:
        print_problems(bank.problems)
        raise SystemExit(1)
    for problem in bank.problems:
        click.echo(f"skipped: {problem}", err=True)
    if not bank.units:
        raise click.ClickException("nothing in the package could be imported")
    from itembank.bank.importer import import_bank
    from itembank.bank.validation import LoadedBank
    from itembank.db import transaction

    factory = open_bank()
    try:
        with transaction(factory) as session:
            report = import_bank(session, LoadedBank(units=bank.units, calibrations=bank.calibrations))
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    click.echo(f"Imported from {package.name}: {len(report.created)} new units, {len(report.new_versions)} new "
               f"versions, {len(report.unchanged)} unchanged, {len(bank.notes)} note(s).")


COMMANDS: list[click.Command] = [export_qti_command, import_qti_command]
