"""CLI commands for accounts: ``itembank user create`` (the first administrator, and others)."""

from __future__ import annotations

import sys

import click

from itembank.accounts.roles import ROLES

from .database import open_bank


@click.group("user")
def user() -> None:
    """Accounts of people who log in to the web app."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@click.option("--city", metavar="CODE", help="Limit the user to this city (a roster city code).")
@click.option("--school", metavar="CODE", help="Limit the user to this school (a roster school code).")
@click.option("--name", "display_name", metavar="NAME", help="The name shown in the app.")
def create(username: str, role: str, password_stdin: bool, city: str | None, school: str | None,
           display_name: str | None) -> None:
    """Create the user USERNAME with ROLE; without --password-stdin the password is asked twice."""
    from itembank.accounts.users import UserError, create_user
    from itembank.db import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    factory = open_bank()
    try:
        with transaction(factory) as session:
            row = create_user(session, username, role, password, display_name=display_name,
                              city=city, school=school)
            created = (row.username, row.role)
    except UserError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    click.echo(f"Created user {created[0]} with role {created[1]}.")


COMMANDS: list[click.Command] = [user]
