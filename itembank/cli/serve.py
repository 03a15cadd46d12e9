"""``itembank serve``: the web app under gunicorn (N workers), or Flask's development server with
--dev.  Workers keep no session state: any worker serves any request."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from .database import open_bank

APP = "webapp:create_app()"


def gunicorn_command() -> list[str]:
    """The venv's gunicorn beside this Python, else the one on PATH, else ``python -m``."""
    beside = Path(sys.executable).with_name("gunicorn")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("gunicorn")
    return [found] if found else [sys.executable, "-m", "gunicorn"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
@click.option("--dev", is_flag=True, help="Flask's development server (debugger, one process).")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the web app and the JSON API."""
    open_bank()  # a clear message if the database has no schema yet
    address = f"http://{host}:{port}/"
    if dev:
        from webapp import create_app

        click.echo(f"Development server on {address} (not for production)", err=True)
        create_app().run(host=host, port=port, debug=True, use_reloader=False)
        return
    command = [
        *gunicorn_command(),
        "--workers", str(workers),
        "--bind", f"{host}:{port}",
        "--access-logfile", "-",
        "--graceful-timeout", "10",
        "--pythonpath", str(Path(__file__).resolve().parents[2]),  # where webapp/ lives
        APP,
    ]  # fmt: skip
    click.echo(f"Serving on {address} with {workers} gunicorn worker(s)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


COMMANDS = [serve]
