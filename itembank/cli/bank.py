"""CLI commands for the bank itself: init, validate, import, export, stats, schema."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..validation import load_bank


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check unit files (and folders of them) and the bank they make; print every problem.

    Each problem is printed as FILE:LINE:COLUMN: message.  Exit status 1 if there is any.
    """
    bank = load_bank(paths)
    if bank.problems:
        _print_problems(bank.problems)
        raise SystemExit(1)
    n_items = sum(len(u.unit.items) for u in bank.units)
    click.echo(f"OK: {len(bank.units)} units, {n_items} items, {len(bank.calibrations)} calibrations.")


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of a unit file (for editors)."""
    from ..schema import json_schema

    click.echo(json.dumps(json_schema(), ensure_ascii=False, indent=2))


COMMANDS: list[click.Command] = [validate, schema]
