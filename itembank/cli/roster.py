"""CLI commands for school rosters: ``itembank roster import``, ``itembank roster cards``,
``itembank roster password`` and ``itembank roster forget``."""

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
@click.option("--passwords/--no-passwords", default=True, show_default=True,
              help="Give every student without a sign-in password one (printed on login cards).")
def import_(path: Path, as_json: bool, passwords: bool) -> None:
    """Import ROSTER.csv (city,school,class,student_id,name,grade,language,gender), all or nothing.

    New students are added, students who changed class are moved; their past sessions keep the
    class they were taken in.  Gender may be M/F, male/female, 男/女, other or empty.  Any problem
    is printed as ROSTER.csv:ROW:COLUMN: message and nothing is written.  Students get sign-in
    passwords (unless --no-passwords); print them with `itembank roster cards SCHOOL:CLASS`.
    """
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.orgs.roster import import_roster, read_roster_file

    factory = open_bank()
    try:
        data = read_roster_file(path)
        with transaction(factory) as session:
            totals = import_roster(session, data, str(path), passwords=passwords)
            audit.record(session, audit.cli_actor(), "roster.import", f"roster:{path.name}",
                         totals.as_dict())
    except ProblemsError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(totals.as_dict()))
    else:
        click.echo("Roster imported. In the database now: " + ", ".join(f"{v} {k}" for k, v in totals.as_dict().items()))
        if totals.passwords:
            click.echo(f"{totals.passwords} students got a sign-in password; print their login cards with "
                       "`itembank roster cards SCHOOL:CLASS --out CARDS.pdf`.")


@roster.command("cards")
@click.argument("school_class", metavar="CLASS")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the PDF.")
@click.option("--test", "test_id", help="Print this test's access code (and link, with --url).")
@click.option("--url", help="The address students open, e.g. https://test.example.edu.tw")
@click.option("--language", type=click.Choice(["zh-TW", "en"]), default="zh-TW", show_default=True,
              help="The language printed first (cards carry both).")
@click.option("--new-passwords", is_flag=True,
              help="Give every student of the class a new password (the old ones stop working).")
def cards(school_class: str, out: Path, test_id: str | None, url: str | None, language: str,
          new_passwords: bool) -> None:
    """Print the login cards of CLASS (SCHOOL:CLASS, or CITY:SCHOOL:CLASS) to a PDF: one card per
    student with name, student id, class and sign-in password.

    Students without a password get one now; a password is printed the same each time (until
    --new-passwords).  Every printing is recorded in the audit log.
    """
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.delivery.models import Test
    from itembank.orgs.cards import class_cards, find_class
    from itembank.paper.cards import render_login_cards

    factory = open_bank()
    try:
        with transaction(factory) as session:
            klass = find_class(session, school_class)
            title = code = address = None
            if test_id is not None:
                test = session.get(Test, test_id)
                if test is None:
                    raise ItembankError(f"there is no test {test_id!r}")
                title, code = dict(test.title), test.access_code
                if url:
                    address = f"{url.rstrip('/')}/?test={test.id}"
            elif url:
                address = url
            entries, issued = class_cards(session, klass, new_passwords=new_passwords)
            if not entries:
                raise ItembankError(f"the class {school_class!r} has no students")
            pdf = render_login_cards(entries, language=language, test_title=title, address=address,
                                     access_code=code)
            audit.record(session, audit.cli_actor(), "roster.cards", f"class:{klass.id}",
                         {"cards": len(entries), "passwords_issued": issued})
    except ItembankError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(pdf)
    missing = sum(1 for e in entries if e.password is None)
    click.echo(f"Wrote {len(entries)} login cards to {out} ({issued} new passwords).")
    if missing:
        click.echo(f"{missing} cards say to ask the teacher: their passwords cannot be printed; "
                   "use --new-passwords to give new ones.")


@roster.command("password")
@click.argument("school_class", metavar="CLASS")
@click.argument("student_id")
@click.option("--print", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the student's login card with the new password to this PDF.")
@click.option("--test", "test_id", help="With --print: print this test's access code (and link, with --url).")
@click.option("--url", help="With --print: the address students open, e.g. https://test.example.edu.tw")
@click.option("--language", type=click.Choice(["zh-TW", "en"]), default="zh-TW", show_default=True,
              help="With --print: the language printed first (cards carry both).")
def password(school_class: str, student_id: str, out: Path | None, test_id: str | None, url: str | None,
             language: str) -> None:
    """Give STUDENT_ID of CLASS (SCHOOL:CLASS, or CITY:SCHOOL:CLASS) a new sign-in password and
    show it; the old one stops working.  Recorded in the audit log, as the web's "new password".

    The student id is compared trimmed and case-folded.  With --print, the student's login card is
    written to a PDF (the class's cards, `itembank roster cards`, print the new password too)."""
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.delivery.models import Test
    from itembank.orgs.cards import card_of, find_class, find_class_student
    from itembank.orgs.student_passwords import issue_password

    factory = open_bank()
    pdf = None
    try:
        with transaction(factory) as session:
            klass = find_class(session, school_class)
            student = find_class_student(session, klass, student_id)
            title = code = address = None
            if test_id is not None:
                test = session.get(Test, test_id)
                if test is None:
                    raise ItembankError(f"there is no test {test_id!r}")
                title, code = dict(test.title), test.access_code
                address = f"{url.rstrip('/')}/?test={test.id}" if url else None
            elif url:
                address = url
            new = issue_password(student)
            audit.record(session, audit.cli_actor(), "student.new_password", f"student:{student.key}")
            shown_id, name = student.student_id, student.name
            if out is not None:
                from itembank.paper.cards import render_login_cards

                pdf = render_login_cards([card_of(student, new)], language=language, test_title=title,
                                         address=address, access_code=code)
    except ItembankError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"New sign-in password of {shown_id}" + (f" ({name})" if name else "") + f": {new}")
    click.echo("The old password no longer works.")
    if out is not None and pdf is not None:
        out.write_bytes(pdf)
        click.echo(f"Wrote the login card to {out}.")


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
