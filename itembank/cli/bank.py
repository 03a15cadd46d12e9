"""CLI commands for the bank itself: init, validate, import, export, stats, schema.

The database layer is imported inside the commands that use it: ``itembank validate`` reads
files only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import click

from itembank import config
from itembank.errors import Problem, ProblemsError

from .database import engine_from_settings, open_bank


def print_problems(problems: Iterable[Problem]) -> None:
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found; nothing was changed.", err=True)


@click.command("init")
@click.option("--demo", is_flag=True, help="Also import the demo bank (items/) and create the demo test.")
def init(demo: bool) -> None:
    """Create or upgrade the database schema (Alembic); with --demo, load the demo bank."""
    from itembank.bank.importer import import_paths
    from itembank.db import session_factory, transaction
    from itembank.migrate import upgrade

    settings = config.load()
    engine = engine_from_settings()
    upgrade(engine)
    click.echo(f"Schema up to date: {engine.url.render_as_string(hide_password=True)}")
    if not demo:
        return
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            report = import_paths(session, [settings.items_path], author="itembank init --demo")
            from itembank.demo import create_demo_content

            extra = create_demo_content(session)
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    click.echo(
        f"Demo bank: {len(report.created)} new units, {len(report.new_versions)} new versions, "
        f"{len(report.unchanged)} unchanged"
        + (f", questionnaires: {', '.join(report.questionnaires)}" if report.questionnaires else "")
        + f". {extra}"
    )


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True,
              help="Treat the content lint's warnings (punctuation, 臺, names, length) as errors.")
def validate(paths: tuple[Path, ...], strict: bool) -> None:
    """Check unit and questionnaire files (and folders of them) and the bank they make; print
    every problem.

    Each problem is printed as FILE:LINE:COLUMN: message.  Exit status 1 if there is any.  The
    content lint's findings are printed as warnings; with --strict they count as problems.
    """
    from itembank.bank.content_lint import lint_paths
    from itembank.bank.validation import load_bank

    bank = load_bank(paths)
    if bank.problems:
        print_problems(bank.problems)
        raise SystemExit(1)
    # questionnaires are linted like units (both languages, 臺, punctuation)
    warnings = lint_paths([*(Path(u.file) for u in bank.units), *map(Path, bank.questionnaires)])
    if warnings and strict:
        print_problems(warnings)
        raise SystemExit(1)
    for warning in warnings:
        click.echo(str(warning), err=True)
    n_items = sum(len(u.unit.items) for u in bank.units)
    click.echo(f"OK: {len(bank.units)} units, {n_items} items, {len(bank.calibrations)} calibrations"
               f"{f', {len(bank.questionnaires)} questionnaire(s)' if bank.questionnaires else ''}"
               f"{f', {len(warnings)} warning(s)' if warnings else ''}.")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_(paths: tuple[Path, ...]) -> None:
    """Import unit files into the bank, all or nothing; changed content makes a new version."""
    from itembank.accounts import audit
    from itembank.bank.importer import import_paths
    from itembank.db import transaction

    factory = open_bank()
    try:
        with transaction(factory) as session:
            report = import_paths(session, paths)
            audit.record(session, audit.cli_actor(), "bank.import", "bank", {
                "paths": [str(p) for p in paths], "created": list(report.created),
                "new_versions": list(report.new_versions)})
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    click.echo(
        f"Imported: {len(report.created)} new units, {len(report.new_versions)} new versions"
        f"{' (' + ', '.join(report.new_versions) + ')' if report.new_versions else ''}, "
        f"{len(report.unchanged)} unchanged, {len(report.calibrations)} calibration records"
        + (f", questionnaires: {', '.join(report.questionnaires)}." if report.questionnaires else ".")
    )


@click.command("export")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def export(out: Path) -> None:
    """Write the bank as YAML, one file per unit, with images and calibration records."""
    from itembank.accounts import audit
    from itembank.bank.exporter import export_bank
    from itembank.db import transaction

    factory = open_bank()
    with factory() as session:
        files = export_bank(session, out)
    with transaction(factory) as session:
        audit.record(session, audit.cli_actor(), "bank.export", "bank",
                     {"out": str(out), "files": len(files)})
    click.echo(f"Wrote {len(files)} files to {out}")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the default is a readable table).")
def stats(as_json: bool) -> None:
    """The bank's make-up: units, items by type, dimension and domain, languages, calibration."""
    from itembank.bank.stats import bank_stats

    factory = open_bank()
    with factory() as session:
        result = bank_stats(session)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k:<28} {v}")
        else:
            click.echo(f"{key:<30} {value}")


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of a unit file (for editors)."""
    from itembank.bank.schema import json_schema

    click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))


COMMANDS: list[click.Command] = [init, validate, import_, export, stats, schema]
