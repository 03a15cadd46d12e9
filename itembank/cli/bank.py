"""CLI commands for the bank itself: init, validate, import, export, stats."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
