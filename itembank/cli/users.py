"""CLI commands for accounts: ``itembank user create`` (the first administrator, and others)."""

from __future__ import annotations

import sys
from typing import Any

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


def _change(username: str, action: str, change: Any, detail: dict[str, Any]) -> None:
    from itembank.accounts.audit import cli_actor, record
    from itembank.accounts.users import UserError
    from itembank.db import transaction

    try:
        with transaction(open_bank()) as session:
            change(session)
            record(session, cli_actor(), action, f"user:{username}", detail)
    except UserError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None


@user.command("edit")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), help="A new role.")
@click.option("--city", metavar="CODE", help="Limit to this city ('' for all cities).")
@click.option("--school", metavar="CODE", help="Limit to this school ('' for none).")
@click.option("--name", "display_name", metavar="NAME", help="The name shown in the app.")
def edit(username: str, role: str | None, city: str | None, school: str | None,
         display_name: str | None) -> None:
    """Change USERNAME's role, city, school or name."""
    from itembank.accounts.users import edit_user

    detail = {k: v for k, v in (("role", role), ("city", city), ("school", school),
                                ("name", display_name)) if v is not None}
    if not detail:
        raise click.ClickException("nothing to change; see `itembank user edit --help`")
    _change(username, "user.edit", lambda s: edit_user(
        s, username, role=role, city=city, school=school, display_name=display_name), detail)
    click.echo(f"Changed {', '.join(sorted(detail))} of {username}.")


@user.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: no sign-in, and every signed-in browser is signed out now."""
    from itembank.accounts.users import set_active

    _change(username, "user.disable", lambda s: set_active(s, username, False), {})
    click.echo(f"Disabled {username}.")


@user.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable USERNAME again."""
    from itembank.accounts.users import set_active

    _change(username, "user.enable", lambda s: set_active(s, username, True), {})
    click.echo(f"Enabled {username}.")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (their signed-in browsers are signed out)."""
    from itembank.accounts.users import set_password

    if password_stdin:
        new = sys.stdin.readline().rstrip("\r\n")
    else:
        new = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _change(username, "user.password", lambda s: set_password(s, username, new), {})
    click.echo(f"New password set for {username}.")


COMMANDS: list[click.Command] = [user]
