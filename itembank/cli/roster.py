"""CLI commands for school rosters: ``itembank roster import`` and ``itembank roster forget``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from itembank.errors import ItembankError, ProblemsError

from .bank import print_problems
from .database import open_bank


@click.group("roster")
def roster() -> None:
    """School rosters: cities, schools, classes and students."""


@roster.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON: cities, schools, classes, students.")
def import_(path: Path, as_json: bool) -> None:
    """Import ROSTER.csv (city,school,class,student_id,name,grade,language,gender), all or nothing.

    New students are added, students who changed class are moved; their past sessions keep the
    class they were taken in.  Any problem is printed as ROSTER.csv:ROW:COLUMN: message and nothing
    is written.
    """
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.orgs.roster import import_roster, read_roster_file

    factory = open_bank()
    try:
        data = read_roster_file(path)
        with transaction(factory) as session:
            totals = import_roster(session, data, str(path))
            audit.record(session, audit.cli_actor(), "roster.import", f"roster:{path.name}",
                         totals.as_dict())
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(totals.as_dict()))
    else:
        click.echo("Roster imported. In the database now: " + ", ".join(f"{v} {k}" for k, v in totals.as_dict().items()))


@roster.command("forget")
@click.argument("student")
def forget(student: str) -> None:
    """Remove STUDENT's personal data (name, school student id, gender), keeping anonymised responses.

    STUDENT is the pseudonymous key (s-...) or SCHOOL:STUDENT_ID (CITY:SCHOOL:STUDENT_ID when the
    school code is used in several cities).
    """
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.delivery.forget import forget_student

    factory = open_bank()
    try:
        with transaction(factory) as session:
            key = forget_student(session, student)
            audit.record(session, audit.cli_actor(), "student.forget", f"student:{key}")
    except ItembankError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Forgot the personal data of {student}; their responses remain under the pseudonym {key}.")


COMMANDS: list[click.Command] = [roster]
