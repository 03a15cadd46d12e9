"""CLI commands for tests students take: ``itembank test create|list|edit|open|close|archive``.

A duplicate access code (held by a test that is not archived) exits 1 naming the holder; every
change is recorded in the audit log as ``cli:<os user>``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from .database import open_bank

# practice: a fixed form of released units whose end page shows the keys (never research data)
MODES = {"cat": "adaptive", "fixed": "fixed", "practice": "practice"}


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _when(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"not a date and time: {value!r} (use e.g. 2026-12-01T08:00+08:00)")
        raise  # unreachable
    if moment.tzinfo is None:
        _fail(f"give the time zone of {value!r} (e.g. +08:00)")
    return moment


@click.group("test")
def test() -> None:
    """Tests students take: create, list, edit, open, close, archive."""


@test.command("create")
@click.argument("test_id")
@click.option("--code", help="Access code (6+ letters or digits); default: a generated one.")
@click.option("--attempts", type=click.IntRange(min=1), default=1, show_default=True,
              help="Attempts per student.")
@click.option("--unlimited", is_flag=True, help="Any number of attempts (like the demo).")
@click.option("--minutes", type=click.IntRange(min=1), help="Time limit in minutes.")
@click.option("--mode", type=click.Choice(sorted(MODES)), default="cat", show_default=True)
@click.option("--items", help="A fixed or practice test's item ids in order, comma-separated "
              "(a practice test takes items of released units only).")
@click.option("--title", help="The title (both languages, unless --title-zh is given).")
@click.option("--title-zh", help="The title in Traditional Chinese.")
@click.option("--opens", help="Opens at (ISO date and time with zone).")
@click.option("--closes", help="Closes at (ISO date and time with zone).")
@click.option("--questionnaire", "questionnaire_id", metavar="ID",
              help="End the test with this student questionnaire (imported with the bank, "
                   "e.g. GCQ-DEMO).")
def create(test_id: str, code: str | None, attempts: int, unlimited: bool, minutes: int | None,
           mode: str, items: str | None, title: str | None, title_zh: str | None,
           opens: str | None, closes: str | None, questionnaire_id: str | None = None) -> None:
    """Create the test TEST_ID."""
    from itembank.accounts.audit import cli_actor, record
    from itembank.db import transaction
    from itembank.delivery import sessions as delivery
    from itembank.delivery.models import Test

    try:
        access = delivery.check_access_code(code) if code else delivery.generate_access_code()
    except delivery.InvalidRequest as exc:
        raise click.ClickException(str(exc)) from None
    factory = open_bank()
    try:
        with transaction(factory) as session:
            if session.get(Test, test_id) is not None:
                _fail(f"there is already a test {test_id!r}; use `itembank test edit`")
            delivery.create_test(
                session, id=test_id,
                title={"zh-TW": title_zh or title or test_id, "en": title or test_id},
                access_code=access, kind=MODES[mode],
                items=[i.strip() for i in items.split(",") if i.strip()] if items else None,
                time_limit_minutes=minutes, opens_at=_when(opens), closes_at=_when(closes),
                max_attempts=None if unlimited else attempts, questionnaire_id=questionnaire_id,
            )
            record(session, cli_actor(), "test.create", f"test:{test_id}",
                   {"code": access, "mode": mode, "questionnaire": questionnaire_id})
    except delivery.DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created test {test_id} with access code {access}.")


def _row(t: Any) -> dict[str, Any]:
    mode = {"adaptive": "cat"}.get(t.kind, t.kind)
    return {
        "id": t.id, "status": t.status, "mode": mode,
        "access_code": t.access_code, "attempts": t.max_attempts,
        "minutes": t.time_limit_minutes,
        "opens_at": t.opens_at.isoformat() if t.opens_at else None,
        "closes_at": t.closes_at.isoformat() if t.closes_at else None,
        "title": t.title,
        "questionnaire": t.questionnaire_id,
    }


@test.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array).")
def list_(as_json: bool) -> None:
    """Every test with its status, code, attempts and time."""
    from sqlalchemy import select

    from itembank.delivery.models import Test

    with open_bank()() as session:
        rows = [_row(t) for t in session.scalars(select(Test).order_by(Test.id))]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        attempts = "unlimited" if r["attempts"] is None else r["attempts"]
        minutes = f"{r['minutes']} min" if r["minutes"] else "no limit"
        click.echo(f"{r['id']}\t{r['status']}\t{r['mode']}\t{r['access_code']}\t"
                   f"attempts {attempts}\t{minutes}")


@test.command("edit")
@click.argument("test_id")
@click.option("--code", help="A new access code.")
@click.option("--attempts", type=click.IntRange(min=1), help="Attempts per student.")
@click.option("--unlimited", is_flag=True, help="Any number of attempts.")
@click.option("--minutes", type=click.IntRange(min=1), help="Time limit in minutes.")
@click.option("--opens", help="Opens at (ISO date and time with zone; '' for none).")
@click.option("--closes", help="Closes at (ISO date and time with zone; '' for none).")
@click.option("--title", help="The English title.")
@click.option("--title-zh", help="The Traditional Chinese title.")
@click.option("--stop-se", type=float, help="CAT: stop when the SE of theta is at most this.")
@click.option("--min-items", type=click.IntRange(min=1), help="CAT: at least this many items.")
@click.option("--max-items", type=click.IntRange(min=1), help="CAT: at most this many items.")
@click.option("--report-min-items", type=click.IntRange(min=1),
              help="Report a score only with at least this many scored answers.")
@click.option("--report-max-se", type=float, help="Report a score only with at most this SE.")
@click.option("--pretest", type=click.IntRange(min=0),
              help="CAT: pretest units seeded into each session (0: none).")
@click.option("--pretest-after", help="CAT: operational items before the pretest units "
              "(one number, or one per unit: 3,8).")
@click.option("--questionnaire", "questionnaire_id", metavar="ID",
              help="End the test with this student questionnaire ('' for none).")
def edit(test_id: str, code: str | None, attempts: int | None, unlimited: bool,
         minutes: int | None, opens: str | None, closes: str | None, title: str | None,
         title_zh: str | None, stop_se: float | None, min_items: int | None,
         max_items: int | None, report_min_items: int | None,
         report_max_se: float | None, pretest: int | None = None,
         pretest_after: str | None = None, questionnaire_id: str | None = None) -> None:
    """Change TEST_ID: anything before its first session, then only window, time and attempts."""
    from itembank.accounts.audit import cli_actor
    from itembank.delivery import control
    from itembank.delivery import sessions as delivery
    from itembank.delivery.models import Test

    factory = open_bank()
    changes: dict[str, Any] = {}
    with factory() as session:
        current = session.get(Test, test_id)
        if current is None:
            _fail(f"there is no test {test_id!r}")
        assert current is not None
        if code is not None:
            try:
                changes["access_code"] = delivery.check_access_code(code)
            except delivery.InvalidRequest as exc:
                _fail(str(exc))
        if unlimited:
            changes["max_attempts"] = None
        elif attempts is not None:
            changes["max_attempts"] = attempts
        if minutes is not None:
            changes["time_limit_minutes"] = minutes
        if opens is not None:
            changes["opens_at"] = _when(opens)
        if closes is not None:
            changes["closes_at"] = _when(closes)
        if title is not None or title_zh is not None:
            changes["title"] = {**current.title, **({"en": title} if title else {}),
                                **({"zh-TW": title_zh} if title_zh else {})}
        if any(v is not None for v in (stop_se, min_items, max_items)):
            config = json.loads(json.dumps(current.cat_config or {}))
            stopping = config.setdefault("stopping", {})
            for key, value in (("se", stop_se), ("min_items", min_items),
                               ("max_items", max_items)):
                if value is not None:
                    stopping[key] = value
            changes["cat_config"] = config
        if pretest is not None or pretest_after is not None:
            config = changes.get("cat_config") or json.loads(json.dumps(current.cat_config or {}))
            seeding = config.setdefault("pretest", {})
            if pretest is not None:
                seeding["count"] = pretest
            if pretest_after is not None:
                try:
                    after = [int(x) for x in pretest_after.split(",")]
                except ValueError:
                    _fail(f"--pretest-after: whole numbers separated by commas, not "
                          f"{pretest_after!r}")
                seeding["after"] = after[0] if len(after) == 1 else after
            changes["cat_config"] = config
        if report_min_items is not None:
            changes["report_min_items"] = report_min_items
        if report_max_se is not None:
            changes["report_max_se"] = report_max_se
        if questionnaire_id is not None:
            changes["questionnaire_id"] = questionnaire_id or None
        if not changes:
            _fail("nothing to change; see `itembank test edit --help`")
        try:
            control.edit_test(session, test_id, cli_actor(), changes)
        except delivery.DeliveryError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Changed {', '.join(sorted(changes))} of test {test_id}.")


def _status_command(name: str, status: str, done: str) -> click.Command:
    @click.command(name)
    @click.argument("test_id")
    @click.option("--reason", help="Why (kept in the audit log).")
    def command(test_id: str, reason: str | None) -> None:
        from itembank.accounts.audit import cli_actor
        from itembank.delivery import control
        from itembank.delivery import sessions as delivery

        with open_bank()() as session:
            try:
                control.set_test_status(session, test_id, status, cli_actor(), reason=reason)
            except delivery.DeliveryError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"Test {test_id} {done}.")

    command.__doc__ = f"{done.capitalize()}: TEST_ID."
    command.help = {"open": "Open (or reopen) TEST_ID: students may start within its window.",
                    "closed": "Close TEST_ID now: nobody starts; open sessions may finish.",
                    "archived": "Archive TEST_ID: closed for good, its access code free again."}[status]
    return command


test.add_command(_status_command("open", "open", "is open"))
test.add_command(_status_command("close", "closed", "is closed"))
test.add_command(_status_command("archive", "archived", "is archived"))

COMMANDS: list[click.Command] = [test]
